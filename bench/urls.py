"""URLs for bench/dashboard_cold.py: the site's, plus a bare dashboard that runs the same
queries as the member dashboard and renders a trivial template (the floor of the page).
Only ever routed by ``bench.dashboard_settings``; never in production."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines
from django.urls import include, path

from eligibility import selectors
from member import household_rows, proofs, situation
from reminders.selectors import current_notices

_TEMPLATE = engines["django"].from_string(
    '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>bare</title></head><body>'
    "{% for p in persons %}<p>{{ p.name }}</p>{% endfor %}<p>{{ notices|length }}</p></body></html>"
)


@login_required
def bare_dashboard(request):
    today = selectors.today()
    link, persons = selectors.split_dashboard_rows(list(selectors.dashboard_rows(request.user)), request.user)
    rows = household_rows.load(persons, household_id=link.person.household_id)
    statuses = {p.pk: situation.status_of(p, today=today) for p in persons}
    proof_of = proofs.proofs_for(persons, today=today, statuses=statuses, rows=rows)
    for p in persons:
        situation.situation_of(p, today=today, proof=proof_of[p.pk], status=statuses[p.pk])
    notices = current_notices(rows.reminders, day=today, certificates=rows.certificate_days())
    return HttpResponse(_TEMPLATE.render({"persons": persons, "notices": notices}))


urlpatterns = [
    path("bench/bare-dashboard/", bare_dashboard),
    path("", include("kenpo_portal.urls")),
]
