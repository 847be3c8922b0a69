"""Issue 21: what a member is told about a person's future is true on every day of their life.

Every R5 status (with ``unknown``) × 資格確認書 state × end of eligibility (turning 75, the
end of 任意継続, none — and 75 already reached) × an open request, on every page and
e-mail that speaks of the future: 「これから」 and the summary on the dashboard, its
timeline, the .ics, the request history, start and form, staff's person page and paper
entry, and the reminder e-mail.
"""

import itertools
from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.timezone import now
from icalendar import Calendar

from certificates import services
from certificates.models import EligibilityCertificate, ReissueRequest
from eligibility import ending, rules, selectors
from eligibility.rules import EligibilityEnd, EndCause, Status
from member import clinic
from member.proofs import HeldCertificate, Proof
from reminders import scanning as reminder_scanning
from reminders import sending as reminder_sending
from reminders.models import Reminder
from staff.roles import MANAGER
from staff.testing import login_with_mfa, make_staff
from tests.factories import CardFactsFactory, HouseholdFactory, PersonFactory, verified_member

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 10)
# The ends of eligibility this specification walks (last day inclusive).
TURNS_75 = date(1952, 3, 1)          # 75 on 2027-03-01: the last day is 2027-02-28
TURNED_75 = date(1951, 12, 1)        # 75 on 2026-12-01: no longer insured here
VC_LAST_DAY = date(2027, 3, 31)      # 任意継続's last day
ENDS = ("turns_75", "voluntary_continuation", "none", "turned_75")
LAST_DAY = {"turns_75": date(2027, 2, 28), "voluntary_continuation": VC_LAST_DAY, "none": None,
            "turned_75": date(2026, 11, 30)}
NO_RENEWAL_PROMISED = "有効期限が近づいたら、新しい資格確認書を申請なしでお送りします"
NO_CERTIFICATE_PAST = "より後の日付の資格確認書はお送りしません"
CARDS = {  # R5 status on TODAY → card facts (None: no card facts row at all)
    Status.UNKNOWN: None,
    Status.NO_CARD: {"has_card": False, "registered": False, "card_expires_on": None, "ecert_expires_on": None},
    Status.NOT_REGISTERED: {"registered": False, "card_expires_on": date(2030, 3, 1), "ecert_expires_on": None},
    Status.ACTIVE: {"card_expires_on": date(2031, 3, 1), "ecert_expires_on": date(2030, 3, 1)},
    Status.RENEW_NOW: {"card_expires_on": date(2031, 3, 1), "ecert_expires_on": date(2027, 3, 1)},
    Status.GRACE: {"card_expires_on": date(2031, 11, 1), "ecert_expires_on": date(2026, 11, 1)},
    Status.LAPSED: {"card_expires_on": date(2031, 3, 1), "ecert_expires_on": date(2026, 3, 1)},
}
CERTIFICATES = ("none", "to_the_end", "ends_sooner")


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(selectors, "today", lambda: TODAY)


# --- The words, for every combination (pure: no database) ----------------------------------


def _end(case) -> ending.EndWords | None:
    cause = {"turns_75": EndCause.LATE_ELDERLY, "voluntary_continuation": EndCause.VOLUNTARY_CONTINUATION,
             "turned_75": EndCause.LATE_ELDERLY}.get(case)
    return ending.end_words(EligibilityEnd(LAST_DAY[case], cause), today=TODAY) if cause else None


