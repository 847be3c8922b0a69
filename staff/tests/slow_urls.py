"""A URL whose view runs a slow statement: for the statement-timeout test only."""

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path


def slow(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(5)")
    return HttpResponse("done")


urlpatterns = [path("slow/", slow), path("", include("kenpo_portal.urls"))]
