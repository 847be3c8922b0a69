"""A clerk, in a real browser, from a person's admin page: voids a lost certificate (reason
and confirmation), issues a new one and re-prints it (the same file twice), then enters the
member's paper application and approves it. axe-core checks every page on the way.

The story is the society whose policy needs no second person (KENPO_FOUR_EYES off); with
four eyes on, the void and the approval wait for another staff member
(approvals/tests/test_four_eyes.py)."""

import pytest

from certificates import services
from certificates.models import Basis, EligibilityCertificate, ReissueRequest
from staff.roles import CLERK
from staff.testing import make_staff
from tests.browser.test_certificate_request import staff_login
from tests.browser_support import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clerk_voids_reprints_and_enters_a_paper_application(browser_page, live_server, alice_person,
                                                               eager_tasks, settings):
    settings.KENPO_FOUR_EYES = False
    lost = services.certificate_issue(person=alice_person, basis=Basis.CUTOFF, issued_by=None)
    clerk = make_staff(role=CLERK, email="clerk@kenpo.example.jp")
    page = browser_page
    staff_login(page, live_server, clerk)

    # From the person's admin page to their certificates.
    page.goto(f"{live_server.url}/admin/eligibility/person/{alice_person.pk}/change/")
    assert lost.serial in page.content()
    page.click("text=資格確認書の操作")
    assert f"/certificates/staff/persons/{alice_person.pk}/certificates/" in page.url
    assert_accessible(page)

    # Void: a reason and a confirmation are asked.
    page.click(f"text=無効にする（{lost.serial}）")
    assert "元に戻すことはできません" in page.content()
    assert_accessible(page)
    page.click("input[type=submit][value='無効にする']")
    assert "無効にする理由を選んでください" in page.content()
    page.check("input[name=reason][value=lost]")
    page.check("input[name=confirm]")
    page.click("input[type=submit][value='無効にする']")
    page.wait_for_load_state()
    assert "1 通を無効にしました" in page.content() and "無効（紛失）" in page.content()
    lost.refresh_from_db()
    assert (lost.status, lost.void_reason, lost.voided_by) == ("void", "lost", clerk)

    # Re-issue one, and re-print it: the same file both times.
    page.select_option("select[name=basis]", "cutoff")
    page.click("input[type=submit][value='交付する']")
    page.wait_for_load_state()
    new = EligibilityCertificate.objects.exclude(status="void").get(person=alice_person)
    assert f"資格確認書 {new.serial} を交付しました" in page.content()
    assert_accessible(page)
    files = []
    for _ in range(2):
        with page.expect_download() as download:
            page.click(f"text=再印刷用PDF（{new.serial}）")
        assert download.value.suggested_filename == f"shikaku-{new.serial}.pdf"
        with open(download.value.path(), "rb") as f:
            files.append(f.read())
    assert files[0] == files[1] and files[0].startswith(b"%PDF")
    assert f"再印刷用PDF（{lost.serial}）" not in page.content()  # never for the voided one

    # The member's paper application, with the day it was received.
    page.click("text=紙の申請書を入力する")
    assert_accessible(page)
    page.select_option("select[name=reason]", "certificate_lost")
    page.fill("input[name=received_on]", "2026-11-20")
    page.fill("textarea[name=details]", "郵送で届いた申請書")
    page.click("input[type=submit][value='申請を受け付ける']")
    page.wait_for_load_state()
    req = ReissueRequest.objects.get()
    assert f"/certificates/staff/requests/{req.pk}/" in page.url
    assert "紙の申請書" in page.content() and "令和8年11月20日" in page.content()
    assert_accessible(page)
    page.click(f"form[action='/certificates/staff/requests/{req.pk}/approve/'] button")
    page.wait_for_load_state()
    assert "承認しました" in page.content()
    req.refresh_from_db()
    assert (req.status, req.entered_by, req.received_on.isoformat()) == ("approved", clerk, "2026-11-20")
