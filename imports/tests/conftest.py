import pytest


@pytest.fixture(autouse=True)
def _local_cache(settings):
    """A cache of this test's own: never the shared Redis (the dashboard's refresh lock lives there)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "imports-tests"}}
    from django.core.cache import cache

    cache.clear()
