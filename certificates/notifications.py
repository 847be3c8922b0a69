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
from eligibility.selectors import verified_email

log = logging.getLogger(__name__)


def _send(req, *, template: str, subject_text) -> None:
    user = req.requested_by
    address = verified_email(user)  # the one rule: an active login, a verified address
    if address is None:
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
        send_mail(title, body, None, [address])
    except Exception:  # the change itself is saved; the member also sees it on the site
        log.exception("could not send the request e-mail (request %s)", req.pk)


def request_changed(req) -> None:
    _send(req, template="certificates/email/request_changed.txt",
          subject_text=lambda r: _("資格確認書の交付申請：%(status)s") % {"status": r.get_status_display()})


def certificate_mailed(req) -> None:
    _send(req, template="certificates/email/certificate_mailed.txt",
          subject_text=lambda r: _("資格確認書を発送しました"))
