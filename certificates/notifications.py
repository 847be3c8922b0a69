"""E-mails to the member who made a request: one on each change, in the language that
login uses, with the site's one subject style. Never 記号・番号 (R9)."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from core.email import languages_of, subject
from core.email_language import render_in
from eligibility.models import EmployerContact
from eligibility.selectors import logins_seeing, verified_email

log = logging.getLogger(__name__)


def _recipients(req) -> list[tuple[int, str]]:
    """(login id, address) written to: the login that asked; for a request filed via the
    事業所 (R12) the member's logins that see the person (``logins_seeing``: the one rule)."""
    if req.via_employer_id is not None and req.requested_by is None:
        return [(login.user_id, login.email) for login in logins_seeing([req.person])[req.person_id]]
    address = verified_email(req.requested_by)  # the one rule: an active login, a verified address
    return [(req.requested_by.pk, address)] if address else []


def _send(req, *, template: str, subject_text) -> None:
    recipients = _recipients(req)
    if not recipients:
        return
    context = {
        "req": req,
        "society": req.person.household.society,
        "url": settings.SITE_URL.rstrip("/") + reverse("certificates:request_detail", args=[req.pk]),
    }

    def render():
        return subject(subject_text(req)), render_to_string(template, context)

    languages = languages_of([user_id for user_id, _address in recipients])
    for user_id, address in recipients:
        title, body = render_in(languages.get(user_id), render)
        try:
            send_mail(title, body, None, [address])
        except Exception:  # the change itself is saved; the member also sees it on the site
            log.exception("could not send the request e-mail (request %s)", req.pk)


def request_changed(req) -> None:
    _send(req, template="certificates/email/request_changed.txt",
          subject_text=lambda r: _("資格確認書の交付申請：%(status)s") % {"status": r.get_status_display()})


def certificate_mailed(req) -> None:
    _send(req, template="certificates/email/certificate_mailed.txt",
          subject_text=lambda r: _("資格確認書を発送しました"))


def packet_unconfirmed(packet) -> None:
    """To each active contact of the packet's 事業所: items still unconfirmed (counts only)."""
    context = {
        "packet": packet,
        "url": settings.SITE_URL.rstrip("/") + reverse("employer:packet", args=[packet.employer_id, packet.pk]),
    }
    contacts = EmployerContact.objects.filter(employers=packet.employer, removed_at__isnull=True,
                                              user__is_active=True).select_related("user")
    for contact in contacts:
        address = verified_email(contact.user)  # an invitation never accepted gets no reminder
        if address is None:
            continue
        def render(contact=contact):
            return (subject(_("資格確認書の受け渡しの記録をお願いします")),
                    render_to_string("certificates/email/packet_unconfirmed.txt", {**context, "contact": contact}))

        title, body = render_in(languages_of([contact.user_id]).get(contact.user_id), render)
        try:
            send_mail(title, body, None, [address])
        except Exception:  # tried again at the next reminder
            log.exception("could not send the packet reminder (packet %s)", packet.pk)
