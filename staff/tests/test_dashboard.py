from datetime import date, timedelta

import pytest
from django.apps import apps
from django.core.cache import cache
from django.urls import reverse

from eligibility.admin_filters import EligibleListFilter, ExpiryMonthListFilter, StatusListFilter
from eligibility.rules import add_months
from eligibility.selectors import today
from staff import dashboard, selectors
from staff.chart import MonthExpiries, chart
from staff.figures import dashboard_figures
from staff.roles import CLERK, VIEWER
from staff.testing import login_with_mfa, make_staff
from tests.factories import (
    CardFactsFactory,
    HouseholdFactory,
    PersonFactory,
)

pytestmark = pytest.mark.django_db

URL = "/staff/"


def card(day, *, ecert_in_days=None, card_in_days=3000, **kwargs):
    return {
        "has_card": True, "registered": True,
        "ecert_expires_on": day + timedelta(days=ecert_in_days) if ecert_in_days is not None else None,
        "card_expires_on": day + timedelta(days=card_in_days), **kwargs,
    }


@pytest.fixture
def population():
    """One eligible person in each R5 status (unknown: nobody has said), and two not eligible."""
    day = today()
    household = HouseholdFactory()
    branch = iter(range(10, 99))

    def person(facts=None, **kwargs):
        p = PersonFactory(household=household, branch_number=f"{next(branch):02d}", relationship="child", **kwargs)
        if facts is not None:
            CardFactsFactory(person=p, **facts)
        return p

    person()  # no card facts at all → unknown (R5), never no_card
    person({"has_card": False, "registered": False, "card_expires_on": None, "ecert_expires_on": None})
    person(card(day, registered=False, ecert_in_days=400))  # not_registered
    person(card(day, ecert_in_days=400))  # active
    person(card(day, ecert_in_days=45))  # renew_now (renewal opened)
    person(card(day, ecert_in_days=-10))  # grace
    person(card(day, ecert_in_days=-200))  # lapsed
    # Not eligible today: lost eligibility today (資格喪失日 is the first day without), or not yet.
    person(card(day, ecert_in_days=45), eligible_until=day)
    person(card(day, ecert_in_days=45), eligible_from=day + timedelta(days=1))
    return day


def test_statuses_and_expiries_come_from_one_grouped_query(population, django_assert_num_queries):
    with django_assert_num_queries(1):
        counts, _months = selectors.society_counts(day=population)

    assert counts == {"no_card": 1, "not_registered": 1, "active": 1, "renew_now": 1, "grace": 1, "lapsed": 1,
                      "unknown": 1}


def test_summary_counts_persons_and_holders(population):
    summary = dashboard_figures(dashboard.compute_summary(day=population))

    assert summary.persons.count == 7
    assert summary.holders.count == 3  # active, renew_now and grace: grace still confirms eligibility
    assert [f.count for f in summary.statuses] == [1, 1, 1, 1, 1, 1, 1]  # R5 order, unknown last
    assert summary.unknown.count == 1
    assert summary.persons.url == "/admin/eligibility/person/?eligible=yes"
    assert summary.holders.url == "/admin/eligibility/person/?status=holder"
    assert summary.statuses[4].url == "/admin/eligibility/person/?status=grace"


def test_expiries_are_counted_per_month_for_eligible_card_holders(population):
    _counts, months = selectors.society_counts(day=population)
    months = dashboard_figures(dashboard.compute_summary(day=population)).months

    assert len(months) == 24
    assert months[0].month == population.replace(day=1)
    in_45 = population + timedelta(days=45)
    index = (in_45.year - population.year) * 12 + in_45.month - population.month
    # The ineligible persons with the same dates are not counted.
    assert months[index].ecert == 1
    in_400 = population + timedelta(days=400)
    index_400 = (in_400.year - population.year) * 12 + in_400.month - population.month
    assert months[index_400].ecert == 2
    # This month's already expired ones count too (the grace person may expire in this month).
    shown = [d for d in (400, 400, 45, -10, -200) if population + timedelta(days=d) >= months[0].month]
    assert sum(m.ecert for m in months) == len(shown)
    assert sum(m.card for m in months) == 0  # cards expire in 3000 days
    assert months[index].ecert_url == f"/admin/eligibility/person/?expires=ecert%3A{in_45:%Y-%m}"


