"""The site's URLs plus one view that fails, for the 500 page's tests."""

from django.urls import path

from kenpo_portal.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def crash(request):
    raise RuntimeError("Key (society_id, symbol, number)=(1, 1234, 5678) already exists.")


urlpatterns = [path("crash/", crash), *urlpatterns]
