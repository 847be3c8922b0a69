"""Django's Redis cache with one ``redis.Redis`` client per connection pool.

Django's own ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every
operation, and redis-py copies its table of response callbacks each time: a third of a
millisecond of CPU per cache call, two or three calls on every member page (issue 26's
profile of the cold dashboard). A client is thread-safe (it takes connections from its
pool), so one per pool is enough; the pools, options and serializer stay Django's.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
