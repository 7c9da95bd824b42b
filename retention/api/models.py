"""
Per-user API tokens: the credential a script or an integration sends as ``Authorization: Bearer``.

The secret is shown once, when the token is made, and only its SHA-256 is kept: a leaked database
or backup yields no usable token. A slow password hash would add nothing here: the secret is 32
random bytes, not something a person chose, so no dictionary can guess it, and one fast hash lets
each request find its token by an indexed look-up. ``prefix`` (the secret's first characters) is
kept in the clear so that people can tell their tokens apart.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def token_hash(secret):
    """The SHA-256 of a token's secret, as stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        """Tokens neither revoked nor expired."""
        now = now or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True)


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, to tell tokens apart.")
    prefix = models.CharField(max_length=12, help_text="The first characters of the token, shown in lists.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="api_token_user_created")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, now=None):
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def state(self):
        """'revoked', 'expired' or 'active', for the lists."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired() else "active"
