"""資格情報のお知らせ (R10): who may download whose, what the PDF says (and never says),
the audit trail, the e-mail when a new one is due, and staff's paper list."""

import re
import subprocess
from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from audit.models import AuditEntry
from eligibility import selectors
from notices import services
from notices.items import copay_period
from notices.models import NoticeRecord
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 10)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(selectors, "today", lambda: TODAY)


def _pdf_text(body: bytes, tmp_path) -> str:
    path = tmp_path / "notice.pdf"
    path.write_bytes(body)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_insured_person_sees_and_downloads_the_whole_household(client, alice, alice_person, bob_person):
    client.force_login(alice)
    page = client.get(reverse("notices:index")).content.decode()
    assert alice_person.name in page and bob_person.name in page
    for person in (alice_person, bob_person):
        response = client.get(reverse("notices:download", args=[person.pk]))
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert person.name not in response["Content-Disposition"]


def test_a_dependents_own_login_gets_only_their_own(client, bob, alice_person, bob_person):
    client.force_login(bob)
    assert client.get(reverse("notices:download", args=[bob_person.pk])).status_code == 200
    assert client.get(reverse("notices:download", args=[alice_person.pk])).status_code == 404


def test_an_outsider_gets_a_404(client, charlie, alice_person):
    client.force_login(charlie)
    assert client.get(reverse("notices:download", args=[alice_person.pk])).status_code == 404


def test_the_pdf_carries_r10s_items_and_no_twelve_digit_number(client, alice, alice_person, tmp_path):
    client.force_login(alice)
    text = _pdf_text(client.get(reverse("notices:download", args=[alice_person.pk])).content, tmp_path)
    for item in ("資格情報のお知らせ", "佐藤", "花子", "サトウ", "ハナコ", "生年月日", "記号 1234", "番号 5678",
                 "枝番 00", "保険者番号", "06139999", "テスト健康保険組合", "資格取得年月日", "本人（被保険者）"):
        assert item in text, item
    assert "有効期限はありません" in text
    assert not re.search(r"\d{12}", re.sub(r"\s", "", text).replace("-", "")), "a 12-digit run in the PDF"


def test_a_download_is_audited_and_shown_in_the_members_access_log(client, alice, alice_person):
    client.force_login(alice)
    client.get(reverse("notices:download", args=[alice_person.pk]))
    entry = AuditEntry.objects.get(action="download")
    assert entry.household_id == alice_person.household_id and entry.details == {"document": "eligibility_notice"}
    page = client.get(reverse("audit:access_log")).content.decode()
    assert "資格情報のお知らせ" in page and "ご本人・ご家族のログイン" in page


def test_a_changed_printed_item_announces_a_new_notice_by_e_mail(alice, alice_person, django_capture_on_commit_callbacks):
    services.announce(person_ids=[alice_person.pk], today=TODAY)  # joined long ago: recorded silently
    assert NoticeRecord.objects.filter(person=alice_person).exists() and not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        alice_person.given_name_kana = "ハナ"
        alice_person.save()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.jp"] and message.subject.startswith("【けんぽポータル】")
    assert "1234" not in message.body and "5678" not in message.body  # never 記号・番号 in an e-mail


def test_a_new_member_is_told_a_notice_is_available(alice, household, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        PersonFactory(household=household, branch_number="03", relationship="child", eligible_from=date(2026, 12, 1))
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.jp"]


def test_the_co_payment_period_runs_august_to_july_from_70_and_ends_before_75():
    assert copay_period(date(1960, 5, 20), today=TODAY) is None  # 66
    assert copay_period(date(1956, 5, 20), today=TODAY) == (date(2026, 8, 1), date(2027, 7, 31))
    assert copay_period(date(1956, 11, 20), today=date(2026, 12, 10)) == (date(2026, 12, 1), date(2027, 7, 31))
    assert copay_period(date(1952, 3, 15), today=TODAY) == (date(2026, 8, 1), date(2027, 3, 14))


def test_staff_print_the_paper_list_as_one_pdf(client, alice_person, tmp_path):
    from staff.testing import login_with_mfa, make_staff

    admin_client = client
    login_with_mfa(admin_client, make_staff(role=None, email="admin@example.jp", superuser=True))
    NoticeRecord.objects.create(person=alice_person, paper_requested=True)
    url = reverse("admin:notices_noticerecord_changelist")
    assert admin_client.get(url + "?paper=waiting").status_code == 200
    response = admin_client.post(url, {"action": "print_paper", "_selected_action": [alice_person.pk]})
    assert response["Content-Type"] == "application/pdf"
    assert "花子" in _pdf_text(response.content, tmp_path)
    assert NoticeRecord.objects.get(person=alice_person).paper_printed_at is not None
