"""
"Something that matters about this customer happened": a touchpoint logged, edited or deleted, a
promise made or closed, a complaint opened or moved on, a purchase added or removed. The services
say so here (a survey answer, which comes by the thousand from outside, marks the customer's
``health_stale`` instead, for the health sweep); what depends on it (the health score in
``retention``) listens, so the apps never import the project package that composes them
(surveys → touchpoints → customers, and ``retention`` above all three).

The signal is sent once the deciding transaction commits, so a listener sees the committed rows
and a rolled-back change announces nothing. Listeners must be quick (enqueue work, or a small
recompute) and never fail the change that was made.

``notes_imported`` is the other kind: sent *inside* a CSV import's transaction with the notes of the
customers it created, for the app that keeps timelines (touchpoints) to write them as the first note
of each, all or nothing with the import (a listener that fails, fails the import).

``customer_event`` is the third: a moment the outside world may want to hear of (a complaint opened,
a promise broken, a customer churned, a detractor's or promoter's answer), announced by the service
that decides it through ``customer_event_announce``, *inside* its transaction. The webhooks
(``retention/webhooks/receivers.py``) listen and write their deliveries in that same transaction, so
an event is committed with its change or not at all, and survives a process that dies after the
commit. Its types are ``EventType``'s; a listener that fails, fails the change. When nobody
subscribes to a type, a listener must cost the sender no query (the survey answer is a hot path).
"""

import contextlib
import threading

from django.db import transaction
from django.dispatch import Signal

# Sent with ``customer_id`` and ``what`` (a short word: "touchpoint", "promise", "complaint",
# "purchase", ...).
customer_activity = Signal()

# Sent with ``notes`` ([(customer id, text)]), ``user`` (or None) and ``at`` (when).
notes_imported = Signal()

# Sent with ``event_type`` (an ``EventType``), ``customer_id`` and ``data``: the object's own
# fields, ``{"complaint": {...}}`` or ``{"promise": {...}}`` or ``{"survey": {...}}``, plain values
# (dates and datetimes are fine).
customer_event = Signal()


class EventType:
    """What ``customer_event`` announces; the webhooks' catalogue describes each."""

    CUSTOMER_AT_RISK = "customer.at_risk"
    CUSTOMER_RECOVERED = "customer.recovered"
    CUSTOMER_CHURNED = "customer.churned"
    SURVEY_DETRACTOR = "survey.detractor"
    SURVEY_PROMOTER = "survey.promoter"
    COMPLAINT_OPENED = "complaint.opened"
    COMPLAINT_BREACHED = "complaint.breached"
    PROMISE_BROKEN = "promise.broken"


def customer_activity_recorded(*, customer_id, what):
    """Announce, on commit, that ``what`` happened to customer ``customer_id``."""
    batch = getattr(_in_bulk, "customer_ids", None)
    if batch is not None:
        batch.add(customer_id)
        return
    transaction.on_commit(
        lambda: customer_activity.send_robust(sender=None, customer_id=customer_id, what=what)
    )


_in_bulk = threading.local()


@contextlib.contextmanager
def activity_in_bulk():
    """
    Changes that come by the thousand (an API request of 1,000 touchpoints): inside this block,
    ``customer_activity_recorded`` collects the customers instead of announcing each, and at its
    end they are marked ``health_stale`` in one UPDATE, for the minute's health sweep, as a
    survey answer marks them. Use it inside the transaction that makes the changes.
    """
    from .models import Customer

    _in_bulk.customer_ids = customer_ids = set()
    try:
        yield
    finally:
        del _in_bulk.customer_ids
    if customer_ids:
        Customer.objects.filter(pk__in=customer_ids).update(health_stale=True)


def customer_event_announce(*, event_type, customer_id, data):
    """Announce ``event_type`` about customer ``customer_id``, now, inside the caller's transaction."""
    customer_event.send(sender=None, event_type=event_type, customer_id=customer_id, data=data)
