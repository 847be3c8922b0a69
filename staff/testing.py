"""Test helpers for staff logins: a staff user in a role, and a session that passed MFA.

Any test that opens /admin/ or /staff/ needs ``login_with_mfa`` (or a real login
through allauth's MFA stage): StaffMFARequiredMiddleware refuses everything else.
"""

import time

from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from .roles import sync_roles

PASSWORD = "staff-Correct-horse-9"  # noqa: S105 (test data)


def make_staff(*, role: str | None, email: str, superuser: bool = False, with_totp: bool = True):
    """A verified staff login in ``role`` (a group of staff.roles), with a TOTP device.

    The TOTP secret is kept on ``user.totp_secret`` so a test can compute codes.
    """
    User = get_user_model()
    user = User.objects.create_user(
        username=email.split("@")[0], email=email, password=PASSWORD, is_staff=True, is_superuser=superuser
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if role:
        if not Group.objects.filter(name=role).exists():
            sync_roles()
        user.groups.add(Group.objects.get(name=role))
    user.totp_secret = None
    if with_totp:
        user.totp_secret = generate_totp_secret()
        TOTP.activate(user, user.totp_secret)
    return user


def totp_code(user, *, offset: int = 0) -> str:
    """The current TOTP code of ``user`` (``offset`` periods away)."""
    return format_hotp_value(hotp_value(user.totp_secret, int(time.time()) // 30 + offset))


def login_with_mfa(client, user) -> None:
    """Log ``client`` in as ``user`` with a session that records password and TOTP,
    as allauth does after its MFA stage."""
    client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    session = client.session
    now = time.time()
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": now, "email": user.email},
        {"method": "mfa", "at": now, "type": "totp"},
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


def _form_values(form, data: dict) -> None:
    for name in form.fields:
        value = form[name].value()
        key = form.add_prefix(name)
        if value is None or value is False:
            continue
        if value is True:
            data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = [str(v) for v in value]
        else:
            data[key] = str(value)


def admin_form_data(response, **changes) -> dict:
    """POST data reproducing an admin change form as rendered (inlines included),
    with ``changes`` applied: enough to save a change page in a test."""
    data: dict = {}
    _form_values(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _form_values(formset.management_form, data)
        for form in formset.forms:
            _form_values(form, data)
    data.update(changes)
    return data
