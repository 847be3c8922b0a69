"""A refused filter or search stops an action; it never widens it to everyone (issue 24, 3 and 7)."""

from datetime import date

import pytest
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.test import RequestFactory
from django.urls import reverse

from audit.models import AuditEntry
from certificates.models import EligibilityCertificate, IssueBatch
from certificates.tests.conftest import NO_CARD, person
from staff.testing import login_with_mfa, make_staff

pytestmark = pytest.mark.django_db
HIDDEN = ["1234.5678.9018", "1234\u31645678\u31649018", "七〇〇一二三四五六七八九"]


@pytest.fixture
def candidates(insured_and_dependent_72):
    return [*insured_and_dependent_72, person(given_name="三郎", eligible_from=date(2025, 5, 1), card=NO_CARD)]


@pytest.mark.parametrize("term", HIDDEN)
def test_a_post_to_issue_all_with_a_my_number_in_its_query_string_issues_nothing(client, clerk, candidates, term,
                                                                                 django_capture_on_commit_callbacks):
    url = reverse("admin:certificates_exofficiocandidate_issue_all")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url + "?" + f"q={term}&age=70-74")
    assert response.status_code == 302 and response["Location"] == f"{url}?age=70-74"
    assert not IssueBatch.objects.exists() and not EligibilityCertificate.objects.exists()
    assert not any("9018" in f"{e.summary}{e.details}" or "七〇〇一" in f"{e.summary}{e.details}"
                   for e in AuditEntry.objects.all())


def test_an_action_across_the_list_with_a_refused_search_runs_on_nobody(client, clerk, candidates,
                                                                        django_capture_on_commit_callbacks):
    url = reverse("admin:certificates_exofficiocandidate_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{url}?q=1234%E3%85%A45678%E3%85%A49018",
                    {"action": "issue_selected", "select_across": "1", "index": "0",
                     "_selected_action": [candidates[0].pk]})
    assert not IssueBatch.objects.exists()


def test_the_list_itself_refuses_a_search_its_form_refuses_even_past_the_middleware(clerk, candidates):
    model_admin = next(m for model, m in admin.site._registry.items()
                       if model._meta.model_name == "exofficiocandidate")
    request = RequestFactory().post("/admin/certificates/exofficiocandidate/?q=1234-5678-9018")
    request.user = clerk
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    with pytest.raises(IncorrectLookupParameters):
        model_admin.get_changelist_instance(request)


LISTS = ["certificates_eligibilitycertificate", "certificates_exofficiocandidate", "certificates_reissuerequest",
         "certificates_issuebatch", "imports_importrun", "reminders_reminder", "notices_noticerecord",
         "eligibility_person"]


@pytest.mark.parametrize("name", LISTS)
def test_a_nul_in_a_filter_value_is_dropped_not_a_500(client, name):
    login_with_mfa(client, make_staff(role=None, email="root@kenpo.example.jp", superuser=True))
    url = reverse(f"admin:{name}_changelist")
    response = client.get(url, {"status": "\x00", "paper": "a\x00", "q": "\x00"})
    assert response.status_code == 302 and response["Location"] == url
    assert client.get(response["Location"]).status_code == 200


def test_an_export_start_with_a_nul_is_dropped_not_a_500(client, clerk, candidates):
    url = reverse("staff:exports:start", args=["ex_officio", "utf8"])
    response = client.get(url, {"status": "\x00"})
    assert response.status_code == 302 and "status" not in response["Location"]


def test_a_member_post_carrying_a_my_number_in_its_query_string_is_refused(client, alice):
    client.force_login(alice)
    response = client.post("/accounts/email/?note=1234%E3%85%A45678%E3%85%A49018", {"action_add": "",
                                                                                    "email": "new@example.jp"})
    assert response.status_code == 302 and response["Location"] == "/accounts/email/"
    assert not alice.emailaddress_set.filter(email="new@example.jp").exists()


@pytest.mark.parametrize("value", ["abc", "１", "1 OR 1=1"])
def test_a_non_integer_resource_type_in_the_history_list_is_not_a_500(client, value, caplog):
    login_with_mfa(client, make_staff(role=None, email="root@kenpo.example.jp", superuser=True))
    url = reverse("admin:auditlog_logentry_changelist")
    response = client.get(url, {"resource_type": value})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
    assert value not in caplog.text
