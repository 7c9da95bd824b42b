"""
Seeding the benchmark: the demo people, ``bench-am-NNN`` account managers (one per 2,500
customers) and N ``BENCH-`` customers from ``bench_book``, written fast and kept flat in memory.

How it stays fast and flat: rows are generated in batches of customers and streamed, never held
for the whole run. Two processes make and write batches side by side (``writers.write_side_by_side``),
each batch with the fastest writer the database has, with explicit ids so rows can point at each
other within a batch (BENCH-n's id follows from n; the others' are taken in blocks), in one
transaction. A fresh load goes into tables without their secondary indexes and foreign keys,
built once (``indexes``): the other tables' after the load, the customers' at the very end, after
every pass that writes them: the denormalised fields computed set-based by the services' own
queries (``derived``), the real check-in scan, the surveys and the health scores
(``health``); the customer table is compacted before its indexes are built (``vacuum``).

A larger N later *tops up*: only the missing numbers are added (who referred whom, chosen within
a batch, and the ids may differ from a single run). Asking for no more customers than exist adds
nothing (it only resets the users' passwords). To start again, drop the database.
"""

import math
import resource
import time
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer
from customers.services import tags_get_or_create
from surveys.models import Invitation, Response
from touchpoints.checkins import checkins_open
from touchpoints.models import FollowUp, Touchpoint

from ..models import BookDay, HealthSnapshot
from .bench_book import ALLOCATED, EXTERNAL_ID_PREFIX, MODELS, BenchBook
from .book import TAGS
from .derived import denormalise
from .health import health_seed
from .indexes import indexes_deferred
from .people import DEMO_TEAMS, bench_users_ensure, demo_teams_ensure, demo_users_ensure
from .surveys import bench_surveys_seed
from .vacuum import analyze, compact_customers
from .writers import IdAllocator, row_writer, write_side_by_side

BATCH_CUSTOMERS = 2_000
CUSTOMERS_PER_BENCH_AM = 2_500


@dataclass
class BenchSeeded:
    present: int  # BENCH- customers before the run
    counts: dict  # {model: rows written}
    bench_users: int
    seconds: float


def bench_customer_count():
    """The highest BENCH- number present (the ids are zero-padded, so the order is numeric)."""
    last = (Customer.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX)
            .order_by("-external_id").values_list("external_id", flat=True).first())
    return int(last.removeprefix(EXTERNAL_ID_PREFIX)) if last else 0


def bench_am_count(customers):
    return max(len(DEMO_TEAMS), math.ceil(customers / CUSTOMERS_PER_BENCH_AM))


def bench_seed(*, customers, seed, password, batch_size=BATCH_CUSTOMERS, say=lambda line: None):
    """
    Make (or top up to) ``customers`` bench customers; ``say`` gets a line of progress now and
    then. Runs its own transactions (one a batch), so call it outside one for the VACUUMs.
    """
    started = time.monotonic()
    with transaction.atomic():
        users = demo_users_ensure(password=password)
        teams = demo_teams_ensure(users=users)
        bench_ams = bench_users_ensure(teams=teams, count=bench_am_count(customers), password=password)
        tags = {tag.name: tag.pk for tag in tags_get_or_create(TAGS)}
    have = bench_customer_count()
    seeded = BenchSeeded(present=have, counts={}, bench_users=sum(map(len, bench_ams.values())),
                         seconds=0.0)
    if have >= customers:
        return seeded
    if have:
        say(f"{have:,} bench customers present: topping up to {customers:,}.")
    say(f"Seeding customers {have + 1:,}…{customers:,} on {connection.vendor}, "
        f"batches of {batch_size:,}, seed {seed}.")

    book = BenchBook(seed=seed, users=users, teams=teams, bench_ams=bench_ams, tags=tags)
    writer = row_writer()
    ids = IdAllocator(ALLOCATED)
    first_id = ids.take_many(Customer, customers - have)  # BENCH-n's id is first_id + n - have - 1
    starts = range(have + 1, customers + 1, batch_size)

    def batch(start):
        numbers = range(start, min(start + batch_size, customers + 1))
        return book.batch(numbers, ids, first_customer_id=first_id + start - have - 1)

    def progress():
        count = have + writer.counts.get(Customer, 0)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # kB on Linux
        say(f"  {count:,}/{customers:,} customers, {writer.counts.get(Touchpoint, 0):,} "
            f"touchpoints, {time.monotonic() - started:.1f} s, peak RSS {peak} MB")

    # Into tables that hold at least as many rows already, building the indexes again would cost
    # more than keeping them up to date. The customer table's stay off until the rows derived from
    # the load are written: each pass over a million customers would otherwise write every one of
    # their indexes too, and there are more of them than on any other table.
    fresh_load = customers - have >= have
    others = [model for model in MODELS if model is not Customer]
    with indexes_deferred([Customer], say=say) if fresh_load else nullcontext():
        with indexes_deferred(others, say=say) if fresh_load else nullcontext():
            try:
                write_side_by_side(batch, starts, writer, ids=ids, done=progress)
            finally:  # past every id handed out, even if the load stopped: the app's inserts use them
                ids.sync_sequences()
            loaders = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
            say(f"  loaded in {time.monotonic() - started:.1f} s"
                + (f", peak RSS of a loading process {loaders} MB" if loaders else ""))
        fresh = Customer.objects.filter(pk__range=(first_id, ids.last_used(Customer)))
        _derive(fresh, first_id=first_id, seed=seed, say=say)
        step = time.monotonic()
        sizes = compact_customers()
        if sizes:
            say(f"  customers compacted: {sizes[0] / 2**20:.1f} → {sizes[1] / 2**20:.1f} MB "
                f"({time.monotonic() - step:.1f} s)")
    # Vacuumed once more, as autovacuum would a database in use, so the pages' index-only scans
    # find the rows visible to all.
    step = time.monotonic()
    analyze([Customer, HealthSnapshot, BookDay, Invitation, Response])
    say(f"  vacuum/analyze of what the scans wrote: {time.monotonic() - step:.1f} s")
    seeded.counts = writer.counts
    seeded.seconds = time.monotonic() - started
    return seeded


def _derive(fresh, *, first_id, seed, say):
    """What the services derive from the loaded rows, then the check-ins, surveys and health."""
    step = time.monotonic()
    denormalise(customers=fresh, today=timezone.localdate())
    say(f"  denormalised fields: {time.monotonic() - step:.1f} s")

    # Statistics before the scan: planned on "empty" tables, its anti-join takes minutes.
    step = time.monotonic()
    analyze()
    say(f"  vacuum/analyze: {time.monotonic() - step:.1f} s")

    step = time.monotonic()
    opened = checkins_open()
    analyze([FollowUp])
    say(f"  check-in follow-ups opened by the scan: {opened:,} ({time.monotonic() - step:.1f} s)")
    step = time.monotonic()
    bench_surveys_seed(seed=seed, customers_from=first_id, say=say)
    say(f"  surveys: {time.monotonic() - step:.1f} s")
    health_seed(customers=fresh, seed=seed, say=say)
