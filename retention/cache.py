"""
The cache backend: Django's Redis cache, with one Redis client per connection pool.

Django's client builds a new ``redis.Redis`` for every cache call, and each one fills a table of
about 170 reply handlers first: a few hundredths of a millisecond that every page and every
public survey answer (its rate limit, the webhooks' subscriptions) paid on each call. A Redis
client is safe to share between threads and keeps no state of its own beyond its pool, so one
a pool serves them all.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedRedisCacheClient(RedisCacheClient):
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
        self._class = ReusedRedisCacheClient
