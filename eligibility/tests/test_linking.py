"""Linking a login to a person with 記号・番号・枝番, birth date and a one-time code."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from eligibility.linking import LinkRefused, hash_code, issue_activation_code, link_member
from eligibility.models import ActivationCode, MemberLink
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def code(alice_person):
    return issue_activation_code(person=alice_person)


def _form(**overrides):
    data = {"symbol": "1234", "number": "5678", "branch_number": "00", "birth_date": "1985-11-14"}
    return {**data, **overrides}


def test_codes_are_stored_hashed_only(alice_person, code):
    stored = ActivationCode.objects.get(person=alice_person)
    assert stored.code_hash == hash_code(code)
    assert code.replace("-", "") not in stored.code_hash


def test_it_links_with_matching_details_and_uses_up_the_code(alice_person, code):
    user = UserFactory()
    assert link_member(user=user, symbol="001234", number="5678", branch_number="0", birth_date=date(1985, 11, 14),
                       code=code.lower()) == alice_person
    assert MemberLink.objects.get(user=user).person == alice_person
    assert ActivationCode.objects.get().used_by == user
    with pytest.raises(LinkRefused):
        link_member(user=UserFactory(), symbol="1234", number="5678", branch_number="00",
                    birth_date=date(1985, 11, 14), code=code)


@pytest.mark.parametrize("wrong", [
    {"symbol": "1235"}, {"number": "5679"}, {"branch_number": "01"}, {"birth_date": date(1985, 11, 15)},
    {"code": "ABCD-EFGH-JKMN"},
])
def test_it_refuses_any_wrong_detail(alice_person, code, wrong):
    args = {"symbol": "1234", "number": "5678", "branch_number": "00", "birth_date": date(1985, 11, 14),
            "code": code, **wrong}
    with pytest.raises(LinkRefused):
        link_member(user=UserFactory(), **args)
    assert not MemberLink.objects.exists()


def test_it_refuses_an_expired_code(alice_person, code):
    ActivationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(LinkRefused):
        link_member(user=UserFactory(), symbol="1234", number="5678", branch_number="00",
                    birth_date=date(1985, 11, 14), code=code)


def test_it_refuses_a_dependent_under_18(household, alice_person):
    child = PersonFactory(household=household, branch_number="03", relationship="child",
                          birth_date=timezone.localdate().replace(year=timezone.localdate().year - 10))
    code = issue_activation_code(person=child)
    with pytest.raises(LinkRefused, match="minor"):
        link_member(user=UserFactory(), symbol="1234", number="5678", branch_number="03",
                    birth_date=child.birth_date, code=code)


def test_the_form_never_says_which_field_was_wrong(client, alice_person, code):
    client.force_login(UserFactory())
    first = client.post(reverse("eligibility:link"), _form(symbol="9999", code=code)).content.decode()
    second = client.post(reverse("eligibility:link"), _form(code="ABCD-EFGH-JKMN")).content.decode()
    message = "入力された内容では連携できませんでした"
    assert message in first and message in second
    assert "記号が" not in first and "連携コードが違" not in second
    assert AuditEntry.objects.filter(action="login_failed").count() == 2


def test_it_rate_limits_wrong_attempts(client, alice_person, code):
    client.force_login(UserFactory())
    for _ in range(5):
        assert client.post(reverse("eligibility:link"), _form(code="ABCD-EFGH-JKMN")).status_code == 400
    # Even the right details are refused now, without checking them.
    response = client.post(reverse("eligibility:link"), _form(code=code))
    assert response.status_code == 429
    assert not MemberLink.objects.exists()
    assert ActivationCode.objects.get().used_at is None


def test_the_link_page_links_and_goes_to_the_dashboard(client, alice_person, code):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("eligibility:link"), _form(symbol="１２３４", code=code))
    assert response.status_code == 302 and response.url == reverse("eligibility:dashboard")
    assert MemberLink.objects.get(user=user).person == alice_person


def test_a_linked_login_is_sent_to_the_dashboard(client, alice):
    client.force_login(alice)
    assert client.get(reverse("eligibility:link")).url == reverse("eligibility:dashboard")
