"""
The health score at scale, on ``seed_bench`` data: the nightly recompute of every customer, the
one-customer recompute, and the nightly tally of the books.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retention_bench .venv/bin/python bench/health.py

Everything runs in one transaction that is rolled back, so the bench database stays as seeded and
the run can be repeated. Measured:

- ``steady``: ``health_scan`` on a night when few scores changed (the usual night: a customer
  whose score and reasons did not change is not written);
- ``cold``: every stored score forgotten first, so every customer is written (the first night,
  or after the weights changed): the heaviest case;
- ``one customer``: ``health_recompute`` of ``--customers`` customers picked at random in the
  program, one at a time, as when a touchpoint is logged (median and p95);
- ``tally``: ``book_days_record`` for today (the dashboard's figures);
- with ``--workers N``, afterwards (only this with ``--only-workers``): the recompute as the
  nightly and a change of weights run it, ``health_scan_task`` cut into slices for one Celery
  worker of N processes, timed from the start to the last slice's tally, once on a usual night and
  once with every stored score forgotten first. These runs commit, as the nightly does: the
  database is left scored as of today (and its customers vacuumed).

Prints the load average before and after: the machine is shared, and the figures scale with it.
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import ROOT, django_setup

django_setup()

from django.db import connection, transaction  # noqa: E402

from customers.models import Customer  # noqa: E402
from retention.health.recompute import health_recompute, health_scan  # noqa: E402
from retention.health.tally import book_days_record  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=200, help="one-customer recomputes to time")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0,
                        help="also time the recompute on a worker of this many processes (commits)")
    parser.add_argument("--only-workers", action="store_true", help="time only the recompute on the worker")
    parser.add_argument("--json", help="write the worker's figures to this file")
    args = parser.parse_args()
    if not Customer.objects.filter(external_id__startswith="BENCH-").exists():
        sys.exit("No bench data: run `manage.py seed_bench --customers N` on this database first.")
    load = os.getloadavg()
    print(f"{Customer.objects.count():,} customers on {connection.vendor}; load average "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} ({os.cpu_count()} CPUs)")
    if args.only_workers:
        return on_workers(args.workers or 2, json_path=args.json)
    with transaction.atomic():
        report = timed("steady scan (few changes)", lambda: health_scan())
        print(f"    {report.scored:,} scored, {report.snapshots:,} snapshots written")
        ids = list(Customer.objects.in_program().values_list("pk", flat=True))
        picked = random.Random(args.seed).sample(ids, min(args.customers, len(ids)))
        times = []
        for pk in picked:
            started = time.perf_counter()
            health_recompute(customer_id=pk)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        print(f"  one customer: median {statistics.median(times):.1f} ms, p95 "
              f"{times[int(len(times) * 0.95) - 1]:.1f} ms, max {times[-1]:.1f} ms ({len(times)} customers)")
        timed("tally of the books (today)", lambda: book_days_record())
        Customer.objects.update(health_score=None, health_band="", health_factors={}, health_computed_at=None)
        report = timed("cold scan (every customer written)", lambda: health_scan())
        print(f"    {report.scored:,} scored, {report.snapshots:,} snapshots written")
        transaction.set_rollback(True)
    if args.workers:
        on_workers(args.workers, json_path=args.json)
    load = os.getloadavg()
    print(f"load average after {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


def on_workers(processes, json_path=None):
    """
    The recompute on a real worker of ``processes`` processes, as ``health_scan_task`` runs it
    (``health_scan_start`` queues the slices): a usual night, then a cold one.
    """
    from retention.health.nightly import health_scan_start
    from retention.models import HealthScan

    figures = {"processes": processes}
    log = tempfile.NamedTemporaryFile(prefix="bench-health-worker-", suffix=".log", delete=False)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "retention", "worker", "--pool=prefork",
         f"--concurrency={processes}", "--loglevel=INFO", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-n", f"bench-health-{os.getpid()}@%h"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait(lambda: "ready." in Path(log.name).read_text(errors="replace"), worker, log.name, 60)
        for label, forget in (("usual night", False), ("every score forgotten first", True)):
            if forget:
                Customer.objects.update(health_score=None, health_band="", health_factors={},
                                        health_computed_at=None)
            started = time.monotonic()
            scan = health_scan_start()
            finished = HealthScan.objects.filter(pk=scan.pk, finished_at__isnull=False)
            wait(finished.exists, worker, log.name, 1800)
            seconds = time.monotonic() - started
            scan.refresh_from_db()
            print(f"  on {processes} worker processes, {label}: {seconds:.1f} s "
                  f"({scan.slices} slices; {scan.scored:,} scored, {scan.snapshots:,} snapshots)",
                  flush=True)
            figures["cold_seconds" if forget else "steady_seconds"] = round(seconds, 1)
            figures.update(slices=scan.slices, scored=scan.scored)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    # The cold run rewrote every customer's row: vacuumed, as autovacuum would, before the pages.
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Customer._meta.db_table}")
    if json_path:
        Path(json_path).write_text(json.dumps(figures))
    return figures


def wait(condition, worker, log, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        if worker.poll() is not None or time.monotonic() > deadline:
            sys.exit("the health worker stopped or took too long:\n" + Path(log).read_text()[-3000:])
        time.sleep(0.2)


def timed(label, run):
    started = time.monotonic()
    result = run()
    print(f"  {label}: {time.monotonic() - started:.1f} s")
    return result


if __name__ == "__main__":
    main()
