"""
Rate limits per client, shared by every worker: fixed-window counters in Django's cache.

One of the shared helpers the apps may import from ``retention`` (``SHARED_HELPERS`` in
retention/tests/test_layering.py): it imports no app. The cache is Redis in production (see
``CACHES`` in settings), so a limit holds across gunicorn workers and machines; the embedded
default's file cache is shared by the processes of one machine.

A request over the limit gets 429 with ``Retry-After`` (the seconds left in the window) and the
page ``429.html``. The client is ``REMOTE_ADDR``; behind a proxy that is the proxy, so trusted
forwarding headers are a matter for the deployment's hardening, not for this counter.
"""

import functools
import time

from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string

KEY_PREFIX = "ratelimit"


def client_address(request):
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def hit(*, scope, client, limit, window):
    """
    Count one request of ``client`` in ``scope``; returns the seconds to wait when it is over
    ``limit`` requests in the current ``window`` seconds, else 0.
    """
    now = time.time()
    window_start = int(now // window) * window
    key = f"{KEY_PREFIX}:{scope}:{client}:{window_start}"
    count = _count(key, timeout=window + 1)
    if count > limit:
        return max(1, int(window_start + window - now + 0.999))
    return 0


def _count(key, *, timeout):
    """Add one to the counter ``key`` (created with ``timeout``) and return it, atomically."""
    redis = getattr(cache, "_cache", None)
    if hasattr(redis, "get_client"):
        # Django's Redis cache: INCR and EXPIRE in one round trip, on the busiest public endpoints.
        name = cache.make_and_validate_key(key)
        pipeline = redis.get_client(name, write=True).pipeline()
        pipeline.incr(name)
        pipeline.expire(name, timeout, nx=True)
        return pipeline.execute()[0]
    # Any other cache: add() is atomic, so the first request of the window creates the counter.
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr(): this is the window's first
        cache.add(key, 1, timeout=timeout)
        return 1


def too_many_requests(request, retry_after):
    response = HttpResponse(
        render_to_string("429.html", {"retry_after": retry_after}, request=request), status=429
    )
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(scope, *, limit, window=60):
    """
    A view decorator: at most ``limit`` requests per client per ``window`` seconds in ``scope``
    (``limit`` may be a callable, read at each request, so settings can change it).
    """

    def decorate(view):
        @functools.wraps(view)
        def limited(request, *args, **kwargs):
            allowed = limit() if callable(limit) else limit
            wait = hit(scope=scope, client=client_address(request), limit=allowed, window=window)
            if wait:
                return too_many_requests(request, wait)
            return view(request, *args, **kwargs)

        return limited

    return decorate
