"""
The automated programs at scale: the daily program scan on a real Celery worker, then that worker
sending what the scan queued to a local SMTP sink over reused connections.

    createdb -h 127.0.0.1 -U postgres -T retention_bench retention_bench5   # a copy: this writes
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retention_bench5 \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/programs.py --all-checkins

1. Starts the SMTP sink (``python -m bench.smtp_sink``, its own process, accepting
   everything) and one worker (``--pool=solo``) on a queue of its own, mailing to the sink.
2. Removes what an earlier run of this script wrote (the programs' outbox rows, their timeline
   entries and the card reminders), so runs can be repeated.
3. Sets every program's hour to 00:00, so that what the scan decides for today is due at once (a
   day gone by would be expired, never sent late), queues ``touchpoints.tasks.program_scan`` for
   ``--date`` (by default each customer's own today) and reads the scan's time from the worker's log.
4. Waits until every message due is sent (or deferred to a later day by the daily limit), or
   ``--send-seconds`` have gone by: messages per second of the one worker.
5. Queues the scan again: nothing new to decide, the time of the usual hourly rerun.

``--all-checkins`` first switches the automated check-in email on for every team (it is off by
default), so every customer past its cadence gets one: the heaviest day. The worker's peak RSS is
sampled from /proc throughout. Nothing leaves 127.0.0.1.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import ROOT, django_setup


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--date", help="the local date to scan for (default: today in each time zone)")
    parser.add_argument("--all-checkins", action="store_true",
                        help="switch the automated check-in email on for every team first")
    parser.add_argument("--json", help="write the results to this file too")
    parser.add_argument("--send-seconds", type=float, default=3600,
                        help="time the sending this long at most (default 3600): the rate is of what went")
    args = parser.parse_args()
    queue = f"bench-programs-{os.getpid()}"
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = queue
    django_setup()

    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from customers.models import Customer, Team
    from touchpoints.messaging.scans import EMAIL_PROGRAMS
    from touchpoints.models import FollowUp, OutboxMessage, Program, Touchpoint
    from touchpoints.tasks import program_scan

    # Without --date, each customer's own local date, as the hourly scan runs.
    day = datetime.date.fromisoformat(args.date).isoformat() if args.date else None
    if connection.vendor != "postgresql":
        sys.exit("use PostgreSQL (DATABASE_URL), on a copy of the seed_bench database")

    # 2. A clean slate.
    sent = OutboxMessage.objects.filter(program__in=EMAIL_PROGRAMS)
    Touchpoint.objects.filter(pk__in=sent.exclude(touchpoint=None).values("touchpoint")).delete()
    sent.delete()
    FollowUp.objects.filter(kind=FollowUp.Kind.CARD, occasion_key__startswith="card:").delete()
    Team.objects.update(automated_checkins=args.all_checkins)
    Program.objects.update(send_hour=0)
    customers = Customer.objects.count()

    # 1. The sink and the worker.
    port = free_port()
    sink_log = tempfile.NamedTemporaryFile(prefix="bench-sink-", suffix=".log", delete=False)
    sink = subprocess.Popen([sys.executable, "-m", "bench.smtp_sink", "--port", str(port)],
                            cwd=ROOT, stdout=sink_log, stderr=subprocess.STDOUT)
    worker_log = tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log", delete=False)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "retention", "worker", "--pool=solo", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{queue}@%h"],
        cwd=ROOT, env={**os.environ, "EMAIL_URL": f"smtp://127.0.0.1:{port}"},
        stdout=worker_log, stderr=subprocess.STDOUT,
    )
    peak = 0.0
    try:
        def log():
            return Path(worker_log.name).read_text(errors="replace")

        def wait(condition, timeout, what):
            nonlocal peak
            deadline = time.monotonic() + timeout
            while not condition():
                peak = max(peak, rss_mb(worker.pid))
                if time.monotonic() > deadline or worker.poll() is not None:
                    sys.exit(f"gave up waiting for {what}:\n{log()[-3000:]}")
                time.sleep(0.1)

        wait(lambda: "ready." in log(), 60, "the worker")
        idle_rss = rss_mb(worker.pid)

        def scans_done():
            return re.findall(r"program_scan\[[^\]]+\] succeeded in ([0-9.]+)s: (.*)", log())

        # 3. The scan.
        program_scan.delay(day)
        wait(lambda: len(scans_done()) >= 1, 1800, "the scan")
        scan_seconds, scan_result = scans_done()[0]
        pending = OutboxMessage.objects.filter(status="pending", send_after__lte=timezone.now())
        decided = OutboxMessage.objects.filter(program__in=EMAIL_PROGRAMS).count()

        # 4. Sending.
        first_sent = OutboxMessage.objects.filter(status="sent").order_by("sent_at").values_list(
            "sent_at", flat=True)
        sending_until = time.monotonic() + args.send_seconds
        wait(lambda: time.monotonic() > sending_until or (
            not pending.exists() and not OutboxMessage.objects.filter(status="sending").exists()),
             args.send_seconds + 60, "the sending")
        times = list(first_sent)
        unsent = pending.count()
        send_seconds = (times[-1] - times[0]).total_seconds() if len(times) > 1 else 0.0
        rate = (len(times) - 1) / send_seconds if send_seconds else 0.0

        # 5. The rerun.
        program_scan.delay(day)
        wait(lambda: len(scans_done()) >= 2, 1800, "the rerun")
        rerun_seconds, rerun_result = scans_done()[1]
        peak = max(peak, rss_mb(worker.pid))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        sink.terminate()
        sink.wait(timeout=30)

    result = {
        "customers": customers, "date": day or "today, each zone's", "all_checkins": args.all_checkins,
        "scan_seconds": float(scan_seconds), "messages_decided": decided,
        "scan_result": scan_result.strip(),
        "messages_sent": len(times), "send_seconds": round(send_seconds, 1),
        "messages_per_second": round(rate, 1), "left_unsent_at_the_time_limit": unsent,
        "smtp_accepted": Path(sink_log.name).read_text().strip().splitlines()[-1],
        "rerun_seconds": float(rerun_seconds), "rerun_result": rerun_result.strip(),
        "statuses": dict(OutboxMessage.objects.filter(program__in=EMAIL_PROGRAMS).values_list("status")
                         .annotate(n=Count("pk")).order_by()),
        "worker_rss_idle_mb": round(idle_rss), "worker_rss_peak_mb": round(peak),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
