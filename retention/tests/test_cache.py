"""The Redis cache: one Redis client a connection pool, shared by every call, and the cache still a cache."""

import secrets

from django.core.cache import cache

from conftest import require_or_skip


def _redis_cache():
    if not hasattr(getattr(cache, "_cache", None), "get_client"):
        require_or_skip("the Redis cache is what the workers share")
    return cache._cache


def test_every_call_shares_one_redis_client():
    import redis

    client = _redis_cache()
    shared = client.get_client("a")
    assert isinstance(shared, redis.Redis) and shared.ping()
    assert client.get_client("b") is shared and client.get_client("c", write=True) is shared


def test_the_cache_keeps_and_forgets_values():
    _redis_cache()
    key = f"test-cache-{secrets.token_hex(4)}"
    assert cache.get(key) is None
    cache.set(key, {"n": 1}, 30)
    assert cache.get(key) == {"n": 1}
    assert cache.add(key, 2) is False
    assert cache.add(f"{key}-n", 1) is True and cache.incr(f"{key}-n") == 2
    cache.delete_many([key, f"{key}-n"])
    assert cache.get(key) is None and cache.get(f"{key}-n") is None
