"""The card facts form: possible dates only, the R2 candidates that fit the person, one language per message."""

from datetime import date

import pytest

from eligibility.models import CardFacts
from member.forms import CardFactsForm, LinkForm
from tests.factories import CardFactsFactory, PersonFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 9, 1)


def _form(person, **data):
    base = {"has_card": "yes", "card_expires_on": "2031-11-14", "ecert_choice": "stated",
            "ecert_expires_on": "2026-11-14", "registered": "yes", "uses_smartphone": "no"}
    return CardFactsForm({**base, **data}, person=person, today=TODAY)


@pytest.fixture
def person():
    return PersonFactory(birth_date=date(1985, 11, 14))


def test_it_accepts_possible_dates(person):
    form = _form(person)
    assert form.is_valid(), form.errors
    assert form.changes(None)["ecert_expires_on"] == date(2026, 11, 14)


def test_it_refuses_an_expiry_before_birth(person):
    form = _form(person, card_expires_on="1980-11-14", ecert_choice="unknown")
    assert not form.is_valid()
    message = form.errors["card_expires_on"][0]
    assert "生年月日より前" in message and " / " not in message  # one language per message


def test_it_refuses_a_card_expiry_that_is_not_a_birthday(person):
    form = _form(person, card_expires_on="2031-11-15", ecert_choice="unknown")
    assert not form.is_valid()
    assert "誕生日" in form.errors["card_expires_on"][0]


def test_it_takes_feb_28_as_the_birthday_of_a_feb_29_person_in_common_years():
    leapling = PersonFactory(birth_date=date(2000, 2, 29))
    assert _form(leapling, card_expires_on="2033-02-28", ecert_choice="unknown").is_valid()
    assert _form(leapling, card_expires_on="2032-02-29", ecert_choice="unknown").is_valid()
    assert not _form(leapling, card_expires_on="2032-02-28", ecert_choice="unknown").is_valid()


def test_it_refuses_an_ecert_that_outlives_the_card(person):
    form = _form(person, card_expires_on="2026-11-14", ecert_expires_on="2031-11-14")
    assert not form.is_valid()
    assert "より後にはなりません" in form.errors["ecert_expires_on"][0]


def test_it_refuses_an_ecert_that_is_neither_of_the_cards_candidates(person):
    # Card 2031-11-14 issued to an adult: the certificate ends 2026-11-14 or 2031-11-14 (R2).
    form = _form(person, card_expires_on="2031-11-14", ecert_expires_on="2028-11-14")
    assert not form.is_valid()
    assert "のはずです" in form.errors["ecert_expires_on"][0]
    assert _form(person, card_expires_on="2031-11-14", ecert_expires_on="2031-11-14").is_valid()


def test_a_minor_is_never_offered_the_adult_only_five_years_before(db):
    child = PersonFactory(birth_date=date(2017, 6, 15), relationship="child", branch_number="03")
    form = CardFactsForm(person=child, today=date(2026, 12, 1))
    assert "five_years_before" not in [value for value, _label in form.fields["ecert_choice"].choices]
    # A child's card (issued under 18) ends with its certificate: only the card's date fits.
    posted = _form(child, card_expires_on="2029-06-15", ecert_expires_on="2024-06-15")
    assert not posted.is_valid()


def test_it_refuses_an_expiry_too_far_ahead(person):
    assert not _form(person, card_expires_on="2045-11-14", ecert_choice="unknown").is_valid()


def test_it_needs_the_card_expiry_to_pick_a_candidate(person):
    form = _form(person, card_expires_on="", ecert_choice="same_as_card")
    assert not form.is_valid()
    assert "card_expires_on" in form.errors


@pytest.mark.parametrize(("choice", "expected"), [("five_years_before", date(2026, 11, 14)),
                                                  ("same_as_card", date(2031, 11, 14)), ("unknown", None)])
def test_a_candidate_becomes_the_ecert_expiry(person, choice, expected):
    form = _form(person, ecert_choice=choice, ecert_expires_on="")
    assert form.is_valid(), form.errors
    changes = form.changes(None)
    assert changes["ecert_expires_on"] == expected and changes["ecert_source"] == choice


def test_no_card_clears_the_dates_and_refuses_a_registration(person):
    assert not _form(person, has_card="no", registered="yes").is_valid()
    form = _form(person, has_card="no", registered="no")
    assert form.is_valid()
    assert form.changes(None)["card_expires_on"] is None


def test_an_unchanged_registration_keeps_its_source(person):
    facts = CardFactsFactory(person=person, registered=True,
                             registration_source=CardFacts.RegistrationSource.NATIONAL_FILE)
    form = _form(person)
    assert form.is_valid()
    assert "registration_source" not in form.changes(facts)


def test_the_link_form_reads_full_width_digits():
    form = LinkForm({"symbol": "０１２３４", "number": "５６-７８", "branch_number": "０", "birth_date": "1985/11/14",
                     "code": "abcd-efgh-jkmn"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["symbol"] == "01234" and form.cleaned_data["number"] == "5678"


def test_the_link_form_asks_for_a_date_it_can_read():
    form = LinkForm({"symbol": "1", "number": "2", "branch_number": "00", "birth_date": "昭和60年", "code": "x"})
    assert not form.is_valid()
    assert "2026-11-14" in form.errors["birth_date"][0]


@pytest.mark.parametrize("field", ["symbol", "number", "code"])
def test_the_link_form_refuses_a_my_number_in_any_field(field):
    from member.forms import LinkForm

    data = {"symbol": "1234", "number": "5678", "branch_number": "00", "birth_date": "1985-11-14",
            "code": "ABCD-EFGH-JKMN", field: "1234 5678 9018"}
    form = LinkForm(data)
    assert not form.is_valid()
    assert "個人番号" in str(form.errors[field])


def test_the_link_form_refuses_a_symbol_longer_than_eight_digits():
    from member.forms import LinkForm

    form = LinkForm({"symbol": "123456789", "number": "5678", "branch_number": "00",
                     "birth_date": "1985-11-14", "code": "ABCD-EFGH-JKMN"})
    assert not form.is_valid() and "8桁" in str(form.errors["symbol"])
