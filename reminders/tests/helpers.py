"""Building people whose effective expiry is a given day."""

from datetime import date

from tests.factories import CardFactsFactory, HouseholdFactory, PersonFactory


def person_expiring(expiry: date, *, household=None, registered: bool = True, **person_fields):
    """A registered card whose e-certificate (the earlier of the two) ends on ``expiry``."""
    household = household or HouseholdFactory()
    fields = {"branch_number": "00", **person_fields}
    person = PersonFactory(household=household, **fields)
    CardFactsFactory(person=person, ecert_expires_on=expiry, card_expires_on=date(expiry.year + 5, 1, 1),
                     registered=registered)
    return person
