"""Logins, failed logins and logouts go to the audit log, with the address.

The typed password is never kept; on a failed login the identifier typed is kept
only when it is the e-mail address of an existing login, else as a hash
(``services.login_identifier``).
A wrong MFA code counts as a failed login too. A login names the second factor it
used (a recovery code is worth knowing about), and a login's own changes to its
factors — a device added or removed, recovery codes made anew — are recorded
(issue 24, 4); reading or downloading the recovery codes is recorded by
``audit.middleware.RecoveryCodesReadMiddleware``.
"""

from allauth.account.authentication import get_authentication_records
from allauth.mfa.signals import authentication_failed as mfa_authentication_failed
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .models import AuditEntry
from .services import login_identifier, record

FACTOR_NAMES = {"totp": "認証アプリ", "recovery_codes": "リカバリーコード", "webauthn": "セキュリティキー"}


def _second_factor(request, user) -> str | None:
    used = [r.get("type") for r in get_authentication_records(request, user) if r.get("method") == "mfa"]
    return str(used[-1]) if used else None


@receiver(user_logged_in, dispatch_uid="audit.login")
def _logged_in(sender, request, user, **kwargs):
    factor = _second_factor(request, user) if request is not None else None
    record(action=AuditEntry.Action.LOGIN, request=request, actor=user,
           summary=f"ログイン（{FACTOR_NAMES.get(factor, factor)}）" if factor else "ログイン",
           details={"second_factor": factor} if factor else None)


def _factor_changed(request, user, authenticator, what: str) -> None:
    kind = str(authenticator.type)
    record(action=AuditEntry.Action.CHANGE, request=request, actor=user,
           summary=f"多要素認証：{FACTOR_NAMES.get(kind, kind)}を{what}", details={"mfa": kind})


@receiver(authenticator_added, dispatch_uid="audit.mfa_added")
def _mfa_added(sender, request, user, authenticator, **kwargs):
    _factor_changed(request, user, authenticator, "追加")


@receiver(authenticator_removed, dispatch_uid="audit.mfa_removed")
def _mfa_removed(sender, request, user, authenticator, **kwargs):
    _factor_changed(request, user, authenticator, "削除")


@receiver(authenticator_reset, dispatch_uid="audit.mfa_reset")
def _mfa_reset(sender, request, user, authenticator, **kwargs):
    _factor_changed(request, user, authenticator, "作り直し")


@receiver(user_logged_out, dispatch_uid="audit.logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(action=AuditEntry.Action.LOGOUT, request=request, actor=user, summary="ログアウト")


@receiver(user_login_failed, dispatch_uid="audit.login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    # Only the identifier: Django already masks the password, and we keep none of it.
    typed = credentials.get("email") or credentials.get("username") or credentials.get("login") or ""
    record(
        action=AuditEntry.Action.LOGIN_FAILED,
        request=request,
        summary="ログイン失敗（パスワード）",
        details={"login": login_identifier(typed)},
    )


@receiver(mfa_authentication_failed, dispatch_uid="audit.mfa_failed")
def _mfa_failed(sender, request, user, **kwargs):
    record(
        action=AuditEntry.Action.LOGIN_FAILED,
        request=request,
        actor=user,
        summary="ログイン失敗（二要素認証のコード）",
        details={"login": user.email, "reauthentication": bool(kwargs.get("reauthentication"))},
    )
