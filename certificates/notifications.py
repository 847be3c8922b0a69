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
from eligibility.models import EmployerContact, MemberLink

log = logging.getLogger(__name__)


def _recipient(req):
    """Who is written to: the login that asked; for a request filed via the 事業所 (R12),
    the member's own login that sees the person (the insured person's first)."""
    if req.requested_by is not None or req.via_employer_id is None:
        return req.requested_by
    links = MemberLink.objects.filter(person__household_id=req.person.household_id).select_related("person", "user")
    seeing = [link for link in links if link.sees_household or link.person_id == req.person_id]
    seeing.sort(key=lambda link: (not link.person.is_insured_person, link.pk))
    return seeing[0].user if seeing else None


def _send(req, *, template: str, subject_text) -> None:
    user = _recipient(req)
    if user is None or not user.email:
        return
    context = {
        "req": req,
        "society": req.person.household.society,
        "url": settings.SITE_URL.rstrip("/") + reverse("certificates:request_detail", args=[req.pk]),
    }

    def render():
        return subject(subject_text(req)), render_to_string(template, context)

    title, body = render_in(languages_of([user.pk]).get(user.pk), render)
    try:
        send_mail(title, body, None, [user.email])
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
        def render(contact=contact):
            return (subject(_("資格確認書の受け渡しの記録をお願いします")),
                    render_to_string("certificates/email/packet_unconfirmed.txt", {**context, "contact": contact}))

        title, body = render_in(languages_of([contact.user_id]).get(contact.user_id), render)
        try:
            send_mail(title, body, None, [contact.user.email])
        except Exception:  # tried again at the next reminder
            log.exception("could not send the packet reminder (packet %s)", packet.pk)
