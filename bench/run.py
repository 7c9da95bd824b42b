"""
The benchmark: the main pages end to end, the daily scans and the survey answer under load, at each
size of book, written to ``bench/results/`` and to ``docs/PERFORMANCE.md``.

    .venv/bin/python bench/run.py --sizes 10000,100000 [--repeat 10] [--answers] [--imports] [--email]
        [--no-docs]

Each size has a PostgreSQL database of its own, ``retention_bench_<N>``, on the server of
``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/``): made and filled with
``seed_bench --customers N`` when missing (the seed's time is recorded), migrated when present.
For each size:

- **pages**: every page of ``bench/pages.py`` and the API's customer list, first in this machine's
  process for the query count and the SQL time of a request once warm, then end to end over HTTP
  from gunicorn on 127.0.0.1 (production settings, 2 workers × 4 threads, the Dockerfile's) for the
  median and the 95th percentile; the **SQL floor** is the page's median over its SQL time (1.0
  would be a page that is nothing but its queries);
- **scans**: ``run_daily_jobs`` in a fresh process, rolled back (``bench/scan.py``), with the
  health scan's share of it; then every health score recomputed on a worker of two processes as
  the nightly task does it, a usual night and a cold one (``bench/health.py --only-workers``: it
  commits, as the night does);
- **the survey answer** (``--answers``): a campaign to every customer on a copy of the database,
  vacuumed, then 20 s of one-click answers from wrk (``bench/survey_answer_load.py``); the copy is
  dropped;
- **the import** (``--imports``): a 100,000-row HubSpot-shaped file uploaded, checked and imported
  on a real Celery worker, then the same file again (``bench/imports.py``, production settings; the
  customers it made are deleted after);
- **email** (``--email``): on a copy of the database, the programs' daily scan on a worker, then
  that worker sending to a local SMTP sink for at most ``--send-seconds`` (``bench/programs.py``):
  messages a second; the copy is dropped.

The import and the email need a Redis broker (``CELERY_BROKER_URL``, default db 12 of 127.0.0.1).

The results go to ``bench/results/<date>-<N>.json`` (with the machine, the load average and the
date) and, unless ``--no-docs``, as tables between the ``bench/run`` markers of
``docs/PERFORMANCE.md``, each page's time beside its growth from the smallest size to the largest.
Only 127.0.0.1 is spoken to; every load is bounded in count and time.
"""

import argparse
import datetime
import http.client
import json
import math
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

from _server import free_port, production_env, start_gunicorn, stop
from _setup import ROOT

BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
DOCS = ROOT / "docs" / "PERFORMANCE.md"
START, END = "<!-- bench/run: start -->", "<!-- bench/run: end -->"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="customers, comma-separated")
    parser.add_argument("--repeat", type=int, default=10, help="timed requests a page (default 10)")
    parser.add_argument("--answers", action="store_true", help="also the survey answer under load")
    parser.add_argument("--imports", action="store_true", help="also the import of a 100,000-row file")
    parser.add_argument("--email", action="store_true", help="also the programs' scan and sending")
    parser.add_argument("--send-seconds", type=int, default=120,
                        help="with --email: time the sending this long at most (default 120)")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/PERFORMANCE.md as it is")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # the end-to-end pass, in its own process
    args = parser.parse_args()
    if args.child:
        print(json.dumps(end_to_end(args.repeat)))
        return
    sizes = sorted(int(size.replace("_", "")) for size in args.sizes.split(","))
    if not 1 <= args.repeat <= 100 or any(not 1_000 <= size <= 1_000_000 for size in sizes):
        parser.error("--repeat goes from 1 to 100, and each size from 1,000 to 1,000,000 customers")
    RESULTS.mkdir(exist_ok=True)
    runs = []
    for size in sizes:
        run = measure_size(size, repeat=args.repeat, answers=args.answers, imports=args.imports,
                           email=args.send_seconds if args.email else None)
        path = RESULTS / f"{run['date'][:10]}-{size}.json"
        path.write_text(json.dumps(run, indent=1) + "\n")
        print(f"{size:,} customers: written to {path.relative_to(ROOT)}", flush=True)
        runs.append(run)
    tables = render(runs)
    print(tables)
    if not args.no_docs:
        write_docs(tables)
        print(f"tables written to {DOCS.relative_to(ROOT)}")