def test_work_figures_count_failed_reminders(population):
    Reminder = apps.get_model("reminders", "Reminder")
    person = PersonFactory(branch_number="00")
    for stage, status in zip(Reminder.Stage.values, ("failed", "failed", "sent"), strict=False):
        Reminder.objects.create(person=person, household=person.household, subject=Reminder.Subject.values[0],
                                stage=stage, expires_on=date(2030, 1, 1), due_on=population, status=status)

    figures = {f.label: f for f in dashboard_figures(dashboard.compute_summary(day=population)).work}

    assert figures["送信に失敗したお知らせ"].count == 2
    assert figures["送信に失敗したお知らせ"].url == "/admin/reminders/reminder/?status__exact=failed"


def test_the_chart_scales_bars_to_the_largest_month():
    months = [MonthExpiries(month=add_months(date(2026, 11, 1), i), ecert=i, card=2 * i) for i in range(24)]
    geometry = chart(months)

    tallest = max(geometry["bars"], key=lambda b: b["card"]["h"])
    assert tallest["card"]["n"] == 46
    assert geometry["grid"][-1]["value"] >= 46
    assert tallest["card"]["y"] >= geometry["grid"][-1]["y"]


# --- The page ---------------------------------------------------------------------


def test_it_shows_every_number_with_its_link(client, population):
    login_with_mfa(client, make_staff(role=VIEWER, email="viewer@example.jp"))
    dashboard.refresh_summary()  # what the worker does

    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<a href="/admin/eligibility/person/?eligible=yes">7</a>' in html
    assert '<a href="/admin/eligibility/person/?status=holder">3</a>' in html
    assert '<a href="/admin/eligibility/person/?status=no_card">1</a>' in html
    # R5 unknown: counted, and staff are told what fills it in (the registration-status file).
    assert '<a href="/admin/eligibility/person/?status=unknown">1</a>' in html
    assert "1 人は、マイナ保険証の状況が不明です" in html and "利用登録状況ファイル" in html
    assert "<title id=\"chart-title\">" in html and "<desc id=\"chart-desc\">" in html
    assert html.count("<rect ") == 48
    # A viewer may not import: no link to the imports.
    assert reverse("staff:imports:list") not in html


def test_it_is_linked_from_the_admin_index(client):
    login_with_mfa(client, make_staff(role=CLERK, email="clerk@example.jp"))

    html = client.get("/admin/").content.decode()

    assert 'href="/staff/"' in html
    assert 'href="/staff/imports/"' in html


