"""
Server time and query count of the main pages, on ``seed_bench`` data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retention_bench \\
        .venv/bin/python bench/pages.py [--repeat 20] [--only list] [--explain] [--json FILE]

Each page is requested in this process through ``django.test.Client`` as a logged-in demo user
(no network: the whole request — middleware, session, views, queries, templates — and nothing
else). One request first warms caches and counts the queries (with the slowest query's SQL time),
then ``--repeat`` timed requests give the median and the 95th percentile. DEBUG is switched off
for the timed requests, as in production, so queries are not logged. A page stops repeating after
``--budget`` seconds, so a pathological page cannot hold the run hostage.

``--explain`` prints ``EXPLAIN (ANALYZE, BUFFERS)`` of each page's slowest query (PostgreSQL).
"""

import argparse
import json
import math
import os
import re
import statistics
import sys
import time

from _setup import django_setup

django_setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from customers.models import Contact, Customer, Team  # noqa: E402
from customers.selectors import SORTS  # noqa: E402

LIST_USERS = ["am1", "manager1", "admin"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed requests a page (default 20)")
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds a page may take in all before it stops repeating (default 30)")
    parser.add_argument("--only", default="", help="only pages whose name contains this text")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if not 1 <= args.repeat <= 200:
        parser.error("--repeat must be between 1 and 200")

    if not Customer.objects.filter(external_id__startswith="BENCH-").exists():
        sys.exit("No bench data: run `manage.py seed_bench --customers N` on this database first.")
    settings.DEBUG = False  # before the first template is compiled: production-like rendering

    load_before = os.getloadavg()
    results = []
    for name, username, url in pages():
        if args.only and args.only not in name:
            continue
        result = measure(name, username, url, repeat=args.repeat, budget=args.budget)
        results.append(result)
        print(row(result), flush=True)
        if args.explain and result["slowest_sql"]:
            explain(result["slowest_sql"])
    print()
    print(table(results))
    print(f"\n{Customer.objects.count():,} customers on {connection.vendor}; "
          f"{args.repeat} timed requests a page after one warm-up; load average "
          f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} CPUs).")
    if args.json:
        with open(args.json, "w") as out:
            json.dump([{k: v for k, v in r.items() if k != "slowest_sql"} for r in results], out, indent=1)


def pages():
    """(name, username, url) of every page measured."""
    teams = {team.name: team.pk for team in Team.objects.all()}
    sort = next(key for key in ("-value", "value", "-last_contact") if key in SORTS)
    name_fragment, email_fragment = search_fragments()
    for username in LIST_USERS:
        team = teams["North"] if username == "am1" else teams["South"]
        lists = [
            ("list, first page", ""),
            ("list, page 200", "?page=200"),
            (f"search, name “{name_fragment}”", f"?q={name_fragment}"),
            (f"search, email “{email_fragment}”", f"?q={email_fragment}"),
            ("filter, status=inactive", "?status=inactive"),
            ("filter, team", f"?team={team}"),
            ("filter, due=1", "?due=1"),
            (f"sort={sort}", f"?sort={sort}"),
        ]
        if "health" in SORTS:  # the health score's filter and sorts
            lists += [("filter, health=at_risk", "?health=at_risk"), ("sort=health", "?sort=health"),
                      ("sort=-health, page 50", "?sort=-health&page=50")]
        for label, query in lists:
            yield f"{label} ({username})", username, f"/customers/{query}"
    typical, heavy = detail_customers()
    for username in ("am1", "admin"):
        yield (f"detail, typical customer, {typical[1]} touchpoints ({username})", username,
               f"/customers/{typical[0]}/")
        yield (f"detail, {heavy[1]:,} touchpoints ({username})", username, f"/customers/{heavy[0]}/")
    deep = deep_timeline_url(heavy[0], hops=100)
    if deep:
        yield f"detail, {heavy[1]:,} touchpoints, 100 timeline pages back (am1)", "am1", deep
    yield "today (am1)", "am1", "/today/"
    yield "dashboard (manager1)", "manager1", "/dashboard/"
    yield "dashboard (admin)", "admin", "/dashboard/"
    if "health" in SORTS:  # the at-risk dashboard: an account manager's book, a year, a team
        yield "dashboard (am1)", "am1", "/dashboard/"
        yield "dashboard, 12 months (manager1)", "manager1", "/dashboard/?period=365"
        yield "dashboard, page 5 of the at-risk list (manager1)", "manager1", "/dashboard/?page=5"
    yield "records (manager1)", "manager1", "/records/"
    for username in ("admin", "manager1", "am1"):
        yield f"survey results ({username})", username, "/surveys/"
    yield "outbox (admin)", "admin", "/outbox/"