def _held(certificate, last_day):
    if certificate == "none":
        return None
    until = last_day if certificate == "to_the_end" and last_day else date(2027, 1, 31)
    return HeldCertificate(serial="R8-000001", valid_until=until, state="mailed", mailed_on=date(2026, 1, 5))


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_status_certificate_end_and_request_is_told_its_future_truthfully(language):
    combinations = itertools.product([None, *Status], CERTIFICATES, ENDS, (False, True), (None, "renewal", "cutoff"))
    with translation.override(language):
        for status, certificate, end_case, open_request, basis in combinations:
            end = _end(end_case)
            if (status is None) != (end_case == "turned_75"):
                continue  # no status exactly when not insured today
            held = _held(certificate, LAST_DAY[end_case])
            proof = Proof(certificate=held, basis=basis, expected_by=date(2027, 1, 31),
                          open_request_id=7 if open_request else None,
                          open_request_label="受付済み（審査待ち）" if open_request else "")
            facts = CARDS.get(status) or {}
            expires = facts.get("ecert_expires_on") or facts.get("card_expires_on")
            a = clinic.answer(status=status, proof=proof, today=TODAY, expires_on=expires,
                              renewal_opens_on=rules.renewal_opens(expires) if expires else None,
                              grace_ends_on=rules.grace_ends(expires) if expires else None,
                              thing="電子証明書", end=end)
            where = (status, certificate, end_case, open_request, basis)
            words = a.today + a.next + a.short_today + a.short_next
            assert a.today and a.next and "%(" not in words, where
            if end is not None:
                # The day, what ends, what comes next, and no certificate of the society past it.
                assert end.headline in a.today + a.next and end.what_next in a.next, where
                assert end.no_certificate in a.next, where
            if held and end is not None and held.valid_until >= end.end.last_day:
                assert str(translation.gettext(NO_RENEWAL_PROMISED + "。")) not in a.next, where  # R6.5/R8
            if status == Status.UNKNOWN:
                # A missing record is never a fact: asked, not told.
                assert a.needs_action and "カードがありません" not in words and "受診に使えるものがありません" not in words
            if status is None:
                assert not a.may_request, where


def test_the_summary_puts_who_needs_action_first_the_most_urgent_first():
    proof = Proof()
    answers = {status: clinic.answer(status=status, proof=proof, today=TODAY, expires_on=date(2027, 1, 31),
                                     renewal_opens_on=date(2026, 11, 1), grace_ends_on=date(2027, 4, 30),
                                     thing="電子証明書") for status in Status}
    order = sorted(Status, key=lambda s: (not answers[s].needs_action, answers[s].urgency))
    # Nothing to show at the clinic first, then renew now, then "tell us", then the rest.
    assert order == [Status.NO_CARD, Status.NOT_REGISTERED, Status.LAPSED, Status.RENEW_NOW, Status.UNKNOWN,
                     Status.ACTIVE, Status.GRACE] or order.index(Status.GRACE) < order.index(Status.UNKNOWN)
    assert order.index(Status.UNKNOWN) < order.index(Status.ACTIVE)


# --- Every page, on a real household --------------------------------------------------------


def _person(status, end_case, certificate, open_request):
    household = HouseholdFactory(voluntary_continuation=end_case == "voluntary_continuation",
                                 voluntary_continuation_ends_on=VC_LAST_DAY
                                 if end_case == "voluntary_continuation" else None)
    birth = {"turns_75": TURNS_75, "turned_75": TURNED_75}.get(end_case, date(1980, 3, 1))
    person = PersonFactory(household=household, branch_number="00", birth_date=birth,
                           eligible_from=date(2026, 4, 1))  # after R6's cutoff: not ex officio without a card
    if CARDS[status] is not None:
        CardFactsFactory(person=person, **CARDS[status])
    last_day = LAST_DAY[end_case]
    if certificate != "none":
        until = last_day if certificate == "to_the_end" and last_day else date(2031, 4, 1)
        EligibilityCertificate.objects.create(
            serial=f"T-{person.pk:06d}", person=person, basis="application", issued_on=date(2026, 5, 1),
            valid_until=until, delivery_route="employer", queued_at=now(), status="mailed", mailed_at=now())
    if open_request:
        ReissueRequest.objects.create(person=person, reason="card_lost")
    return person


