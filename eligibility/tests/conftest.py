import pytest


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Rate-limit counters in a cache of this test's own, never the shared Redis."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "eligibility-tests"}}
    from django.core.cache import cache

    cache.clear()
