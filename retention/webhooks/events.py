"""
The events endpoints may subscribe to, and announcing one: an ``Event`` with the body every attempt
will post, and a ``Delivery`` for each enabled endpoint subscribed to its type, written in the
caller's transaction; the deliveries are queued once it commits.

Who subscribes to what is kept in Django's cache for ``SUBSCRIPTIONS_SECONDS`` and dropped when an
endpoint changes (``subscriptions_changed``), so announcing a type nobody subscribes to costs no
query: the survey answer, a hot public endpoint, announces detractors and promoters. When the cache
fails, the database answers instead.
"""

import json
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from customers.events import EventType
from customers.models import Customer

from .delivery import enqueue_on_commit
from .models import Delivery, Endpoint, Event

log = logging.getLogger(__name__)

# Every type an endpoint may subscribe to, with what it means, for the form and the docs.
CATALOGUE = {
    EventType.CUSTOMER_AT_RISK: "A customer's health band became at risk.",
    EventType.CUSTOMER_RECOVERED: "A customer's health band came back from at risk.",
    EventType.CUSTOMER_CHURNED: "A customer's status was set to churned.",
    EventType.SURVEY_DETRACTOR: "A survey answer from a detractor (NPS 0–6, CSAT 1–2).",
    EventType.SURVEY_PROMOTER: "A survey answer from a promoter (NPS 9–10, CSAT 4–5).",
    EventType.COMPLAINT_OPENED: "A complaint was opened.",
    EventType.COMPLAINT_BREACHED: "A complaint passed its resolution target unresolved.",
    EventType.PROMISE_BROKEN: "A promise to a customer was marked broken.",
}
# Sent to one endpoint when an admin asks for it; nobody subscribes to it.
TEST_EVENT = "webhook.test"

SUBSCRIPTIONS_KEY = "webhooks:subscriptions"
SUBSCRIPTIONS_SECONDS = 30


# Who listens ----------------------------------------------------------------------------------


def subscriptions():
    """``{event type: [endpoint id, ...]}`` of the enabled endpoints, from the cache when it has it."""
    try:
        table = cache.get(SUBSCRIPTIONS_KEY)
    except Exception:  # whatever the cache's client raises: the database answers
        log.warning("webhook subscriptions read from the database: the cache failed", exc_info=True)
        return _subscriptions_read()
    if table is None:
        table = _subscriptions_read()
        try:
            cache.set(SUBSCRIPTIONS_KEY, table, SUBSCRIPTIONS_SECONDS)
        except Exception:
            log.warning("could not cache the webhook subscriptions", exc_info=True)
    return table


def _subscriptions_read():
    table = {}
    for pk, types in Endpoint.objects.filter(enabled=True).order_by("pk").values_list("pk", "events"):
        for event_type in types:
            table.setdefault(event_type, []).append(pk)
    return table


def subscriptions_changed():
    """An endpoint was added, changed or removed: the cached table goes once that commits."""
    transaction.on_commit(_subscriptions_forget)


def _subscriptions_forget():
    try:
        cache.delete(SUBSCRIPTIONS_KEY)
    except Exception:  # it expires by itself within SUBSCRIPTIONS_SECONDS
        log.warning("could not drop the cached webhook subscriptions", exc_info=True)


# Announcing ------------------------------------------------------------------------------------


def announce(*, event_type, customer_id, data, occasion_key=""):
    """One event about one customer; see ``announce_many``."""
    return announce_many(event_type, [(customer_id, data, occasion_key)])


def announce_many(event_type, items, *, now=None):
    """
    Announce ``event_type`` for each ``(customer id, data, occasion key or "")`` of ``items``, in
    the caller's transaction; returns the deliveries written. An occasion key already taken (a
    second scan) announces nothing again. Nothing is read when nobody subscribes.
    """
    endpoint_ids = subscriptions().get(event_type)
    if not endpoint_ids or not items:
        return []
    # The cached table may be a few seconds behind a change: the database has the last word.
    endpoint_ids = list(Endpoint.objects.filter(pk__in=endpoint_ids, enabled=True)
                        .values_list("pk", flat=True))
    if not endpoint_ids:
        return []
    now = now or timezone.now()
    customers = Customer.objects.select_related("owner").only(
        "name", "external_id", "health_score", "health_band", "owner__username"
    ).in_bulk({customer_id for customer_id, _, _ in items})
    events = [
        _event(event_type, now, {"customer": customer_data(customers[customer_id]), **data}, key)
        for customer_id, data, key in items if customer_id in customers
    ]
    if any(event.occasion_key for event in events):
        Event.objects.bulk_create(events, ignore_conflicts=True)
        written = set(Event.objects.filter(pk__in=[e.pk for e in events]).values_list("pk", flat=True))
        events = [event for event in events if event.pk in written]
    else:
        Event.objects.bulk_create(events)
    return _deliveries_write(events, endpoint_ids, now)


def announce_test(*, endpoint):
    """A test event for ``endpoint`` alone, whatever it subscribes to."""
    now = timezone.now()
    event = _event(TEST_EVENT, now, {
        "endpoint": {"id": endpoint.pk, "description": endpoint.description},
        "message": "A test event sent from the Webhooks page.",
    })
    event.save(force_insert=True)
    return _deliveries_write([event], [endpoint.pk], now)[0]


def customer_data(customer):
    """The customer as every event's ``data.customer`` shows it."""
    return {
        "id": customer.pk,
        "name": customer.name,
        "external_id": customer.external_id,
        "owner": customer.owner.username if customer.owner_id else None,
        "health_score": customer.health_score,
        "health_band": customer.health_band or None,
        "url": settings.SITE_URL + reverse("customer_detail", args=[customer.pk]),
    }


def _event(event_type, now, data, occasion_key=""):
    event_id = uuid.uuid4()
    body = json.dumps({"id": str(event_id), "type": event_type, "created_at": now, "data": data},
                      cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return Event(id=event_id, type=event_type, occasion_key=occasion_key, body=body, created_at=now)


def _deliveries_write(events, endpoint_ids, now):
    deliveries = Delivery.objects.bulk_create([
        Delivery(event=event, endpoint_id=endpoint_id, next_attempt_at=now, created_at=now)
        for event in events for endpoint_id in endpoint_ids
    ])
    enqueue_on_commit([delivery.pk for delivery in deliveries])
    return deliveries
