"""A clerk imports a roster and reads the dashboard in a real browser; axe checks each page."""

import os

import pytest
from django.test import Client

from eligibility.models import Person
from staff.roles import CLERK
from staff.testing import login_with_mfa, make_staff
from tests.browser_support import assert_accessible
from tests.factories import EmployerFactory, SocietyFactory

from .helpers import HANAKO, JIRO, TARO, roster

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    """KENPO_SCREENSHOTS=/some/dir keeps a picture of the page, to look at by eye."""
    folder = os.environ.get("KENPO_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def _log_in_with_mfa(page, live_server, user) -> None:
    client = Client()
    login_with_mfa(client, user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


def test_a_clerk_imports_a_roster_and_reads_the_dashboard(browser_page, live_server, tmp_path, monkeypatch):
    from staff import tasks

    # The dashboard refresh the import asks for is run here, not sent to a shared broker.
    monkeypatch.setattr(tasks.refresh_dashboard, "apply_async", lambda **kw: tasks.refresh_dashboard())
    society = SocietyFactory()
    EmployerFactory(society=society, code="E0001")
    clerk = make_staff(role=CLERK, email="clerk@example.jp")
    page = browser_page
    _log_in_with_mfa(page, live_server, clerk)

    page.goto(f"{live_server.url}/admin/")
    page.click("text=データ取込")
    assert page.url.endswith("/staff/imports/")
    assert_accessible(page)

    upload = tmp_path / "名簿.csv"
    upload.write_bytes(roster(HANAKO, TARO, JIRO, encoding="cp932"))
    page.check("input[name=kind][value=roster]")
    page.set_input_files("input[name=file]", str(upload))
    page.click("button:has-text('アップロードして確認する')")
    page.wait_for_load_state()
    assert "新しく登録する加入者" in page.content()
    assert not Person.objects.exists()
    assert_accessible(page)
    _shot(page, "import-preview")

    page.click("button:has-text('取り込む')")
    page.wait_for_load_state()
    assert "取り込みました。" in page.content()
    assert Person.objects.count() == 3
    # Some card facts, so that the chart has bars.
    from datetime import timedelta

    from eligibility.models import CardFacts
    from eligibility.selectors import today

    for n, card in enumerate(CardFacts.objects.all()):
        card.has_card, card.registered = True, True
        card.ecert_expires_on = today() + timedelta(days=40 + 90 * n)
        card.card_expires_on = today() + timedelta(days=400 + 60 * n)
        card.save()
    from django.core.cache import cache

    from staff.dashboard import CACHE_KEY

    cache.delete(CACHE_KEY)

    page.goto(f"{live_server.url}/admin/")
    page.click("text=業務ダッシュボード")
    assert page.url.endswith("/staff/")
    # The first view after the figures were forgotten says they are being counted and asks a
    # worker (here run in-process); the page reloads itself with them.
    assert "集計しています" in page.content()
    page.reload()
    assert page.locator("svg.staff-chart title").count() >= 1
    _shot(page, "staff-dashboard")
    assert_accessible(page)
    page.click("a[href='/admin/eligibility/person/?eligible=yes']")
    assert "?eligible=yes" in page.url and "e=1" not in page.url


def test_a_large_change_is_confirmed_twice_then_approved_by_a_second_clerk(browser_page, live_server, settings):
    from imports.models import ImportRun
    from imports.services import import_confirm, import_preview

    settings.KENPO_IMPORT_LARGE_CHANGE_PERCENT = 10
    society = SocietyFactory()
    EmployerFactory(society=society, code="E0001")
    alice = make_staff(role=CLERK, email="alice@example.jp")
    import_confirm(run=import_preview(kind="roster", society=society, data=roster(HANAKO, TARO), user=alice),
                   user=alice)
    run = import_preview(kind="roster", society=society, data=roster(HANAKO.replace("ハナコ", "ハナ"), TARO),
                         user=alice)
    page = browser_page
    _log_in_with_mfa(page, live_server, alice)

    page.goto(f"{live_server.url}/staff/imports/{run.pk}/")
    assert "注意: 多くの加入者の内容が書き換わります。" in page.content()
    assert_accessible(page)
    _shot(page, "import-large-change")
    page.check("input[name=large_change]")
    page.click("button:has-text('取り込む')")
    page.wait_for_load_state()
    assert "決裁を依頼しました。" in page.content()

    _log_in_with_mfa(page, live_server, make_staff(role=CLERK, email="bob@example.jp"))
    page.goto(f"{live_server.url}/staff/approvals/")
    assert_accessible(page)
    _shot(page, "approvals")
    page.click("button:has-text('承認する')")
    page.wait_for_load_state()
    assert "承認しました。" in page.content()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.CONFIRMED
