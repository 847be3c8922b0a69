"""Writes of the notices app: announce a new お知らせ when one is due (R10: on joining,
and when a printed item changes), and mark paper copies printed."""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.email import subject
from core.email_language import render_in
from eligibility.models import Person
from eligibility.selectors import Login, logins_seeing

from .items import digest, notice_items
from .models import NoticeRecord

log = logging.getLogger(__name__)

# (policy) A person first seen by this app who joined within this many days is a new
# member and is told; anyone older is recorded silently (no e-mail to the whole society
# on the day the app is deployed).
JOINED_RECENTLY_DAYS = 60


def announce(*, person_ids, today: date) -> int:
    """For each eligible person whose printed items differ from the last announced ones,
    record the new digest and e-mail the logins that see them. Returns e-mails sent.

    Set-based (issue 26: the first-ever pass over 294,330 persons wrote one
    ``update_or_create`` each, 58 persons/s): the digests are computed in Python, then the
    changed records are written in one ``INSERT … ON CONFLICT DO UPDATE`` per kind (told,
    recorded silently) and the recipients of all the told persons read in one query. A
    record is written before its e-mail, as before: a worker killed between the two leaves
    the persons of that call recorded and not e-mailed (at most one call's told persons; the
    お知らせ is on the site all the same), never e-mailed twice."""
    persons = list(Person.objects.filter(pk__in=list(person_ids)).select_related("household__society")
                   .prefetch_related("household__persons"))
    digests = dict(NoticeRecord.objects.filter(person_id__in=[p.pk for p in persons])
                   .values_list("person_id", "items_digest"))
    now = timezone.now()
    told, silent = [], []
    for person in persons:
        if not person.is_eligible_on(today):
            continue
        new = digest(notice_items(person, today=today))
        old = digests.get(person.pk)
        if old == new:
            continue
        tell = old is not None or person.eligible_from >= today - timedelta(days=JOINED_RECENTLY_DAYS)
        (told if tell else silent).append((person, new))
    # Exactly what ``update_or_create`` wrote: the digest and its time, and the time of the
    # e-mail only for those told (a silent record keeps the notified_at it has, or none).
    for rows, fields in ((silent, ["items_digest", "available_since"]),
                         (told, ["items_digest", "available_since", "notified_at"])):
        if rows:
            NoticeRecord.objects.bulk_create(
                [NoticeRecord(person_id=person.pk, items_digest=new, available_since=now,
                              notified_at=now if rows is told else None) for person, new in rows],
                update_conflicts=True, unique_fields=["person"], update_fields=fields)
    if not told:
        return 0
    seeing = logins_seeing([person for person, _new in told])
    return sum(_email(person, seeing[person.pk]) for person, _new in told)


def _email(person: Person, logins: list[Login]) -> int:
    url = settings.SITE_URL.rstrip("/") + reverse("notices:index")
    sent = 0
    for login in logins:
        def render():
            return (subject(_("資格情報のお知らせ（%(name)sさん）をダウンロードできます") % {"name": person.given_name}),
                    render_to_string("notices/email/available.txt",
                                     {"person": person, "url": url, "society": person.household.society}))

        title, body = render_in(login.language, render)
        try:
            send_mail(title, body, None, [login.email])
            sent += 1
        except Exception:  # the お知らせ is on the site all the same
            log.exception("could not send the notice e-mail (person %s)", person.pk)
    return sent


def mark_paper_printed(*, person_ids) -> int:
    return NoticeRecord.objects.filter(person_id__in=list(person_ids)).update(paper_printed_at=timezone.now())
