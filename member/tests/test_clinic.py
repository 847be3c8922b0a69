"""「受診のときは」: a sentence for every R5 status × 資格確認書 state × R6 basis."""

import itertools
from datetime import date

import pytest
from django.utils import translation

from eligibility.rules import Status
from member.clinic import BASIS_REASONS, answer
from member.proofs import HeldCertificate, Proof

TODAY = date(2026, 12, 10)
EXPIRES = date(2026, 11, 14)
CERTIFICATES = {
    "none": None,
    "preparing": HeldCertificate(serial="R7-000123", valid_until=date(2031, 12, 9), state="preparing"),
    "mailed": HeldCertificate(serial="R7-000124", valid_until=date(2031, 12, 9), state="mailed",
                              mailed_on=date(2026, 12, 5)),
    "ending": HeldCertificate(serial="R2-000001", valid_until=date(2027, 1, 31), state="mailed",
                              mailed_on=date(2022, 2, 1)),
}
BASES = [None, *BASIS_REASONS]
STATUSES = [None, *Status]


def _answer(status, certificate="none", basis=None, request=False, by_post=False, listed_from=None):
    proof = Proof(certificate=CERTIFICATES[certificate], basis=basis, listed_from=listed_from,
                  expected_by=date(2027, 1, 31), by_post=by_post,
                  open_request_id=7 if request else None, open_request_label="受付済み（審査待ち）" if request else "",
                  request_url="/certificates/request/1/")
    return answer(status=status, proof=proof, today=TODAY, expires_on=EXPIRES,
                  renewal_opens_on=date(2026, 8, 15), grace_ends_on=date(2027, 2, 28), thing="電子証明書")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_combination_has_a_sentence_for_today_and_what_comes_next(language):
    combinations = itertools.product(STATUSES, CERTIFICATES, BASES, (False, True), (False, True))
    with translation.override(language):
        for status, certificate, basis, request, by_post in combinations:
            a = _answer(status, certificate, basis, request, by_post)
            where = (status, certificate, basis, request, by_post)
            assert a.today and a.next and a.short_today, where
            assert "%(" not in a.today + a.next + a.short_today + a.short_next, where
            if status is not None and CERTIFICATES[certificate]:
                assert CERTIFICATES[certificate].serial in a.today, where  # what works today, by its number
            if status in (Status.ACTIVE, Status.RENEW_NOW, Status.GRACE):
                assert "2026-11-14" in a.today + a.next or "2027-02-28" in a.today, where  # until when, in dates


def test_a_child_without_a_card_on_the_ex_officio_list_is_told_it_will_arrive_and_when():
    a = _answer(Status.NO_CARD, basis="cutoff")
    assert "見せられるものがありません" in a.today
    assert "申請なしでお送りします" in a.next and "令和9年1月31日" in a.next and "勤務先（事業所）経由" in a.next
    assert not a.may_request and not a.needs_action


def test_one_sent_by_post_says_so():
    assert "ご自宅へ郵送" in _answer(Status.NOT_REGISTERED, basis="enrolment_form", by_post=True).next


def test_a_person_without_a_card_and_without_a_basis_is_asked_to_apply_with_a_reason_that_fits():
    a = _answer(Status.NO_CARD)
    assert a.needs_action and a.may_request
    assert "マイナンバーカードを持っていない" in a.next


def test_an_open_request_is_followed_not_offered_again():
    a = _answer(Status.NO_CARD, request=True)
    assert "受付済み" in a.next and not a.may_request and not a.needs_action


def test_a_lapsed_person_with_a_mailed_certificate_shows_its_number_validity_and_mailing_day():
    a = _answer(Status.LAPSED, "mailed")
    assert "R7-000124" in a.today and "令和13年12月9日" in a.today and "令和8年12月5日" in a.today
    assert "電子証明書を更新して" in a.next  # what expired, never "the card" when it was the certificate


def test_a_certificate_ending_soon_is_renewed_ex_officio():
    a = _answer(Status.NO_CARD, "ending", basis="renewal")
    assert "新しいものを申請なしで" in a.next and not a.needs_action


def test_grace_says_until_when_the_card_works_and_when_a_certificate_would_come():
    a = _answer(Status.GRACE, listed_from=date(2027, 1, 1))
    assert "令和9年2月28日" in a.today and a.needs_action
    assert "令和9年1月1日 (2027-01-01)までに更新が確認できなければ" in a.next
    listed = _answer(Status.GRACE, basis="lapsed")
    assert "申請なしでお送りします" in listed.next


def test_renew_now_gives_the_last_day():
    a = _answer(Status.RENEW_NOW)
    assert a.needs_action and "令和8年11月14日 (2026-11-14)までに" in a.next and "電子証明書" in a.next


def test_a_person_who_is_not_a_member_today_has_no_route_but_the_society():
    a = _answer(None)
    assert "加入者ではない" in a.today and not a.may_request
