"""
The signature and headers of a delivery, as ``docs/WEBHOOKS.md`` tells receivers to check them.

``X-Retention-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret>``.
The timestamp is signed with the body, so a receiver that refuses old timestamps refuses a replay;
the event id (``X-Retention-Delivery``) is the same on every attempt, so it can drop a repeat.
The ``v1=`` prefix leaves room for another scheme, sent beside this one, when the need comes.
"""

import hashlib
import hmac
import secrets

USER_AGENT = "Retention-Webhooks/1"
SECRET_PREFIX = "whsec_"


def secret_new():
    """A new endpoint secret: 256 random bits, recognisable in a configuration file."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(*, secret, timestamp, body):
    """``v1=<hex>`` for ``body`` (bytes) sent at ``timestamp`` (integer seconds since the epoch)."""
    message = f"{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def headers(*, secret, event_id, event_type, timestamp, body):
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Retention-Event": event_type,
        "X-Retention-Delivery": str(event_id),
        "X-Retention-Timestamp": str(timestamp),
        "X-Retention-Signature": signature(secret=secret, timestamp=timestamp, body=body),
    }
