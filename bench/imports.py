"""
The import at scale, as the browser runs it, on a real Celery worker: a file of ``--rows`` rows shaped
as a HubSpot contacts export (names in two columns, ``M/D/YY H:MM`` dates, owners by full name) is
uploaded (stored, read, a field suggested per column), checked on the worker (the preview, every
row's outcome recorded) and imported on the worker; then the same file again (every row found by its
external id: nothing changes). Prints each step's time and the worker's peak RSS.

usage: python bench/imports.py [--rows 100000] [--keep] [--json FILE]

Starts one worker (``--pool=solo``) on ``CELERY_BROKER_URL``, which must be Redis; run it with the
production settings (``DEBUG=false`` and what that requires), as a debug run keeps every query's SQL.
The customers it imports (external ids ``IMP-…``) are deleted at the end unless ``--keep``, and the
tables vacuumed before and after.
"""

import argparse
import csv
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import ROOT, django_setup


def write_file(path, rows, owner_name):
    start = datetime.datetime(2019, 1, 1, 8, 0)
    stages = ["customer", "lead", "opportunity", "customer"]
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Company Name",
                         "Contact owner", "Lifecycle Stage", "Create Date", "Last Activity Date"])
        for n in range(rows):
            when = start + datetime.timedelta(hours=7 * n)
            writer.writerow([
                f"IMP-{n:07d}", f"First{n % 997}", f"Last{n}", f"person{n}@import-bench.example",
                f"+1 415 555 {n % 10000:04d}", f"Company {n}" if n % 3 else "", owner_name,
                stages[n % 4], f"{when.month}/{when.day}/{when.year % 100:02d} {when.hour}:{when.minute:02d}",
                "",
            ])


def vacuum():
    """Leave the tables as autovacuum would: a run after a run measures the same thing."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("customers_customer", "customers_contact", "customers_customerchange",
                      "customers_customer_tags", "customers_customerimportrow"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def peak_rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def wait_for(customer_import, status, timeout=600):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        customer_import.refresh_from_db()
        if customer_import.status == status and not customer_import.queued_at:
            return time.monotonic() - started
        time.sleep(0.2)
    raise SystemExit(f"still {customer_import.status} after {timeout} s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", help="also write the results to this file")
    options = parser.parse_args()
    django_setup()
    from django.contrib.auth import get_user_model
    from django.core.files import File

    from customers.csv_io import uploads
    from customers.csv_io.reading import FileOptions
    from customers.models import Customer, CustomerImport

    user = get_user_model().objects.get(username="am1")
    vacuum()
    workdir = Path(tempfile.mkdtemp(prefix="import-bench-"))
    path = workdir / "hubspot-contacts.csv"
    write_file(path, options.rows, f"{user.first_name} {user.last_name}")
    print(f"file: {options.rows} rows, {path.stat().st_size / 1e6:.1f} MB; load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "retention", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=os.environ.copy(),
    )
    results = {"rows": options.rows, "file_mb": round(path.stat().st_size / 1e6, 1), "runs": {}}
    try:
        time.sleep(5)
        for attempt in ("first", "again"):
            started = time.monotonic()
            with open(path, "rb") as stored:
                customer_import = uploads.customer_import_upload(user=user, upload=File(stored, path.name))
            upload_s = time.monotonic() - started
            uploads.customer_import_map(customer_import=customer_import, user=user,
                                        targets=customer_import.mapping,
                                        options=FileOptions.from_dict(customer_import.options))
            check_s = wait_for(customer_import, CustomerImport.Status.CHECKED)
            after_check = peak_rss_mb(worker.pid)
            uploads.customer_import_queue(customer_import=customer_import, user=user)
            import_s = wait_for(customer_import, CustomerImport.Status.IMPORTED)
            print(f"{attempt}: upload and map {upload_s:.1f} s; check on the worker {check_s:.1f} s "
                  f"({customer_import.row_count} rows); import on the worker {import_s:.1f} s "
                  f"({customer_import.create_count} created, {customer_import.update_count} updated, "
                  f"{customer_import.unchanged_count} unchanged); worker peak RSS {after_check:.0f} MB "
                  f"after the check, {peak_rss_mb(worker.pid):.0f} MB after the import; load average "
                  f"{os.getloadavg()[0]:.2f}", flush=True)
            results["runs"][attempt] = {
                "upload_seconds": round(upload_s, 1), "check_seconds": round(check_s, 1),
                "import_seconds": round(import_s, 1), "created": customer_import.create_count,
                "updated": customer_import.update_count, "unchanged": customer_import.unchanged_count,
                "worker_peak_rss_mb": round(peak_rss_mb(worker.pid)), "load_average": os.getloadavg()[0],
            }
        if options.json:
            Path(options.json).write_text(json.dumps(results, indent=1))
        print(f"this process (upload, mapping): peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        worker.terminate()
        worker.wait(30)
        if not options.keep:
            Customer.objects.filter(external_id__startswith="IMP-").delete()
            vacuum()
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
