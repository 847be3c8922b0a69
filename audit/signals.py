"""Logins, failed logins and logouts go to the audit log, with the address.

The typed password is never kept; on a failed login the identifier typed is kept
only when it is the e-mail address of an existing login, else as a hash
(``services.login_identifier``).
A wrong MFA code counts as a failed login too.
"""

from allauth.mfa.signals import authentication_failed as mfa_authentication_failed
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .models import AuditEntry
from .services import login_identifier, record


@receiver(user_logged_in, dispatch_uid="audit.login")
def _logged_in(sender, request, user, **kwargs):
    record(action=AuditEntry.Action.LOGIN, request=request, actor=user, summary="ログイン")


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