def search_fragments():
    """A fragment of a common name and of one contact's email, taken from the data."""
    contact = (Contact.objects.filter(customer__external_id="BENCH-0000500")
               .order_by("pk").values_list("email", flat=True).first())
    email_fragment = contact.split("@")[0][:-2] if contact else "nadia.kow"
    return "schmidt", email_fragment


def detail_customers():
    """(pk, touchpoints) of a typical North customer and of the one with the most touchpoints."""
    sample = (Customer.objects.filter(external_id__startswith="BENCH-", team__name="North",
                                      status=Customer.Status.ACTIVE)
              .order_by("external_id")[:60].values_list("pk", flat=True))
    counts = (Customer.objects.filter(pk__in=list(sample)).annotate(n=Count("touchpoints"))
              .order_by("n", "pk").values_list("pk", "n"))
    counts = list(counts)
    typical = counts[len(counts) // 2]
    heavy = (Customer.objects.filter(external_id="BENCH-0000001").annotate(n=Count("touchpoints"))
             .values_list("pk", "n").get())
    return typical, heavy


def deep_timeline_url(pk, *, hops):
    """
    The customer page ``hops`` timeline pages back, following its "Older" links (the timeline is
    paginated by a cursor, ``?before=…``, or by ``?page=`` in older versions).
    """
    client = Client()
    client.force_login(get_user_model().objects.get(username="am1"))
    url = f"/customers/{pk}/"
    for _ in range(hops):
        html = client.get(url).content.decode()
        older = re.search(r'href="\?(before=[^"&]+)', html)
        if older is None:
            return f"/customers/{pk}/?page={hops}" if 'href="?page=' in html else None
        url = f"/customers/{pk}/?{older.group(1)}"
    return url


def measure(name, username, url, *, repeat, budget):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{name}: {url} answered {response.status_code}")
    # Read now: every request start empties the connection's query log.
    queries = captured.captured_queries
    slowest = max(queries, key=lambda q: float(q["time"]), default=None)
    times = []
    started = time.perf_counter()
    for _ in range(repeat):
        before = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - before) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        if time.perf_counter() - started > budget:
            break
    with CaptureQueriesContext(connection) as warm:  # the SQL time once the caches are warm
        client.get(url)
    times.sort()
    return {
        "page": name, "url": url, "user": username, "requests": len(times),
        "min_ms": round(times[0], 1),
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, math.ceil(0.95 * len(times)) - 1)], 1),
        "queries": len(queries),
        "sql_ms": round(sum(float(q["time"]) for q in queries) * 1000, 1),
        "sql_warm_ms": round(sum(float(q["time"]) for q in warm.captured_queries) * 1000, 1),
        "slowest_query_ms": round(float(slowest["time"]) * 1000, 1) if slowest else 0,
        "slowest_sql": slowest["sql"] if slowest else "",
    }


def row(r):
    return (f"| {r['page']} | {r['min_ms']:.0f} | {r['median_ms']:.0f} | {r['p95_ms']:.0f} | "
            f"{r['queries']} | {r['sql_ms']:.0f} | {r['slowest_query_ms']:.0f} |")


def table(results):
    lines = ["| page (user) | min ms | median ms | p95 ms | queries | SQL ms (warm-up) | slowest query ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    return "\n".join(lines + [row(r) for r in results])


def explain(sql):
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    print("    " + sql[:600].replace("\n", " ") + ("…" if len(sql) > 600 else ""))
    print("\n".join("    " + line for line in plan.splitlines()))


if __name__ == "__main__":
    main()
