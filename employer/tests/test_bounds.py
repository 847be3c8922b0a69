"""Bounds of the employer door (RULES.md R12), walked like the staff gate: every employer
URL × every role × another 事業所's ids. A contact of A never sees, downloads, marks or
applies for anyone of B, a 任意継続 household, or a former employee (beyond the 回収 list);
staff and members never open an employer page; anonymous visitors are sent to sign in."""

import re
from datetime import date

import pytest
from django.urls import URLPattern, get_resolver, reverse

from certificates.models import Collection, PacketItem, ReissueRequest
from employer.access import MARK
from staff.roles import MANAGER
from staff.testing import login_with_mfa, make_staff
from tests.factories import verified_member

from .conftest import make_contact, packet_for

pytestmark = pytest.mark.django_db

NOT_GATED = {"invite/<str:uidb64>/<str:token>/"}  # the invitation link: its token is the key


def employer_routes():
    (resolver,) = [r for r in get_resolver().url_patterns if str(r.pattern) == "employer/"]
    return [(str(p.pattern), p.name, p.callback) for p in resolver.url_patterns if isinstance(p, URLPattern)]


@pytest.mark.parametrize(("route", "name", "view"), employer_routes(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_employer_view_goes_through_the_gate(route, name, view):
    assert route in NOT_GATED or getattr(view, MARK, False), f"/employer/{route} is not wrapped by contact_required"


@pytest.fixture
def world(employer_a, employer_b, people_a, people_b, voluntary_a):
    """B's packet, B's leaver, A's 任意継続 household and A's former employee."""
    packet_b, certs_b = packet_for(list(people_b), sequence=2)
    leaver_a, _child = people_a
    leaver_a.eligible_until = date(2020, 1, 1)
    leaver_a.save()
    return {"packet_b": packet_b, "item_b": packet_b.items.first(), "cert_b": certs_b[0],
            "others": [*people_b, *voluntary_a, leaver_a]}


def _urls(employer, world):
    """Every employer URL filled with ids that are not the visitor's to use."""
    urls = []
    for route, name, _view in employer_routes():
        if route in NOT_GATED:
            continue
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if "employer_id" not in names:
            continue  # the home page: the visitor's own 事業所 only
        persons = world["others"] if "person_id" in names else [None]
        for person in persons:
            kwargs = {"employer_id": employer.pk}
            if "pk" in names:
                kwargs["pk"] = world["packet_b"].pk
            if person is not None:
                kwargs["person_id"] = person.pk
            if "reason" in names:
                kwargs["reason"] = "no_card"
            urls.append(reverse(f"employer:{name}", kwargs={k: v for k, v in kwargs.items() if k in names}))
    return urls


def _post_data(world):
    return {"items": [world["item_b"].pk], "action": "handed", "certificate": world["cert_b"].pk,
            "outcome": "collected", "symbol": "77", "number": "200", "reason": "no_card"}


def _nothing_changed(world):
    assert PacketItem.objects.get(pk=world["item_b"].pk).state == "out"
    assert not Collection.objects.exists()
    assert not ReissueRequest.objects.exists()


def test_a_contact_of_a_gets_nothing_of_b_with_a_s_or_b_s_employer_id(client, employer_a, employer_b, world):
    login_with_mfa(client, make_contact(employer_a, email="hr-a@example.jp"))
    walked = 0
    for employer in (employer_a, employer_b):
        for url in _urls(employer, world):
            for method in ("get", "post"):
                response = getattr(client, method)(url, _post_data(world) if method == "post" else None)
                body = response.content.decode() if not getattr(response, "streaming", False) else \
                    b"".join(response.streaming_content).decode("cp932", "replace")
                allowed = response.status_code in (404, 405) or (
                    # A's own pages (its list of packets, its search form, its 回収 list) open,
                    # and never show anyone of B, of 任意継続, or A's former employee.
                    employer == employer_a and response.status_code in (200, 302, 400)
                    and not any(p.name in body for p in world["others"]))
                assert allowed, f"{method.upper()} {url}: {response.status_code}"
                walked += 1
    _nothing_changed(world)
    assert walked >= 30


@pytest.mark.parametrize("role", ["anonymous", "member", "staff", "removed contact"])
def test_nobody_but_an_active_contact_opens_an_employer_page(client, employer_a, employer_b, world, people_a, role):
    if role == "member":
        client.force_login(verified_member(people_a[1], "member@example.jp"))
    elif role == "staff":
        login_with_mfa(client, make_staff(role=MANAGER, email="boss@example.jp"))
    elif role == "removed contact":
        from eligibility.contacts import contact_remove

        user = make_contact(employer_a, email="gone@example.jp")
        login_with_mfa(client, user)
        contact_remove(contact=user.employer_contact, by=None)
    urls = [reverse("employer:home"), *_urls(employer_a, world)]
    for url in urls:
        for method in ("get", "post"):
            response = getattr(client, method)(url, _post_data(world) if method == "post" else None)
            if role == "anonymous" or role == "removed contact":
                # Sent to sign in (a removed login's session is no longer authenticated).
                assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
            else:
                assert response.status_code == 403, f"{role}: {method.upper()} {url}"
    _nothing_changed(world)
