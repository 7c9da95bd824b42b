"""
The calendar feed: the public ``.ics`` a calendar app polls, and, from the profile page, making,
resetting and turning off its secret address (shown once, on the page that answers).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from .ical import feed_calendar
from .items import feed_items
from .services import (
    calendar_feed_fetched,
    calendar_feed_for_token,
    calendar_feed_issue,
    calendar_feed_off,
    feed_url,
    subscribe_url,
)

MAX_AGE = 300  # seconds: calendar apps poll far less often; this spares the database a burst


@login_not_required
@require_GET
def feed(request, token):
    """The user's feed; an unknown, reset or turned-off token answers 404, saying nothing more."""
    calendar_feed = calendar_feed_for_token(token)
    if calendar_feed is None:
        raise Http404
    now = timezone.now()
    user = calendar_feed.user
    body = feed_calendar(user, feed_items(user, now), now)
    calendar_feed_fetched(calendar_feed, now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = f"private, max-age={MAX_AGE}"
    response["Content-Disposition"] = 'inline; filename="retention.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache  # the answer holds the secret address
@require_http_methods(["GET", "POST"])
def address(request):
    """Make the feed's address, or reset it (after confirming): the old one stops working at once."""
    existing = getattr(request.user, "calendar_feed", None)
    if request.method == "POST":
        _, token = calendar_feed_issue(user=request.user)
        return render(request, "feeds/feed_created.html", {
            "reset": existing is not None, "url": feed_url(token), "subscribe_url": subscribe_url(token),
        })
    return render(request, "feeds/feed_address.html", {"feed": existing})


@require_http_methods(["GET", "POST"])
def turn_off(request):
    """Turn the feed off (after confirming): its address answers 404 from now on."""
    existing = getattr(request.user, "calendar_feed", None)
    if existing is None:
        messages.info(request, "Your calendar feed is already off.")
        return redirect("profile")
    if request.method == "POST":
        calendar_feed_off(user=request.user)
        messages.success(request, "Your calendar feed is off: calendars subscribed to it get nothing more.")
        return redirect("profile")
    return render(request, "feeds/feed_off.html", {"feed": existing})
