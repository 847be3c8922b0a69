"""Employer contacts (事業所担当者, RULES.md R12): invite, accept, remove, and the one
"which people may this contact see" rule.

A contact sees only the people of its own 事業所: households whose employer is one of
the contact's, never 任意継続 (they deal with the society directly, R8). Anything else is
a 404, never a 403 that would confirm it exists.
"""

import logging
import secrets
from datetime import date

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from audit.models import AuditEntry
from audit.services import record
from core.email import subject

from .models import Employer, EmployerContact, Person
from .selectors import eligible_on

log = logging.getLogger(__name__)


class ContactRefused(Exception):
    """An invitation that cannot be made (the address already has a login)."""


def contact_for(user) -> EmployerContact | None:
    """The active employer contact behind this login, or None (members, staff, removed contacts)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return (EmployerContact.objects.filter(user=user, removed_at__isnull=True)
            .prefetch_related("employers").first())


def employer_for_contact(contact: EmployerContact, employer_id) -> Employer:
    """One of the contact's own 事業所, or 404."""
    try:
        return contact.employers.get(pk=employer_id)
    except (Employer.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def employees_of(employer: Employer) -> Q:
    """Persons of ``employer``'s households, never 任意継続 (as a filter on Person)."""
    return Q(household__employer=employer, household__voluntary_continuation=False)


def current_people(employer: Employer, *, day: date) -> QuerySet[Person]:
    """The 事業所's insured persons and dependents with eligibility on ``day``: who a contact
    may file an application for (a former employee only ever appears on the 回収 list)."""
    return Person.objects.filter(employees_of(employer) & eligible_on(day)).select_related("household")


def person_for_contact(employer: Employer, pk, *, day: date) -> Person:
    try:
        return current_people(employer, day=day).get(pk=pk)
    except (Person.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _invitation_url(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL.rstrip("/") + reverse("employer:accept", args=[uid, token])


def send_invitation(contact: EmployerContact) -> None:
    """The invitation e-mail: a one-time link to set a password (then TOTP at first sign-in).
    Sent again by staff when it expired (the token lasts PASSWORD_RESET_TIMEOUT)."""
    context = {
        "contact": contact,
        "employers": list(contact.employers.all()),
        "url": _invitation_url(contact.user),
        "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    body = render_to_string("eligibility/email/employer_invitation.txt", context)
    try:
        send_mail(subject(_("事業所担当者としてのご招待")), body, None, [contact.user.email])
    except Exception:  # the contact exists; staff can send the invitation again
        log.exception("could not send the employer contact invitation (contact %s)", contact.pk)


def email_has_login(email: str) -> bool:
    email = email.strip()
    return (get_user_model().objects.filter(email__iexact=email).exists()
            or EmailAddress.objects.filter(email__iexact=email).exists())


@transaction.atomic
def contact_invite(*, email: str, name: str, employers, by, request: HttpRequest | None = None) -> EmployerContact:
    """Create the contact's login (no usable password yet) and e-mail the invitation."""
    email = email.strip()
    User = get_user_model()
    if email_has_login(email):
        raise ContactRefused(_("このメールアドレスのログインはすでにあります。別のアドレスで招待してください。"))
    user = User(username=f"employer-{secrets.token_hex(8)}", email=email)
    user.set_unusable_password()
    user.save()
    EmailAddress.objects.create(user=user, email=email, verified=False, primary=True)
    contact = EmployerContact.objects.create(user=user, name=name, invited_by=by)
    contact.employers.set(employers)
    record(action=AuditEntry.Action.CHANGE, request=request, actor=by, obj=contact,
           summary="事業所担当者を招待", details={"employers": [e.pk for e in contact.employers.all()]})
    transaction.on_commit(lambda: send_invitation(contact))
    return contact


def contact_accepted(*, user) -> None:
    """The contact set a password through the invitation link: the address is proven."""
    EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)
    record(action=AuditEntry.Action.CHANGE, actor=user, obj=user.employer_contact, summary="招待を受けてパスワードを設定")


@transaction.atomic
def contact_remove(*, contact: EmployerContact, by, request: HttpRequest | None = None) -> None:
    """Removed by staff: the login can no longer sign in (kept: the audit log names it)."""
    EmployerContact.objects.filter(pk=contact.pk, removed_at__isnull=True).update(removed_at=timezone.now(),
                                                                                   removed_by=by)
    get_user_model().objects.filter(pk=contact.user_id).update(is_active=False)
    record(action=AuditEntry.Action.CHANGE, request=request, actor=by, obj=contact, summary="事業所担当者を削除")
