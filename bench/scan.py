"""
Wall time and peak memory of the daily scans (``manage.py run_daily_jobs``), on ``seed_bench`` data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retention_bench .venv/bin/python bench/scan.py

Each scenario runs in a fresh Python process (so its peak RSS, from ``resource.getrusage``, is
that of a worker doing only this: Django loaded, one scan run) and inside one transaction that is
rolled back at the end, so the bench database is left as it was and the run can be repeated (the
messages the scans queue are never handed to Celery: ``on_commit`` never fires). Scenarios:

- ``dry-run``: ``run_daily_jobs --dry-run``, the listing only;
- ``steady``: ``run_daily_jobs`` on a day when the check-ins were already opened (the usual day);
- ``cold``: the open check-in follow-ups are deleted first, so the check-in scan opens one for
  every customer due (the first run, or a day after an outage): the heaviest case.

``--commit`` keeps what the runs wrote (then ``cold`` deletes the open check-ins for real).
"""

import argparse
import io
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

SCENARIOS = ["dry-run", "steady", "cold"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=SCENARIOS, action="append",
                        help="run only these (default: all)")
    parser.add_argument("--commit", action="store_true", help="keep what the scans write")
    parser.add_argument("--child", choices=SCENARIOS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child, commit=args.commit)))
        return

    results = []
    for scenario in args.scenario or SCENARIOS:
        command = [sys.executable, str(Path(__file__).resolve()), "--child", scenario]
        if args.commit:
            command.append("--commit")
        child = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        if child.returncode:
            sys.exit(f"{scenario} failed:\n{child.stderr}")
        result = json.loads(child.stdout.strip().splitlines()[-1])
        results.append(result)
        print(f"{scenario}: {result['seconds']:.1f} s (the health scan {result['health_seconds']:.1f} s), "
              f"peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)
        for line in result["output"]:
            print(f"    {line}")
    print()
    print("| scan | customers | wall s | of which the health scan, s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| run_daily_jobs ({r['scenario']}) | {r['customers']:,} | {r['seconds']:.1f} | "
              f"{r['health_seconds']:.1f} | {r['peak_rss_mb']:.0f} |")


def run(scenario, *, commit):
    from _setup import django_setup

    django_setup()
    from django.core.management import call_command
    from django.db import transaction

    from customers.models import Customer
    from retention.management.commands import run_daily_jobs
    from touchpoints.models import FollowUp

    # The health scan's share, timed apart: it has a bar of its own (and runs on the workers at night).
    health = {}
    health_daily = run_daily_jobs.health_daily

    def timed_health_daily(**kwargs):
        started = time.perf_counter()
        report = health_daily(**kwargs)
        health["seconds"] = time.perf_counter() - started
        return report

    run_daily_jobs.health_daily = timed_health_daily
    out = io.StringIO()
    with transaction.atomic():
        if scenario == "cold":
            FollowUp.objects.open().filter(kind=FollowUp.Kind.CHECKIN).delete()
        started = time.perf_counter()
        call_command("run_daily_jobs", dry_run=scenario == "dry-run", stdout=out)
        seconds = time.perf_counter() - started
        if not commit:
            transaction.set_rollback(True)
    lines = [line for line in out.getvalue().splitlines() if "check-in due  customer" not in line]
    return {
        "scenario": scenario, "seconds": round(seconds, 2), "customers": Customer.objects.count(),
        "health_seconds": round(health.get("seconds", 0), 2),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # kB on Linux
        "output": lines[-12:],
    }


if __name__ == "__main__":
    main()
