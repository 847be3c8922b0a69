"""R11: people already aged 75 have left the society (後期高齢者医療 began on their 75th
birthday), whatever the roster says: their certificates still in force are void, with
the reason 資格喪失.

Self-contained on purpose: the date logic and the values are written out here, so
this migration does the same thing whatever the app code becomes later.
"""

import calendar
from datetime import date

from django.db import migrations
from django.utils import timezone

LATE_ELDERLY_AGE = 75
VOID = "void"
ELIGIBILITY_ENDED = "eligibility_ended"  # 資格喪失


def _years_before(day: date, years: int) -> date:
    """``day`` ``years`` earlier; Feb 29 becomes Feb 28 — so someone born Feb 29 turns 75
    on Mar 1 in a common year (born on or before this date ⇔ aged ``years`` on ``day``)."""
    year = day.year - years
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def void_certificates_of_people_aged_75(apps, schema_editor):
    void_as_of(apps, today=timezone.localdate())  # today in Japan (TIME_ZONE is Asia/Tokyo)


def void_as_of(apps, *, today: date) -> int:
    EligibilityCertificate = apps.get_model("certificates", "EligibilityCertificate")
    return (
        EligibilityCertificate.objects.filter(
            person__birth_date__lte=_years_before(today, LATE_ELDERLY_AGE), valid_until__gte=today
        )
        .exclude(status=VOID)
        .update(status=VOID, voided_at=timezone.now(), void_reason=ELIGIBILITY_ENDED)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0005_ex_officio_bases_r6"),
        ("eligibility", "0004_r3_r6_r8_roster_facts"),
    ]

    operations = [
        migrations.RunPython(void_certificates_of_people_aged_75, migrations.RunPython.noop, elidable=True),
    ]
