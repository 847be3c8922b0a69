"""A member asks for a 資格確認書 after losing their card, staff approve it, print and mail
it; the member follows it from "I lost my card" to "mailed", in a real browser.
axe-core checks every page on the way."""


from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from certificates.models import EligibilityCertificate, ReissueRequest
from staff.roles import CLERK
from staff.testing import PASSWORD as STAFF_PASSWORD
from staff.testing import make_staff, totp_code
from tests.browser_support import assert_accessible, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def a_day_in_alices_grace_period():
    """The story happens on 2026-11-30: alice's e-certificate (the factory's) expired on
    2026-11-14, so she is in her grace period and may ask for a certificate. The live
    server runs in this process and shares the clock."""
    with time_machine.travel(datetime(2026, 11, 30, 10, tzinfo=ZoneInfo("Asia/Tokyo")), tick=True):
        yield


def staff_login(page, live_server, user) -> None:
    """The real staff login: password, then the TOTP code of allauth's MFA stage."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.click("form[action$='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()
    page.fill("input[name=code]", totp_code(user))
    page.click("form button[type=submit] >> nth=-1")
    page.wait_for_load_state()
    assert "/accounts/" not in page.url, page.url


def test_member_requests_after_losing_the_card_and_staff_approve_print_and_mail(
        a_day_in_alices_grace_period, browser, browser_page, live_server, alice, alice_person, settings,
        eager_tasks):  # rendering happens in the server process: no worker here
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    page = browser_page

    # The member starts from the dashboard's 資格確認書 panel.
    login(page, live_server, "alice@example.jp")
    page.goto(f"{live_server.url}/my/")
    page.click(f"a[href='/certificates/request/{alice_person.pk}/']")
    assert_accessible(page)

    # A refused reason is explained, with what works instead.
    page.check("input[value=nursery]")
    page.click("main button[type=submit]")
    assert "コピー" in page.content()
    assert_accessible(page)
    page.click("text=理由を選び直す")

    # "I lost my card": the form asks when it was noticed.
    page.check("input[value=card_lost]")
    page.click("main button[type=submit]")
    assert_accessible(page)
    page.click("main button[type=submit]")  # without the date
    assert "日付を入力してください" in page.content()
    page.fill("input[name=noticed_on]", "2026-11-20")
    page.fill("textarea[name=details]", "駅で落としました")
    page.click("main button[type=submit]")
    assert "受付済み（審査待ち）" in page.content()
    assert_accessible(page)
    req = ReissueRequest.objects.get()

    # Staff, in their own browser context, approve it in one click from the queue.
    clerk = make_staff(role=CLERK, email="clerk@kenpo.example.jp")
    staff_context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    staff_page = staff_context.new_page()
    staff_login(staff_page, live_server, clerk)
    staff_page.goto(f"{live_server.url}/certificates/staff/requests/")
    assert "マイナンバーカードをなくした" in staff_page.content()
    assert_accessible(staff_page)
    staff_page.click(f"form[action='/certificates/staff/requests/{req.pk}/approve/'] button")
    assert "承認しました" in staff_page.content()
    certificate = EligibilityCertificate.objects.get(person=alice_person)
    assert certificate.status == "queued"  # printed with the day's print file

    # The day's print file is made by the daily job; staff can make it now.
    staff_page.goto(f"{live_server.url}/admin/certificates/printfile/")
    staff_page.click("text=本日分（バッチ外）の印刷用ファイルを今すぐ作成")
    staff_page.wait_for_load_state()
    assert "印刷用ファイル" in staff_page.content()
    certificate.refresh_from_db()
    assert certificate.status == "rendered" and certificate.print_file is not None

    # They download the PDF, then mark it printed and mailed from the certificate list.
    staff_page.goto(f"{live_server.url}/certificates/staff/requests/{req.pk}/")
    with staff_page.expect_download() as download:
        staff_page.click("text=PDF")
    assert download.value.suggested_filename == f"shikaku-{certificate.serial}.pdf"
    for action in ("mark_printed", "mark_mailed"):
        staff_page.goto(f"{live_server.url}/admin/certificates/eligibilitycertificate/")
        staff_page.check(f"input[name=_selected_action][value='{certificate.pk}']")
        staff_page.select_option("select[name=action]", action)
        staff_page.click("button[name=index]")
        staff_page.wait_for_load_state()
    certificate.refresh_from_db()
    assert certificate.status == "mailed"
    staff_context.close()

    # The member sees the request issued and the certificate mailed; an e-mail came at each step.
    page.goto(f"{live_server.url}/certificates/requests/{req.pk}/")
    content = page.content()
    assert "交付済み" in content and "発送しました" in content
    assert_accessible(page)
    page.goto(f"{live_server.url}/my/")
    assert "発送しました" in page.content()
    subjects = [m.subject for m in mail.outbox if m.to == ["alice@example.jp"]]
    assert len(subjects) == 4  # submitted, approved, issued, mailed
    assert all("1234" not in m.body and "5678" not in m.body for m in mail.outbox)


def test_staff_go_from_the_ex_officio_list_to_a_printed_employer_sorted_batch(
        browser_page, live_server, settings, eager_tasks):
    from tests.factories import CardFactsFactory, EmployerFactory, HouseholdFactory, PersonFactory

    for code in ("B002", "B001"):
        employer = EmployerFactory(code=code, name=f"事業所{code}")
        for i in range(2):
            person = PersonFactory(household=HouseholdFactory(employer=employer, society=employer.society),
                                   given_name=f"{code}の{i}")
            CardFactsFactory(person=person, has_card=False, registered=False)  # no card: R6.1
    clerk = make_staff(role=CLERK, email="clerk@kenpo.example.jp")
    page = browser_page
    staff_login(page, live_server, clerk)

    page.goto(f"{live_server.url}/admin/certificates/exofficiocandidate/")
    assert "B001の0" in page.content()
    page.click("text=この条件の全員に交付…")
    assert "4 人" in page.content()
    page.click("input[type=submit]")
    page.wait_for_load_state()
    assert "/certificates/staff/batches/" in page.url
    assert "4 / 4" in page.content()  # rendered in-process here; a worker does it in production
    assert_accessible(page)

    with page.expect_download() as download:
        page.click("text=ファイル 1")
    assert download.value.suggested_filename.endswith("-001.pdf")
    page.click("button:has-text('バッチ全体を印刷済みにする')")
    page.click("button:has-text('バッチ全体を発送済みにする')")
    assert set(EligibilityCertificate.objects.values_list("status", flat=True)) == {"mailed"}
    # The first print file: the first employer's (in code order) cover sheet, then its certificates;
    # never two employers in one file.
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(download.value.path()).pages).replace(" ", "")
    assert text.index("事業所B001御中") < text.index("B001の0様") < text.index("B001の1様")
    assert "B002" not in text
