"""
Calendar feed addresses made, reset, turned off and fetched: the one home of their rules.

The token is ``secrets.token_urlsafe(32)``: 256 bits, beyond guessing, and URL-safe so it sits in
the path (``/calendar/<token>.ics``), where calendar apps keep it. Each fetch looks the feed up by
the token's hash, so a reset or a turn-off refuses the old address at the next poll.
"""

import datetime
import secrets

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from customers.audit import AuditEvent, audit_record

from .models import CalendarFeed, feed_token_hash

TOKEN_BYTES = 32
# Calendar apps poll every few minutes to hours: ``last_fetched_at`` is written at most this often.
FETCH_RESOLUTION = datetime.timedelta(minutes=5)


def calendar_feed_issue(*, user, now=None):
    """
    A new secret address for ``user``'s feed, replacing any earlier one at once: ``(feed, token)``.
    The token exists only in what this returns.
    """
    now = now or timezone.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed, created = CalendarFeed.objects.update_or_create(
        user=user,
        defaults={"token_hash": feed_token_hash(token), "created_at": now, "last_fetched_at": None},
    )
    audit_record(AuditEvent.Action.USER, f"Calendar feed address of {user.get_username()} "
                 f"{'made' if created else 'reset'}", target=f"user {user.pk}")
    return feed, token


def calendar_feed_off(*, user):
    """Turn ``user``'s feed off: its address answers 404 from now on. False if there was none."""
    deleted, _ = CalendarFeed.objects.filter(user=user).delete()
    if deleted:
        audit_record(AuditEvent.Action.USER, f"Calendar feed of {user.get_username()} turned off",
                     target=f"user {user.pk}")
    return bool(deleted)


def calendar_feed_for_token(token):
    """The feed of this token with its user (one query), if the token is current and the user active."""
    return (CalendarFeed.objects.select_related("user")
            .filter(token_hash=feed_token_hash(token), user__is_active=True).first())


def calendar_feed_fetched(feed, now=None):
    """Note a fetch, unless one was noted less than ``FETCH_RESOLUTION`` ago."""
    now = now or timezone.now()
    if feed.last_fetched_at is not None and now - feed.last_fetched_at < FETCH_RESOLUTION:
        return
    CalendarFeed.objects.filter(pk=feed.pk).exclude(last_fetched_at__gte=now - FETCH_RESOLUTION).update(
        last_fetched_at=now)
    feed.last_fetched_at = now


def feed_url(token):
    """The absolute address of the feed of ``token``, for the calendar app."""
    return settings.SITE_URL + reverse("feeds:feed", args=[token])


def subscribe_url(token):
    """The same address as ``webcal://``: a click on it opens the system's calendar app to subscribe."""
    return "webcal://" + feed_url(token).split("://", 1)[1]