def database_url(size, name=None):
    base = urlsplit(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/")
    return urlunsplit(base._replace(path=f"/{name or f'retention_bench_{size}'}"))


def server_url():
    """The server's maintenance database, to make, copy and drop the others."""
    return database_url(None, name="postgres")


def manage(env, *command, check=True):
    return subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=check,
                          capture_output=True, text=True)


def psql_admin(sql):
    return subprocess.run(["psql", server_url(), "-qAtc", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def measure_size(size, *, repeat, answers, imports=False, email=None):
    url = database_url(size)
    env = {**os.environ, "DATABASE_URL": url,
           "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/12")}
    run = {"customers": size, "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
           "machine": machine(), "load_average_before": os.getloadavg()[0], "seed_seconds": None}
    if psql_admin(f"SELECT count(*) FROM pg_database WHERE datname = 'retention_bench_{size}'") == "0":
        psql_admin(f'CREATE DATABASE "retention_bench_{size}"')
        manage(env, "migrate", "-v0")
        started = time.monotonic()
        manage(env, "seed_bench", "--customers", str(size))
        run["seed_seconds"] = round(time.monotonic() - started, 1)
        print(f"{size:,} customers seeded in {run['seed_seconds']:.0f} s", flush=True)
    else:
        manage(env, "migrate", "-v0")

    with tempfile.NamedTemporaryFile(suffix=".json") as listing:
        subprocess.run([sys.executable, str(BENCH / "pages.py"), "--repeat", str(max(3, repeat // 2)),
                        "--json", listing.name], cwd=ROOT, env=env, check=True, capture_output=True)
        in_process = {page["page"]: page for page in json.load(open(listing.name))}

    secret = secrets.token_urlsafe(50)
    port = free_port()
    served = production_env(port, secret) | {"DATABASE_URL": url, "BENCH_PORT": str(port)}
    manage(served, "collectstatic", "--noinput", "-v0")
    server = start_gunicorn(port, env=served)
    try:
        child = subprocess.run([sys.executable, __file__, "--child", "e2e", "--repeat", str(repeat)],
                               cwd=ROOT, env=served, check=True, capture_output=True, text=True)
    finally:
        stop(server)
    pages = json.loads(child.stdout.strip().splitlines()[-1])
    for page in pages:
        measured = in_process.get(page["page"], {})
        page["queries"] = measured.get("queries")
        page["sql_ms"] = measured.get("sql_warm_ms")
        page["in_process_median_ms"] = measured.get("median_ms")
        page["sql_floor"] = (round(page["median_ms"] / measured["sql_warm_ms"], 1)
                             if measured.get("sql_warm_ms") else None)
    run["pages"] = pages
    print(f"{size:,} customers: {len(pages)} pages measured", flush=True)

    scan = subprocess.run([sys.executable, str(BENCH / "scan.py"), "--child", "steady"], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True)
    run["scan"] = json.loads(scan.stdout.strip().splitlines()[-1])
    run["health"] = health_on_workers(env)
    run["answers"] = survey_answers(size, env) if answers else None
    run["imports"] = import_file(env) if imports else None
    run["email"] = programs_email(size, env, email) if email else None
    run["load_average_after"] = os.getloadavg()[0]
    return run


def health_on_workers(env):
    """
    Every score recomputed as at night, on a worker of two processes, a usual night and then with
    every stored score forgotten (``bench/health.py --only-workers``; it commits, as the night does).
    """
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, str(BENCH / "health.py"), "--only-workers", "--workers", "2",
                        "--json", out.name], cwd=ROOT, env=env, check=True, capture_output=True)
        return json.load(open(out.name))


def survey_answers(size, env):
    """The one-click answer under load, on a copy of the database with a campaign to answer."""
    copy = f"retention_bench_{size}_answers"
    url = database_url(size, name=copy)
    psql_admin(f'DROP DATABASE IF EXISTS "{copy}"')
    psql_admin(f'CREATE DATABASE "{copy}" TEMPLATE "retention_bench_{size}"')
    try:
        copied = {**env, "DATABASE_URL": url, "SURVEY_FATIGUE_DAYS": "0"}
        manage(copied, "survey_send", "NPS")
        # The campaign queued its sending on the broker; no worker here is to send it, and the
        # workers of the steps after this one (the import's) would take it up against another database.
        subprocess.run([sys.executable, "-m", "celery", "-A", "retention", "purge", "-f"], cwd=ROOT,
                       env=copied, check=True, capture_output=True)
        # As the campaign's answers come: once autovacuum has been through what it wrote.
        subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE"], check=True, capture_output=True)
        load = subprocess.run([sys.executable, str(BENCH / "survey_answer_load.py"), "--requests", "8000",
                               "--seconds", "20", "--concurrency", "16"], cwd=ROOT, env=copied, check=True,
                              capture_output=True, text=True).stdout
    finally:
        psql_admin(f'DROP DATABASE IF EXISTS "{copy}"')
    line = next(line for line in load.splitlines() if "POSTs" in line)
    rate = re.search(r"([\d.]+) requests/s", line)
    percentiles = {key: float(value) for key, value in re.findall(r"(p\d\d) ([\d.]+) ms", line)}
    return {"requests_per_second": float(rate.group(1)) if rate else None, **percentiles, "report": line}


def import_file(env):
    """A 100,000-row file through the import's steps on a worker, twice (``bench/imports.py``)."""
    served = production_env(free_port()) | {key: env[key] for key in ("DATABASE_URL", "CELERY_BROKER_URL")}
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, str(BENCH / "imports.py"), "--rows", "100000", "--json", out.name],
                       cwd=ROOT, env=served, check=True, capture_output=True)
        return json.load(open(out.name))


