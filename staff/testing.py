"""Test helpers for staff logins: a staff user in a role, and a session that passed MFA.

Any test that opens /admin/ or /staff/ needs ``login_with_mfa`` (or a real login
through allauth's MFA stage): the staff gate (staff.access) refuses everything else.

Only allauth's public API is used (its models, its adapter, the session key it
exports): TOTP codes are computed here from RFC 6238, independently of allauth, so
a test that logs in with one also proves allauth accepts a real authenticator's code.
"""

import base64
import hashlib
import hmac
import secrets
import struct
import time

from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.models import EmailAddress
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.forms import NullBooleanSelect

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
        user.totp_secret = base64.b32encode(secrets.token_bytes(20)).decode()
        # Stored as allauth stores it: encrypted by the MFA adapter (core.adapters).
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": get_mfa_adapter().encrypt(user.totp_secret)}
        )
    return user


def hotp(secret: str, counter: int, *, digits: int = 6) -> str:
    """RFC 4226: the one-time code of ``secret`` (base32) for ``counter``."""
    digest = hmac.new(base64.b32decode(secret, casefold=True), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}}"


def totp_code(user, *, offset: int = 0) -> str:
    """The current TOTP code (RFC 6238, 30 s) of ``user`` (``offset`` periods away)."""
    return hotp(user.totp_secret, int(time.time()) // 30 + offset)


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
        if isinstance(form.fields[name].widget, NullBooleanSelect):  # e.g. CardFacts.has_card (None: unknown)
            data[key] = {True: "true", False: "false"}.get(value, "unknown")
            continue
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
