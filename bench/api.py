"""
The API's list endpoints and a bulk request of 1,000 purchases, on ``seed_bench`` data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retention_bench \\
        .venv/bin/python bench/api.py [--repeat 20] [--base-url http://127.0.0.1:8000] [--json FILE]

Each request carries a new API token of a demo user (``am1``, ``manager1``). Without
``--base-url`` the requests go through ``django.test.Client`` in this process (the whole request,
no network), with the query count of each; with it, over HTTP to a running server (gunicorn on
loopback: end to end). One warm-up request, then ``--repeat`` timed ones: median and 95th
percentile. The bulk request adds 1,000 purchases with new order numbers, then sends the same
request again (which adds nothing): both are timed.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time
import urllib.request
import uuid

from _setup import django_setup

django_setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from customers.models import Customer  # noqa: E402
from retention.api.tokens import api_token_create, api_token_revoke  # noqa: E402

LISTS = [
    ("customers, first page", "/api/v1/customers/"),
    ("customers, status=inactive", "/api/v1/customers/?status=inactive"),
    ("customers, search “schmidt”", "/api/v1/customers/?q=schmidt"),
    ("customers, health=at_risk", "/api/v1/customers/?health=at_risk"),
    ("customers, 200 a page", "/api/v1/customers/?page_size=200"),
    ("purchases", "/api/v1/purchases/"),
    ("touchpoints", "/api/v1/touchpoints/"),
    ("promises", "/api/v1/promises/"),
    ("complaints", "/api/v1/complaints/"),
    ("survey responses", "/api/v1/survey-responses/"),
    ("health", "/api/v1/health/?band=at_risk"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed requests an endpoint (default 20)")
    parser.add_argument("--base-url", default="", help="time over HTTP against this server instead")
    parser.add_argument("--users", default="am1,manager1", help="demo users, comma-separated")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if not 1 <= args.repeat <= 200:
        parser.error("--repeat must be between 1 and 200")
    if not Customer.objects.filter(external_id__startswith="BENCH-").exists():
        sys.exit("No bench data: run `manage.py seed_bench --customers N` on this database first.")
    settings.DEBUG = False
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000  # in this process; a server reads its own

    load_before = os.getloadavg()
    results, tokens = [], []
    for username in args.users.split(","):
        token, secret = api_token_create(user=get_user_model().objects.get(username=username),
                                         name="benchmark")
        tokens.append(token)
        call = http_caller(args.base_url, secret) if args.base_url else client_caller(secret)
        for label, url in LISTS:
            result = measure(f"{label} ({username})", call, "GET", url, repeat=args.repeat)
            results.append(result)
            print(row(result), flush=True)
        if username == args.users.split(",")[0]:
            for result in bulk(call, username):
                results.append(result)
                print(row(result), flush=True)
    for token in tokens:
        api_token_revoke(token=token)
    print()
    print(table(results))
    where = f"over HTTP to {args.base_url}" if args.base_url else "in process (django.test.Client)"
    print(f"\n{Customer.objects.count():,} customers on {connection.vendor}, {where}; {args.repeat} timed "
          f"requests after one warm-up; load average {load_before[0]:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after ({os.cpu_count()} CPUs).")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)


def client_caller(secret):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def call(method, url, body=None):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, json.dumps(body), content_type="application/json")
        return response.status_code, response.content

    return call


def http_caller(base_url, secret):
    def call(method, url, body=None):
        request = urllib.request.Request(
            base_url + url, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()

    return call


def measure(name, call, method, url, *, repeat, body=None, expect=200):
    with CaptureQueriesContext(connection) as captured:
        status, _ = call(method, url, body)
    if status != expect:
        raise SystemExit(f"{name}: {url} answered {status}")
    queries = len(captured.captured_queries)
    times = []
    for _ in range(repeat):
        before = time.perf_counter()
        status, _ = call(method, url, body)
        times.append((time.perf_counter() - before) * 1000)
        assert status == expect, (url, status)
    times.sort()
    return {"endpoint": name, "url": url, "requests": len(times),
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[max(0, math.ceil(0.95 * len(times)) - 1)], 1),
            "queries": queries}


def bulk(call, username):
    """1,000 new purchases in one request, then the same request again (nothing new)."""
    customers = list(Customer.objects.filter(external_id__startswith="BENCH-", team__name="North")
                     .order_by("pk").values_list("pk", flat=True)[:1000])
    run = uuid.uuid4().hex[:8]
    items = [{"customer": pk, "external_id": f"bench-{run}-{n}", "date": "2026-01-15",
              "amount": "49.90", "description": "Bench order"} for n, pk in enumerate(customers)]
    results = []
    for label in ("bulk 1,000 purchases, new", "bulk 1,000 purchases, repeated"):
        before = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            status, content = call("POST", "/api/v1/purchases/bulk/", items)
        elapsed = (time.perf_counter() - before) * 1000
        if status != 200:
            raise SystemExit(f"{label}: answered {status}: {content[:300]!r}")
        created = json.loads(content)["created"]
        results.append({"endpoint": f"{label} ({username}), {created} created",
                        "url": "/api/v1/purchases/bulk/", "requests": 1,
                        "median_ms": round(elapsed, 1), "p95_ms": round(elapsed, 1),
                        "queries": len(captured.captured_queries)})
    return results


def row(r):
    return f"| {r['endpoint']} | {r['median_ms']:.0f} | {r['p95_ms']:.0f} | {r['queries'] or '–'} |"


def table(results):
    lines = ["| endpoint (user) | median ms | p95 ms | queries |", "|---|---:|---:|---:|"]
    return "\n".join(lines + [row(r) for r in results])


if __name__ == "__main__":
    main()
