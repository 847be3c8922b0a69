from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import selectors


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    today = selectors.today()
    persons = list(selectors.persons_for_member(request.user))
    rows = [(p, p.card.status_on(today) if hasattr(p, "card") else None) for p in persons]
    return render(request, "eligibility/dashboard.html", {"rows": rows, "today": today})
