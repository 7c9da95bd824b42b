"""
The health score listens to ``customers.events.customer_activity``: when something that matters
happens to a customer (a touchpoint, a complaint, a promise, a purchase, an unsubscribe, an edit),
its score is recomputed at once. The signal comes once the change has committed; the recompute is
a handful of small queries, so it runs inline where a person of the team made the change and looks
at the page next. A customer's survey answer is the exception: it marks the score stale in its own
UPDATE, and the minute's sweep recomputes it (``recompute.health_sweep``). If the inline recompute
fails, the change stands: the failure is logged and the recompute handed to a worker (and the
nightly scan redoes everyone anyway).
"""

import logging

from customers.events import customer_activity

log = logging.getLogger(__name__)


def connect():
    customer_activity.connect(on_customer_activity, dispatch_uid="retention.health.recompute")


def on_customer_activity(sender, *, customer_id, what, **kwargs):
    from .recompute import health_recompute

    try:
        health_recompute(customer_id=customer_id)
    except Exception:
        log.exception("health recompute of customer %s after %s failed; queued for a worker",
                      customer_id, what)
        _queue(customer_id)


def _queue(customer_id):
    from ..tasks import health_recompute_task

    try:
        health_recompute_task.delay(customer_id)
    except Exception:  # the broker is down too: the nightly scan will do it
        log.warning("could not queue the health recompute of customer %s", customer_id, exc_info=True)