def programs_email(size, env, send_seconds):
    """The programs' scan and the sending to an SMTP sink, on a copy (``bench/programs.py``)."""
    copy = f"retention_bench_{size}_email"
    psql_admin(f'DROP DATABASE IF EXISTS "{copy}"')
    psql_admin(f'CREATE DATABASE "{copy}" TEMPLATE "retention_bench_{size}"')
    try:
        copied = {**env, "DATABASE_URL": database_url(size, name=copy)}
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run([sys.executable, str(BENCH / "programs.py"), "--send-seconds", str(send_seconds),
                            "--json", out.name], cwd=ROOT, env=copied, check=True, capture_output=True)
            return json.load(open(out.name))
    finally:
        psql_admin(f'DROP DATABASE IF EXISTS "{copy}"')


def end_to_end(repeat):
    """In the child, beside gunicorn: each page over HTTP with a session of its user."""
    from _setup import django_setup

    django_setup()  # the server's database and SECRET_KEY: the sessions made here are valid there
    import pages as page_list
    from django.contrib.auth import get_user_model
    from django.test import Client

    from retention.api.tokens import api_token_create, api_token_revoke

    port = int(os.environ["BENCH_PORT"])
    users = get_user_model().objects.in_bulk(field_name="username")
    cookies = {}
    measured = []
    targets = list(page_list.pages())
    token, secret = api_token_create(user=users["am1"], name="bench/run.py")
    try:
        targets.append(("API, customers, first page (am1)", "am1", "/api/v1/customers/"))
        for name, username, url in targets:
            if username not in cookies:
                client = Client()
                client.force_login(users[username])
                cookies[username] = f"sessionid={client.cookies['sessionid'].value}"
            headers = {"Cookie": cookies[username]}
            if url.startswith("/api/"):
                headers = {"Authorization": f"Bearer {secret}"}
            measured.append({"page": name, "user": username, "url": url,
                             **timed(port, url, headers, repeat)})
    finally:
        api_token_revoke(token=token)
    return measured


