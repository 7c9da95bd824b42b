"""
A user's calendar feed: the secret address a calendar app polls. Only the SHA-256 of its token is
kept (the token is 32 random bytes, so a fast hash is enough and lets each fetch find its feed by
an indexed look-up); the address is shown once, when it is made. One per user: a new address
replaces the old one in the same row, so the old one stops working at once.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone


def feed_token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeed(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Calendar feed of {self.user}"
