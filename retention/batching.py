"""
What a set-based job does around each batch.

``id_slices(queryset, size)``: the ranges of ids that cut a table's rows into parts of at most
``size`` ids, for work shared out side by side (the nightly health scan's slices, the seeding's
processes).

``cycle_collector_paused()``: Python's cycle collector off while a batch is read and worked on.
A batch makes hundreds of thousands of small objects (rows, dicts, dates) and keeps them until it
is written; reference counting frees them as usual, none of them in cycles. But the collector runs
every few hundred allocations and, as the survivors pile up, walks every live object of the
process: a third of a worker's time on the nightly health scan (``retention/health/recompute.py``)
went to passes that found nothing to free. It runs again as usual after the batch.
"""

import contextlib
import gc

from django.db.models import Max, Min


@contextlib.contextmanager
def cycle_collector_paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def id_slices(queryset, size):
    """[(low, high), …]: the ranges low ≤ id < high, ``size`` ids each, that cover ``queryset``'s rows."""
    bounds = queryset.order_by().aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return []
    return [(low, min(low + size, bounds["high"] + 1))
            for low in range(bounds["low"], bounds["high"] + 1, size)]
