"""The Redis cache keeps one client per connection pool (kenpo_portal.cache)."""

import os

import pytest

from kenpo_portal.cache import RedisCache

REDIS_URL = os.environ.get("REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL")


def test_it_reuses_one_client_for_every_operation():
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-cache-{os.getpid()}"})
    assert cache._cache.get_client() is cache._cache.get_client(write=True)


def test_it_still_stores_and_reads_like_djangos():
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-cache-{os.getpid()}"})
    cache.set("greeting", {"ja": "こんにちは"}, 30)
    try:
        assert cache.get("greeting") == {"ja": "こんにちは"}
        assert cache.get_many(["greeting", "missing"]) == {"greeting": {"ja": "こんにちは"}}
    finally:
        cache.delete("greeting")
