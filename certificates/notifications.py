"""E-mails to the member who made a request: one on each change. Never 記号・番号 (R9)."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

log = logging.getLogger(__name__)


def _send(req, *, template: str, subject: str) -> None:
    user = req.requested_by
    if user is None or not user.email:
        return
    with translation.override("ja"):
        body = render_to_string(template, {
            "req": req,
            "url": settings.SITE_URL.rstrip("/") + reverse("certificates:request_detail", args=[req.pk]),
        })
    try:
        send_mail(f"[けんぽポータル] {subject}", body, None, [user.email])
    except Exception:  # the change itself is saved; the member also sees it on the site
        log.exception("could not send the request e-mail (request %s)", req.pk)


def request_changed(req) -> None:
    _send(req, template="certificates/email/request_changed.txt",
          subject=f"資格確認書の交付申請：{req.get_status_display()}")


def certificate_mailed(req) -> None:
    _send(req, template="certificates/email/certificate_mailed.txt", subject="資格確認書を発送しました")
