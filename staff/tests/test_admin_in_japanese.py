"""The Japanese admin has no English left in it: every list, detail and add page of
every registered model, fetched in Japanese, is checked for known English leftovers
(model and field names Django or a library would otherwise show)."""

import re
from datetime import date

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from certificates import services
from certificates.models import Basis, ReissueRequest
from staff.testing import login_with_mfa, make_staff

pytestmark = pytest.mark.django_db

# Words that only English model or field names, default permissions or library labels produce.
LEFTOVERS = re.compile(
    r"\b(Authenticators?|Person|Persons|Batch|Started by|Queued by|Printed by|Mailed by|Voided by|Reissue request"
    r"|Society|Household|Households|Employers?|Household id|Can (add|change|delete|view)|\d+ changes?:"
    r"|Correlation ID|Created at|Last used at|Resource Type|serial counter|reissue request event|Request|State)\b"
)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def pages(alice_person, alice):
    user = make_staff(role=None, email="root@example.jp", superuser=True)
    services.certificate_issue(person=alice_person, basis=Basis.CUTOFF, issued_by=user, today=date(2026, 11, 25))
    ReissueRequest.objects.create(person=alice_person, reason="card_lost")
    urls = ["/admin/", "/staff/"]
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{info}_changelist"))
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            urls.append(reverse(f"{info}_change", args=[obj.pk]))
        try:
            urls.append(reverse(f"{info}_add"))
        except NoReverseMatch:
            pass
    return user, urls


def test_no_admin_page_shows_english_leftovers(client, pages):
    user, urls = pages
    login_with_mfa(client, user)

    found = {}
    for url in urls:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ja")
        if response.status_code != 200:
            continue  # add pages of read-only models refuse; a proxy list redirects its detail
        hits = sorted(set(m.group(0) for m in LEFTOVERS.finditer(visible_text(response.content.decode()))))
        if hits:
            found[url] = hits
    assert found == {}
    assert len(urls) > 40
