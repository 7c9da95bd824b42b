"""
What admins do to endpoints: register one (its secret made here and returned once), change it,
switch it off and on, rotate its secret, send it a test event, remove it. Each change drops the
cached table of who subscribes to what (``events.subscriptions_changed``).
"""

from django.db import transaction
from django.utils import timezone

from .delivery import enqueue_on_commit
from .events import announce_test, subscriptions_changed
from .models import Delivery, Endpoint
from .signing import secret_new


@transaction.atomic
def endpoint_create(*, user, url, description, events):
    """A new endpoint, enabled; returns ``(endpoint, secret)``: the one time the secret is given."""
    secret = secret_new()
    endpoint = Endpoint.objects.create(url=url, description=description, events=list(events),
                                       secret=secret, created_by=user)
    subscriptions_changed()
    return endpoint, secret


@transaction.atomic
def endpoint_update(*, endpoint, url, description, events):
    endpoint.url, endpoint.description, endpoint.events = url, description, list(events)
    endpoint.updated_at = timezone.now()
    endpoint.save(update_fields=["url", "description", "events", "updated_at"])
    subscriptions_changed()
    return endpoint


@transaction.atomic
def endpoint_switch(*, endpoint, enabled):
    """
    Switch an endpoint on or off. Switched on, the deliveries that waited meanwhile are sent now,
    whatever their backoff said: someone has just looked at the receiver.
    """
    now = timezone.now()
    Endpoint.objects.filter(pk=endpoint.pk).update(
        enabled=enabled, disabled_reason="", disabled_at=None if enabled else now, updated_at=now)
    endpoint.enabled, endpoint.disabled_reason = enabled, ""
    if enabled:
        waiting = Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.PENDING)
        waiting.update(next_attempt_at=now, lease_until=None)
        enqueue_on_commit(list(waiting.values_list("pk", flat=True)[:1000]))  # the sweeper does the rest
    subscriptions_changed()
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint):
    """A new secret, returned once; deliveries from now on are signed with it."""
    secret = secret_new()
    Endpoint.objects.filter(pk=endpoint.pk).update(secret=secret, updated_at=timezone.now())
    endpoint.secret = secret
    return secret


@transaction.atomic
def endpoint_send_test(*, endpoint):
    """A ``webhook.test`` event to this endpoint alone; returns its delivery."""
    return announce_test(endpoint=endpoint)


@transaction.atomic
def endpoint_delete(*, endpoint):
    """The endpoint and its delivery log go; the events stay for the other endpoints' logs."""
    endpoint.delete()
    subscriptions_changed()
