"""
Load on the public answer POST: two gunicorn workers serve the app on 127.0.0.1, and this process
(a second one, with threads) posts one-click answers to unanswered invitations of the bench
database, each invitation once, for at most ``--requests`` requests or ``--seconds`` seconds.

    python bench/survey_campaign.py                        # invitations to answer
    python bench/survey_answer_load.py --requests 6000 --concurrency 16

The load comes from wrk (``apt-get install wrk``) with ``bench/survey_answer_wrk.lua`` when it is
installed, else from Python threads (``--client python``). The server and the load share the
machine's cores: wrk, in C, takes a few percent of one core; the Python client, at 200 requests a
second, most of one, which the server then lacks.

Reports requests per second, the latency percentiles and the status codes, then stops gunicorn.
It writes answers (and what they set in motion): run it on a bench copy. Traffic goes only to
127.0.0.1, bounded in count and time. The per-client rate limit is raised for the run (one client
sends all of it); its counter in the cache is still kept for every request.
"""

import argparse
import http.client
import os
import queue
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlencode

from _server import free_port, production_env, start_gunicorn, stop
from _setup import ROOT


def tokens_to_answer(limit):
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retention.settings")
    import django

    django.setup()
    from django.utils import timezone

    from surveys.models import Invitation

    return list(
        Invitation.objects.filter(answered_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("pk")
        .values_list("token", "survey__kind")[:limit]
    )


def run(port, tokens, concurrency, seconds):
    work = queue.Queue()
    for n, (token, kind) in enumerate(tokens):
        work.put((token, n % 11 if kind == "nps" else 1 + n % 5))
    latencies, statuses, lock = [], {}, threading.Lock()
    secret = secrets.token_hex(16)  # a CSRF secret of our own: cookie and form field agree
    stop_at = time.monotonic() + seconds

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop_at:
            try:
                token, score = work.get_nowait()
            except queue.Empty:
                break
            body = urlencode({"csrfmiddlewaretoken": secret, "step": "score", "score": score})
            started = time.monotonic()
            connection.request(
                "POST",
                f"/s/{token}/",
                body=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": f"csrftoken={secret}",
                },
            )
            response = connection.getresponse()
            response.read()
            took = time.monotonic() - started
            with lock:
                latencies.append(took)
                statuses[response.status] = statuses.get(response.status, 0) + 1
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started, sorted(latencies), statuses


def run_wrk(port, tokens, concurrency, seconds):
    """The same load from wrk; returns its RESULT line's numbers."""
    secret = secrets.token_hex(16)
    threads = 2
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        for n, (token, kind) in enumerate(tokens):
            listing.write(f"{token} {n % 11 if kind == 'nps' else 1 + n % 5}\n")
    try:
        output = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds:g}s", "--timeout", "10s",
             "-s", str(ROOT / "bench" / "survey_answer_wrk.lua"), f"http://127.0.0.1:{port}",
             "--", listing.name, str(threads), secret],
            check=True, capture_output=True, text=True,
        ).stdout
    finally:
        os.unlink(listing.name)
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return {key: float(value) for key, value in re.findall(r"(\w+)=([\d.]+)", line)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--client", choices=["wrk", "python"],
                        default="wrk" if shutil.which("wrk") else "python")
    args = parser.parse_args()
    tokens = tokens_to_answer(args.requests + 200)
    warmup, tokens = tokens[:200], tokens[200:]
    # The pages are served as in production: from the collected, hashed static files.
    port = free_port()
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, check=True,
                   env=production_env(port))
    server = start_gunicorn(port, env=production_env(port), workers=args.workers, threads=args.threads)
    try:
        run(port, warmup, 4, 30)
        print(f"load average before: {os.getloadavg()}")
        if args.client == "wrk":
            result = run_wrk(port, tokens, args.concurrency, args.seconds)
        else:
            took, latencies, statuses = run(port, tokens, args.concurrency, args.seconds)
    finally:
        stop(server)
    if args.client == "wrk":
        n = int(result["requests"])
        print(
            f"{n} POSTs in {result['seconds']:.1f} s from wrk: {result['rps']:.0f} requests/s with "
            f"{args.concurrency} connections on {args.workers} gunicorn workers × {args.threads} threads; "
            f"p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, p99 {result['p99']:.1f} ms, "
            f"max {result['max']:.1f} ms; {int(result['non_3xx'])} answers not 302, "
            f"{int(result['socket_errors'])} socket errors; load average after: {os.getloadavg()}"
        )
        if n > len(tokens):
            print(f"only {len(tokens)} invitations to answer: {n - len(tokens)} requests amended an answer")
        return
    n = len(latencies)

    def pct(p):
        return latencies[min(n - 1, int(p * n))] * 1000

    print(
        f"{n} POSTs in {took:.1f} s: {n / took:.0f} requests/s with {args.concurrency} clients on "
        f"{args.workers} gunicorn workers × {args.threads} threads; p50 {pct(0.5):.1f} ms, "
        f"p95 {pct(0.95):.1f} ms, "
        f"p99 {pct(0.99):.1f} ms, max {latencies[-1] * 1000:.1f} ms; statuses {statuses}; "
        f"load average after: {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