PAGE_CASES = [(status, end_case, certificate, open_request)
              for status in (Status.UNKNOWN, Status.NO_CARD, Status.NOT_REGISTERED, Status.ACTIVE, Status.LAPSED)
              for end_case in ENDS
              for certificate in ("none", "to_the_end")
              for open_request in (False, True)
              if not (certificate == "to_the_end" and end_case in ("none", "turned_75") and open_request)]


@pytest.mark.parametrize(("status", "end_case", "certificate", "open_request"), PAGE_CASES)
def test_every_page_that_speaks_of_the_future(client, status, end_case, certificate, open_request):
    person = _person(status, end_case, certificate, open_request)
    client.force_login(verified_member(person, f"p{person.pk}@example.jp"))
    end = ending.end_of(person, today=TODAY)
    dashboard = client.get(reverse("eligibility:dashboard")).content.decode()
    calendar = Calendar.from_ical(client.get(reverse("eligibility:calendar")).content)
    events = {str(e.get("summary")): e.decoded("dtstart") for e in calendar.walk("VEVENT")}
    history = client.get(reverse("certificates:request_list")).content.decode()
    start = client.get(reverse("certificates:request_start", args=[person.pk]))

    # 「これから」: the end of eligibility, when it caps a certificate or has come; nothing else.
    if end_case == "none":
        assert end is None and NO_CERTIFICATE_PAST not in dashboard
    else:
        assert (end.headline in dashboard and NO_CERTIFICATE_PAST in dashboard) or end.ended
    if certificate == "to_the_end" and end_case in ("turns_75", "voluntary_continuation"):
        assert NO_RENEWAL_PROMISED not in dashboard  # R6.5 and R8 refuse that renewal
    # R5 unknown: asked, never told; a way to tell us.
    if status == Status.UNKNOWN and end_case != "turned_75":
        assert "まだ分かりません" in dashboard and "マイナンバーカードがありません" not in dashboard
        assert reverse("eligibility:card_facts", args=[person.pk]) in dashboard
    # The .ics follows the status as the dashboard does, and carries the last day.
    dated = status in (Status.ACTIVE, Status.LAPSED) and end_case != "turned_75"
    assert any("更新受付開始" in s for s in events) == dated, events  # a registered card only (R5)
    assert not any("猶予期間の終わり" in s for s in events) or dated, events
    if end_case in ("turns_75", "voluntary_continuation"):
        assert events[next(s for s in events if "最終日" in s)] == LAST_DAY[end_case]
    # The request pages offer and accept only what the rules accept (R11: nobody aged 75+).
    refusal = services.check_request(person, "card_lost", today=TODAY)
    offer = reverse("certificates:request_start", args=[person.pk])
    if end_case == "turned_75":
        assert refusal.code == "eligibility_ended" and offer not in history and "75歳" in history
        assert start.status_code == 200 and b'name="reason"' not in start.content  # no reasons offered
        before = ReissueRequest.objects.filter(person=person).count()
        form = reverse("certificates:request_form", args=[person.pk, "card_lost"])
        assert client.post(form, {"details": ""}).status_code == 400
        assert ReissueRequest.objects.filter(person=person).count() == before  # the POST created nothing
    elif open_request:
        assert refusal.code == "open_request" and "申請を受付中です" in history
        assert start.status_code == 302
    elif certificate == "none" and status == Status.LAPSED:
        # R6.3: a lapsed registration gets one without applying — 「申請は不要」, no offer.
        assert refusal.code == "ex_officio" and offer not in history and "申請は不要です" in history
    else:
        assert refusal is None and offer in history and start.status_code == 200


@pytest.mark.parametrize("end_case", ENDS)
def test_staffs_person_page_and_paper_entry_say_the_same(client, end_case):
    person = _person(Status.NO_CARD, end_case, "none", False)
    login_with_mfa(client, make_staff(role=MANAGER, email="manager@example.jp"))
    page = client.get(reverse("certificates:person_certificates", args=[person.pk])).content.decode()
    paper = reverse("certificates:paper_application", args=[person.pk])
    if end_case == "none":
        assert 'id="eligibility-end"' not in page and paper in page
    else:
        assert ('id="eligibility-end"' in page and NO_CERTIFICATE_PAST in page) or "使えません" in page
    if end_case == "turned_75":
        assert paper not in page and "75歳以上の方の資格確認書は" in page
        response = client.post(paper, {"reason": "card_lost", "received_on": "2026-12-01"})  # the 75th birthday
        assert response.status_code == 200 and "75歳以上の方の資格確認書は" in response.content.decode()
        assert not ReissueRequest.objects.filter(person=person).exists()