def test_pages_show_the_cached_summary_and_a_worker_refreshes_it(client, population, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    from staff import tasks

    login_with_mfa(client, make_staff(role=VIEWER, email="viewer@example.jp"))
    enqueued = []
    monkeypatch.setattr(tasks.refresh_dashboard, "apply_async", lambda **kw: enqueued.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(URL).content.decode()  # never counted: no number yet, a worker counts
    assert "集計しています" in first and '?eligible=yes"' not in first and enqueued == [{"retry": False}]
    tasks.refresh_dashboard()  # what the worker does
    PersonFactory(household=HouseholdFactory(), branch_number="00")
    enqueued.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert '?eligible=yes">7<' in client.get(URL).content.decode()
    assert enqueued == []  # less than a minute old

    summary = cache.get(dashboard.CACHE_KEY)
    summary.computed_at -= timedelta(seconds=61)
    cache.set(dashboard.CACHE_KEY, summary)
    with django_capture_on_commit_callbacks(execute=True):
        assert '?eligible=yes">7<' in client.get(URL).content.decode()  # no waiting for the database
        client.get(URL)
    assert enqueued == [{"retry": False}]  # once, however many pages asked

    tasks.refresh_dashboard()  # what the worker does
    assert '?eligible=yes">8<' in client.get(URL).content.decode()


def test_it_sends_anonymous_users_to_the_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_it_refuses_members(client, alice):
    client.force_login(alice)

    assert client.get(URL).status_code == 403


def test_it_refuses_staff_without_a_role(client):
    login_with_mfa(client, make_staff(role=None, email="norole@example.jp"))

    assert client.get(URL).status_code == 403


def test_the_admin_filters_list_the_same_persons(rf, population):
    from eligibility.models import Person

    class Admin:
        pass

    request = rf.get("/")
    qs = Person.objects.all()
    for value, expected in (("holder", 3), ("no_card", 1), ("unknown", 1), ("lapsed", 1)):
        f = StatusListFilter(request, {"status": [value]}, Person, Admin())
        assert f.queryset(request, qs).count() == expected
    f = EligibleListFilter(request, {"eligible": ["yes"]}, Person, Admin())
    assert f.queryset(request, qs).count() == 7
    in_45 = population + timedelta(days=45)
    f = ExpiryMonthListFilter(request, {"expires": [f"ecert:{in_45:%Y-%m}"]}, Person, Admin())
    assert f.queryset(request, qs).count() == 1
    assert f.lookup_choices == [(f"ecert:{in_45:%Y-%m}", f"電子証明書 {in_45:%Y-%m}")]


@pytest.mark.parametrize("value", ["ecert:9999-12", "card:2026-13", "ecert:x", "other:2026-01"])
def test_an_expiry_month_it_cannot_read_is_ignored_rather_than_an_error(value):
    filter_ = ExpiryMonthListFilter.__new__(ExpiryMonthListFilter)
    filter_.used_parameters = {"expires": value}
    assert filter_._parsed() is None


# --- The ex-officio numbers (R6) ----------------------------------------------------


def test_it_shows_the_ex_officio_list_per_basis_and_the_renewals_due(client, population):
    from django.utils import timezone

    from certificates.models import EligibilityCertificate

    day = population
    renewing = PersonFactory(household=HouseholdFactory(), branch_number="00")  # no card facts: unknown (R6.5 still)
    EligibilityCertificate.objects.create(
        serial="T-1", person=renewing, basis="cutoff", issued_on=day - timedelta(days=1800),
        valid_until=day + timedelta(days=20), delivery_route="employer", queued_at=timezone.now(), status="mailed")
    login_with_mfa(client, make_staff(role=VIEWER, email="viewer@example.jp"))

    dashboard.refresh_summary()  # what the worker does (the first view ever leaves R6 to it)
    html = client.get(URL).content.decode()

    # The population: one without a card and one not registered (cutoff; the unknown one is
    # not R6.1), one lapsed; the unknown holder of an ending certificate is renewed (R6.5).
    figures = dashboard_figures(dashboard.compute_summary(day=day))
    assert [(f.url.rsplit("=", 1)[1], f.count) for f in figures.ex_officio] == [
        ("cutoff", 2), ("enrolment_form", 0), ("lapsed", 1), ("no_my_number", 0), ("renewal", 1)]
    assert '<a href="/admin/certificates/exofficiocandidate/">4</a>' in html
    assert '<a href="/admin/certificates/exofficiocandidate/?basis=renewal">1</a>' in html
    assert "2 か月以内に更新する資格確認書" in html
    assert "職権④：個人番号未登録" in html


def test_the_cached_numbers_read_in_each_readers_language(client, population):
    login_with_mfa(client, make_staff(role=VIEWER, email="viewer@example.jp"))

    dashboard.refresh_summary()  # numbers only: one summary for readers of every language
    english = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No My Number card" in english and cache.get(dashboard.CACHE_KEY) is not None
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    assert "マイナンバーカードなし" in html and "加入者（資格あり）" in html


def test_an_import_asks_for_fresh_numbers(monkeypatch):
    from imports.models import ImportRun
    from imports.signals import imported

    asked = []
    monkeypatch.setattr(dashboard, "request_refresh", lambda: asked.append(True))
    imported.send(sender=ImportRun, run=None)  # what imports' confirm view sends (it never imports staff)

    assert asked == [True]
