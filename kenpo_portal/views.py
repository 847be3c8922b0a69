from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import app as celery_app


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and not request.user.is_staff:
        return redirect("eligibility:dashboard")
    return render(request, "home.html")


def _database_ok() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return type(exc).__name__
    return None


def _broker_ok() -> str | None:
    if celery_app.conf.task_always_eager:
        return None  # the embedded default has no broker to reach
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return type(exc).__name__
    return None


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer; 503 naming the one that failed."""
    failures = {name: error for name, error in (("database", _database_ok()), ("broker", _broker_ok())) if error}
    body = {"status": "fail" if failures else "ok", "failed": failures}
    return JsonResponse(body, status=503 if failures else 200)
