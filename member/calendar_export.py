"""The household's key dates as an iCalendar file a phone calendar imports (RFC 5545)."""

from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event

from eligibility.models import CardFacts, Person

from .situation import expiring_thing

PRODID = "-//Kenpo Portal//Eligibility dates//JA"


def _facts(person: Person) -> CardFacts | None:
    try:
        return person.card
    except CardFacts.DoesNotExist:
        return None


# When each event rings (RFC 5545 TRIGGER, relative to the all-day event's start, 0:00):
# 9:00 on the day renewal opens and on the expiry; 9:00 two weeks before grace ends.
ALARMS = {
    "renewal-opens": timedelta(hours=9),
    "expiry": timedelta(hours=9),
    "grace-ends": timedelta(days=-14, hours=9),
}


def key_dates(person: Person) -> list[tuple[str, date, str]]:
    """(kind, day, summary) for renewal opens, expiry and grace end, from the derived dates."""
    facts = _facts(person)
    if facts is None or not facts.has_card or facts.effective_expires_on is None:
        return []
    values = {"name": person.given_name, "thing": expiring_thing(facts)}
    return [
        ("renewal-opens", facts.renewal_opens_on, _("%(name)s：%(thing)sの更新受付開始") % values),
        ("expiry", facts.effective_expires_on, _("%(name)s：%(thing)sの有効期限（この日まで）") % values),
        ("grace-ends", facts.grace_ends_on,
         _("%(name)s：猶予期間の終わり（この日まで。翌日に保険証としての利用登録が取り消されます）") % values),
    ]


def household_calendar(persons: list[Person], *, today: date) -> bytes:
    """All-day events for each person's key dates, each still to come with an alarm (``ALARMS``)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _("けんぽポータル：マイナ保険証の期限"))
    cal.add("x-wr-timezone", "Asia/Tokyo")
    stamp = timezone.now()
    for person in persons:
        if not person.is_eligible_on(today):
            continue  # no longer (or not yet) a member here: not ours to remind
        for kind, day, summary in key_dates(person):
            event = Event()
            # Stable per person, kind and day: importing again updates instead of duplicating.
            event.add("uid", f"{kind}-{day.isoformat()}-p{person.pk}@kenpo-portal")
            event.add("dtstamp", stamp)
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add("summary", summary)
            event.add("transp", "TRANSPARENT")
            if day + timedelta(days=ALARMS[kind].days) >= today:  # an alarm already past would ring at once
                alarm = Alarm()
                alarm.add("action", "DISPLAY")
                alarm.add("description", summary)
                alarm.add("trigger", ALARMS[kind])
                event.add_component(alarm)
            cal.add_component(event)
    return cal.to_ical()
