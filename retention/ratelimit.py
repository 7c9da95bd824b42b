"""
Rate limits per client, shared by every worker: fixed-window counters in Django's cache.

One of the shared helpers the apps may import from ``retention`` (``SHARED_HELPERS`` in
retention/tests/test_layering.py): it imports no app. The cache is Redis in production (see
``CACHES`` in settings), so a limit holds across gunicorn workers and machines; the embedded
default's file cache is shared by the processes of one machine.

A request over the limit gets 429 with ``Retry-After`` (the seconds left in the window) and the
page ``429.html``. The client is ``security.client_address``: behind ``TRUSTED_PROXY_COUNT``
proxies, the address the outermost of them saw.

When the cache fails (Redis down or frozen), requests go through uncounted: a limit that cannot
be counted is not worth an error page for everyone. Logins stay guarded by the lockout, which
lives in the database. The first failure logs a WARNING, the first success after it an INFO, once
per outage and process.
"""

import functools
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string

from .security import client_address

KEY_PREFIX = "ratelimit"

log = logging.getLogger(__name__)
_cache_failing = False  # this process's last attempt to count failed


def hit(*, scope, client, limit, window):
    """
    Count one request of ``client`` in ``scope``; returns the seconds to wait when it is over
    ``limit`` requests in the current ``window`` seconds, else 0.
    """
    now = time.time()
    window_start = int(now // window) * window
    key = f"{KEY_PREFIX}:{scope}:{client or 'unknown'}:{window_start}"
    global _cache_failing
    try:
        count = _count(key, timeout=window + 1)
    except Exception as error:  # whatever the cache's client raises: let the request through
        if not _cache_failing:
            _cache_failing = True
            log.warning("rate limits are not counted: the cache failed (%s: %s)",
                        error.__class__.__name__, error)
        return 0
    if _cache_failing:
        _cache_failing = False
        log.info("rate limits are counted again: the cache answers")
    if count > limit:
        return max(1, int(window_start + window - now + 0.999))
    return 0


# INCR, and EXPIRE on the window's first request: atomic, in one round trip.
COUNT_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


def _count(key, *, timeout):
    """Add one to the counter ``key`` (created with ``timeout``) and return it, atomically."""
    redis = getattr(cache, "_cache", None)
    if hasattr(redis, "get_client"):
        # The Redis cache: one script call on the busiest public endpoints. The script is kept on
        # the cache's client (one a thread).
        script = getattr(redis, "_retention_count_script", None)
        if script is None:
            script = redis._retention_count_script = redis.get_client(key, write=True).register_script(
                COUNT_SCRIPT)
        return script(keys=[cache.make_and_validate_key(key)], args=[timeout])
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


def signed_in_user(request):
    """The counter of a signed-in person's own requests, wherever they come from."""
    return f"user-{request.user.pk}" if request.user.is_authenticated else client_address(request)


def rate_limited(scope, *, limit, window=60, client=client_address):
    """
    A view decorator: at most ``limit`` requests per client per ``window`` seconds in ``scope``
    (``limit`` may be a callable, read at each request, so settings can change it). ``client``
    names whose counter a request counts against: its address (``client_address``) by default,
    the signed-in person with ``signed_in_user``.
    """

    def decorate(view):
        @functools.wraps(view)
        def limited(request, *args, **kwargs):
            allowed = limit() if callable(limit) else limit
            wait = hit(scope=scope, client=client(request), limit=allowed, window=window)
            if wait:
                return too_many_requests(request, wait)
            return view(request, *args, **kwargs)

        return limited

    return decorate


def export_rate_limited(view):
    """Exports of the book: at most ``EXPORT_RATE_LIMIT_PER_MINUTE`` a minute per person."""
    return rate_limited("export", limit=_export_limit, client=signed_in_user)(view)


def _export_limit():
    return settings.EXPORT_RATE_LIMIT_PER_MINUTE
