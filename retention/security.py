"""
What every request goes through to keep the app safe on the open internet, beside Django's own
security middleware: who the client is behind the proxies, addresses carrying a NUL character,
sessions that end when left idle, the Permissions-Policy header, and the pages whose
Content-Security-Policy (settings) lets an email's inline styles show. Login lockouts are
django-axes' (settings, "Login lockout"); rate limits are ``retention.ratelimit``'s; both name the
client with ``client_address``.

One of the shared helpers the apps may import from ``retention``: it imports no app.
"""

import time

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest

# Browser features the app never uses, refused to every page and whatever it embeds.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in ("accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone",
                    "payment", "usb")
)
# Pages that show an email as it will arrive: its HTML styles itself inline, as email must, inside a
# sandboxed frame, which takes the page's policy; the page allows inline styles, never scripts.
shows_email = csp_update({"style-src": [UNSAFE_INLINE]})
# The session's last activity is written at most this often, not on every request.
ACTIVITY_RESOLUTION_SECONDS = 60
LAST_ACTIVITY = "last_activity"


def client_address(request):
    """
    The client's address: the connection's own, or behind ``TRUSTED_PROXY_COUNT`` proxies the one
    the outermost of them saw (``X-Forwarded-For`` counted from the right, so a client cannot
    choose its address by sending the header itself). Empty when unknown.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def session_started(sender, request, user, **kwargs):
    """``user_logged_in`` receiver: signing in is activity (and spares the first page a write)."""
    request.session[LAST_ACTIVITY] = int(time.time())


class SessionIdleMiddleware:
    """
    A signed-in session unused for ``SESSION_IDLE_MINUTES`` ends: the next request signs in again.
    The time of the last activity is written at most once a minute, not on every page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY)
            if last is not None and now - last > settings.SESSION_IDLE_MINUTES * 60:
                logout(request)
                messages.info(request, f"You were signed out after {settings.SESSION_IDLE_MINUTES} minutes "
                                       "without activity. Sign in to go on.")
                return redirect_to_login(request.get_full_path())
            if last is None or now - last >= ACTIVITY_RESOLUTION_SECONDS:
                request.session[LAST_ACTIVITY] = now
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class NulRefusingMiddleware:
    """
    An address or query string with a NUL character answers 400. PostgreSQL refuses NUL in text,
    so a search, a filter or a token holding one would fail deep in a query; no browser sends one
    unless asked to. What a form posts is the form's to check (Django's text fields refuse NUL with
    a message by the field).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            raise BadRequest("The address holds a NUL character.")
        return self.get_response(request)
