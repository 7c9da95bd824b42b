"""
What a set-based job does around each batch.

``cycle_collector_paused()``: Python's cycle collector off while a batch is read and worked on.
A batch makes hundreds of thousands of small objects (rows, dicts, dates) and keeps them until it
is written; reference counting frees them as usual, none of them in cycles. But the collector runs
every few hundred allocations and, as the survivors pile up, walks every live object of the
process: a third of a worker's time on the nightly health scan (``retention/health/recompute.py``)
went to passes that found nothing to free. It runs again as usual after the batch.
"""

import contextlib
import gc


@contextlib.contextmanager
def cycle_collector_paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
