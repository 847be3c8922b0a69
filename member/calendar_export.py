"""The household's key dates as an iCalendar file a phone calendar imports (RFC 5545)."""

from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event

from eligibility.ending import end_of
from eligibility.models import Person

from .situation import key_dates as person_key_dates
from .situation import status_of

PRODID = "-//Kenpo Portal//Eligibility dates//JA"


# When each event rings (RFC 5545 TRIGGER, relative to the all-day event's start, 0:00):
# 9:00 on the day renewal opens and on the expiry; 9:00 two weeks before grace ends; 9:00
# a month before the last day of eligibility (time to get the next insurance ready).
ALARMS = {
    "renewal-opens": timedelta(hours=9),
    "expiry": timedelta(hours=9),
    "grace-ends": timedelta(days=-14, hours=9),
    "eligibility-ends": timedelta(days=-30, hours=9),
}


def key_dates(person: Person, *, today: date) -> list[tuple[str, date, str]]:
    """(kind, day, summary) of the person's dates as the dashboard's timeline has them
    (``situation.key_dates``: the card's dates only when its status has them, R5; the
    end of eligibility), each summary with the person's name."""
    facts = getattr(person, "card", None)
    events = person_key_dates(status=status_of(person, today=today), facts=facts, end=end_of(person, today=today))
    return [(kind, day, _("%(name)s：%(label)s") % {"name": person.given_name, "label": label})
            for kind, day, label in events]


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
        for kind, day, summary in key_dates(person, today=today):
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