def timed(port, url, headers, repeat):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for attempt in range(repeat + 1):
        started = time.perf_counter()
        connection.request("GET", url, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{url} answered {response.status}")
        if attempt:  # the first request warms this worker's caches
            times.append((time.perf_counter() - started) * 1000)
    connection.close()
    times.sort()
    return {"median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[max(0, math.ceil(0.95 * len(times)) - 1)], 1),
            "kib": round(len(body) / 1024, 1)}


def machine():
    version = subprocess.run(["psql", server_url(), "-qAtc", "SHOW server_version"], capture_output=True,
                             text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform(),
            "postgresql": version}


def label(name):
    """A page's name without what the data put in it (a search fragment, a touchpoint count)."""
    name = re.sub(r"“[^”]*”", "“…”", name)
    if "typical customer" in name:
        return re.sub(r", [\d,]+ touchpoints", "", name)
    return re.sub(r"[\d,]+ touchpoints", "the most touchpoints", name)


def render(runs):
    sizes = [run["customers"] for run in runs]
    rows = {}
    for run in runs:
        for page in run["pages"]:
            rows.setdefault(label(page["page"]), {})[run["customers"]] = page
    head = ["page (user)"] + [f"{size:,}: median / p95 ms (queries, SQL floor)" for size in sizes]
    if len(sizes) > 1:
        head.append(f"growth {sizes[0]:,} → {sizes[-1]:,}")
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for name, by_size in rows.items():
        cells = [name]
        for size in sizes:
            page = by_size.get(size)
            if page is None:
                cells.append("–")
                continue
            floor = f"{page['sql_floor']}×" if page["sql_floor"] is not None else "–"
            queries = page["queries"] if page["queries"] is not None else "–"
            cells.append(f"{page['median_ms']:.0f} / {page['p95_ms']:.0f} ({queries}, {floor})")
        if len(sizes) > 1:
            first, last = by_size.get(sizes[0]), by_size.get(sizes[-1])
            cells.append(f"×{last['median_ms'] / first['median_ms']:.1f}" if first and last else "–")
        lines.append("| " + " | ".join(cells) + " |")
    scans = ["", "| scan | " + " | ".join(f"{size:,}" for size in sizes) + " |",
             "|---|" + "---:|" * len(runs),
             "| `run_daily_jobs`, the usual day, rolled back: all / without the health scan | "
             + " | ".join(_scan_cell(run["scan"]) for run in runs) + " |"]
    if all(run.get("health") for run in runs):
        scans.append("| every health score on a worker of 2 processes: a usual night / every score "
                     "rewritten | " + " | ".join(_health_cell(run["health"]) for run in runs) + " |")
    answers = [f"- the one-click survey answer at {run['customers']:,} customers: "
               f"{run['answers']['requests_per_second']:.0f} requests/s, "
               f"p95 {run['answers'].get('p95', 0):.0f} ms" for run in runs if run.get("answers")]
    answers += [_imports_line(run) for run in runs if run.get("imports")]
    answers += [_email_line(run) for run in runs if run.get("email")]
    about = [f"- {run['customers']:,} customers: measured {run['date']} on {run['machine']['cpus']} CPUs, "
             f"PostgreSQL {run['machine']['postgresql']}, load average {run['load_average_before']:.1f} "
             f"before and {run['load_average_after']:.1f} after"
             + (f"; seeded in {run['seed_seconds']:.0f} s" if run["seed_seconds"] else "")
             for run in runs]
    return "\n".join(lines + scans + [""] + answers + about)


def _scan_cell(scan):
    without = scan["seconds"] - scan.get("health_seconds", 0)
    return f"{scan['seconds']:.1f} s / {without:.1f} s, {scan['peak_rss_mb']:.0f} MB"


def _health_cell(health):
    return f"{health['steady_seconds']:.1f} s / {health['cold_seconds']:.1f} s ({health['slices']} slices)"


def _imports_line(run):
    steps = "; ".join(
        f"{attempt} {step['check_seconds'] + step['import_seconds']:.0f} s (check "
        f"{step['check_seconds']:.0f} s, import {step['import_seconds']:.0f} s, worker "
        f"{step['worker_peak_rss_mb']} MB)" for attempt, step in run["imports"]["runs"].items())
    return f"- the import of a {run['imports']['rows']:,}-row file at {run['customers']:,} customers: {steps}"


def _email_line(run):
    email = run["email"]
    return (f"- email at {run['customers']:,} customers: the programs' scan {email['scan_seconds']:.1f} s "
            f"({email['messages_decided']:,} messages decided), then {email['messages_per_second']:.0f} "
            f"messages/s to the SMTP sink from one worker ({email['messages_sent']:,} sent in "
            f"{email['send_seconds']:.0f} s)")


def write_docs(tables):
    text = DOCS.read_text()
    block = f"{START}\n{tables}\n{END}"
    if START in text and END in text:
        text = text[:text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + (
            "\n\n## The benchmark (`bench/run.py`)\n\nWritten by `bench/run.py` (see `bench/README.md`): "
            "each page end to end from gunicorn on loopback, with its query count and its SQL floor "
            "(the page's median over the time of its queries alone).\n\n" + block + "\n")
    DOCS.write_text(text)


if __name__ == "__main__":
    main()
