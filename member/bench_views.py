"""A bare view for the dashboard benchmark: a tiny template and one primary-key query.

Routed only when KENPO_BENCH_VIEWS=1 (see urls.py); it shows a name, so it must
never be on in production.
"""

from django.http import HttpRequest, HttpResponse
from django.template import engines

from eligibility.models import Person

_TEMPLATE = engines["django"].from_string(
    '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>bare</title></head>'
    "<body><p>{{ person.family_name }} {{ person.birth_date|date:'Y-m-d' }}</p></body></html>"
)


def bare(request: HttpRequest, pk: int) -> HttpResponse:
    person = Person.objects.only("family_name", "birth_date").get(pk=pk)
    return HttpResponse(_TEMPLATE.render({"person": person}))
