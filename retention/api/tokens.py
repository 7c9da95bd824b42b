"""
API tokens made, found, used and revoked: the one home of their rules, which the profile page,
the ``api_token_create`` command and the authentication class all call.

A token is ``rtn_`` and 32 random bytes (``secrets.token_urlsafe``): recognisable in a leaked
file or a secret scanner, and beyond guessing. Revoking takes effect at the next request: tokens
are looked up in the database on every request, never cached.
"""

import datetime
import secrets

from django.utils import timezone

from customers.audit import AuditEvent, audit_record

from .models import ApiToken, token_hash

TOKEN_PREFIX = "rtn_"
TOKEN_BYTES = 32
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
# How stale ``last_used_at`` may be: a request writes it only when it is older than this, so
# a busy integration costs one UPDATE a minute, not one a request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def api_token_create(*, user, name, expires_in_days=None, now=None):
    """A new token for ``user``: ``(token, secret)``. The secret exists only in what this returns."""
    now = now or timezone.now()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:PREFIX_LENGTH], key_hash=token_hash(secret), created_at=now,
        expires_at=now + datetime.timedelta(days=expires_in_days) if expires_in_days else None,
    )
    audit_record(AuditEvent.Action.USER, f"API token “{name}” ({token.prefix}…) created for "
                 f"{user.get_username()}", target=f"user {user.pk}")
    return token, secret


def api_token_revoke(*, token, now=None):
    """Revoke ``token`` at once; True if this call revoked it (False: it already was)."""
    now = now or timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        token.revoked_at = now
        audit_record(AuditEvent.Action.USER, f"API token “{token.name}” ({token.prefix}…) of "
                     f"{token.user.get_username()} revoked", target=f"user {token.user_id}")
    return bool(revoked)


def api_token_for_secret(secret):
    """The token whose secret this is, with its user (one query), whatever its state; or None."""
    return ApiToken.objects.select_related("user").filter(key_hash=token_hash(secret)).first()


def api_token_used(token, now=None):
    """Note that ``token`` was used now, unless that was noted less than a minute ago."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    # Conditional, so that concurrent requests of the same minute write once between them.
    ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gte=now - LAST_USED_RESOLUTION).update(
        last_used_at=now)
    token.last_used_at = now
