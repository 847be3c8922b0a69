"""The printed fields of a 資格確認書 (R8), frozen at issue into ``EligibilityCertificate.snapshot``.

The PDF is rendered from the snapshot only, so a certificate printed again later
shows exactly what was issued, whatever changed in the register since.
"""

from datetime import date

from django.conf import settings

from eligibility import rules
from eligibility.models import Household, Person


def delivery_route_for(household: Household) -> str:
    from .models import DeliveryRoute

    if household.voluntary_continuation or household.employer_id is None:
        return DeliveryRoute.POST
    return DeliveryRoute.EMPLOYER


def build_snapshot(
    *, person: Person, insured: Person | None, serial: str, issued_on: date, valid_until: date
) -> dict:
    """Every field printed on the certificate, as plain JSON (dates as ISO strings).

    ``person.household`` with its ``society`` and ``employer`` must be loaded;
    ``insured`` is the household's insured person (被保険者), for a dependent's card.
    """
    household = person.household
    society = household.society
    age = rules.age_on(person.birth_date, issued_on)
    elderly = age >= rules.ELDERLY_AGE  # R8: ages 70–74 get the co-payment ratio printed
    return {
        "serial": serial,
        "name": person.name_for_print,
        "name_kana": person.name_kana,
        "birth_date": person.birth_date.isoformat(),
        "sex": str(Person.Sex(person.sex).label),
        "symbol": household.symbol,
        "number": household.number,
        "branch_number": person.branch_number,
        "insurer_number": society.insurer_number,
        "insurer_name": society.name,
        "insurer_address": society.address,
        "insurer_phone": society.phone,
        "issued_on": issued_on.isoformat(),
        "valid_until": valid_until.isoformat(),
        "eligible_from": person.eligible_from.isoformat(),
        "is_insured_person": person.is_insured_person,
        "insured_name": "" if person.is_insured_person or insured is None else insured.name_for_print,
        "copay_ratio": settings.KENPO_ELDERLY_COPAY_RATIO if elderly else "",
        "copay_from": rules.copay_effective_from(person.birth_date).isoformat() if elderly else "",
        # R8: the insured person's 事業所名称, not for 任意継続 (no employer any more).
        "employer_name": household.employer.name if household.employer_id and not household.voluntary_continuation
        else "",
        "voluntary_continuation": household.voluntary_continuation,
        "delivery_route": delivery_route_for(household),
        "postal_code": household.postal_code,
        "address": household.address,
    }