def test_a_request_for_someone_aged_75_is_refused_by_every_service_path():
    person = _person(Status.NO_CARD, "turned_75", "none", False)
    with pytest.raises(services.RequestRefused) as refused:
        services.request_submit(person=person, requested_by=None, reason="no_card", today=TODAY)
    assert refused.value.code == "eligibility_ended" and "後期高齢者医療" in str(refused.value)
    with pytest.raises(services.RequestRefused):
        services.request_enter_paper(person=person, reason="no_card", received_on=TODAY, by=None)
    assert not ReissueRequest.objects.exists()


def test_someone_covered_ex_officio_is_told_no_application_is_needed_everywhere(client):
    person = _person(Status.NO_CARD, "none", "none", False)
    person.eligible_from = date(2020, 4, 1)  # before R6's cutoff, no card: sent ex officio (R6.1)
    person.save()
    client.force_login(verified_member(person, "exofficio@example.jp"))
    assert services.check_request(person, "no_card", today=TODAY).code == "ex_officio"
    history = client.get(reverse("certificates:request_list")).content.decode()
    assert reverse("certificates:request_start", args=[person.pk]) not in history and "申請は不要です" in history


# --- The reminder e-mail --------------------------------------------------------------------


@pytest.mark.parametrize(("end_case", "certificate", "promised", "told"), [
    ("none", "ends_sooner", True, None),
    ("turns_75", "to_the_end", False, "75歳になり、後期高齢者医療制度に移ります"),
    ("turns_75", "ends_sooner", True, "75歳になり、後期高齢者医療制度に移ります"),
    ("voluntary_continuation", "to_the_end", False, "任意継続は 令和9年3月31日 (2027-03-31) で終わります"),
])
def test_the_certificate_reminder_never_promises_a_renewal_past_the_end(end_case, certificate, promised, told):
    person = _person(Status.NO_CARD, end_case, "none", False)
    until = LAST_DAY[end_case] if certificate == "to_the_end" else date(2027, 1, 31)
    row = Reminder(person=person, household=person.household, subject="certificate", stage="certificate_ending",
                   expires_on=until, due_on=TODAY)
    text = reminder_sending.render_email(rows=[row], to="x@example.jp", message_id="<x@example.jp>", day=TODAY).text
    ja, en = text.split("[English]")
    assert ("新しい資格確認書をお送りします" in ja) == promised
    assert ("no new certificate will be sent" in en) == (not promised)
    if told:
        assert told in ja and NO_CERTIFICATE_PAST in ja
    else:
        assert NO_CERTIFICATE_PAST not in ja


def test_no_reminder_is_made_about_a_card_nobody_has_described():
    person = _person(Status.UNKNOWN, "none", "none", False)
    reminder_scanning.scan(day=TODAY)
    assert not Reminder.objects.filter(person=person).exists()


def test_a_certificate_sent_ex_officio_is_never_expected_after_the_last_eligible_day():
    from member.proofs import proofs_for
    from member.situation import status_of

    person = _person(Status.NO_CARD, "none", "none", False)
    person.birth_date, person.eligible_from = date(1951, 12, 25), date(2020, 4, 1)  # 75 on 2026-12-25; R6.1
    person.save()
    proof = proofs_for([person], today=TODAY, statuses={person.pk: status_of(person, today=TODAY)})[person.pk]
    assert proof.basis == "cutoff" and proof.expected_by == date(2026, 12, 24)  # not 2027-01-31
