from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and not request.user.is_staff:
        return redirect("eligibility:dashboard")
    return render(request, "home.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, Redis, beat and a worker on every queue answer; else 503
    naming each part that failed (kenpo_portal/health.py). Monitoring asks this one."""
    return _health_response(health.check())


@never_cache
@require_GET
def healthz_web(request: HttpRequest) -> JsonResponse:
    """What a load balancer asks: can this web process serve pages (database and Redis)?
    A missing worker is no reason to take the web servers out of rotation."""
    return _health_response(health.check(workers=False))


def _health_response(failures: dict[str, str]) -> JsonResponse:
    body = {"status": "fail" if failures else "ok", "failed": failures}
    return JsonResponse(body, status=503 if failures else 200)
