"""
A working day compressed into minutes: account managers logging calls, opening Today and their
customers' pages and sending meeting notes; managers on the dashboard; customers answering a
survey, all at once, against gunicorn (2 workers × 4 threads, production settings) on a
``seed_demo`` database, with one Celery worker sending what the outbox holds to a local SMTP sink.

    createdb -h 127.0.0.1 -U postgres retention_load
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/retention_load \\
           CELERY_BROKER_URL=redis://127.0.0.1:6379/12
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py seed_demo
    .venv/bin/python bench/mixed_load.py --seconds 120

Before the load, a survey campaign invites every customer's primary contact (its invitations are
what customers answer, its emails part of what the worker sends). This process (a second one, with
a thread per person) then runs the load for ``--seconds``; reports per kind of request the
throughput, p50/p95/p99 and every status that was not the expected one; waits for the worker to
send everything due; and counts rows: every call logged once, every answer recorded once, every
message decided once and received by the sink once. It exits 1 if a request failed or a count is
off. It writes: run it on a database of its own. Traffic goes only to 127.0.0.1.
"""

import argparse
import collections
import http.client
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from _setup import ROOT, django_setup

ACCOUNT_MANAGERS = [f"am{n}" for n in range(1, 7)]
MANAGERS = ["manager1", "manager2"]
CSRF = secrets.token_hex(16)  # a CSRF secret of our own: cookie and form field agree


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(port, secret_key):
    return {
        **os.environ, "DEBUG": "false", "SECRET_KEY": secret_key, "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}", "SECURE_SSL_REDIRECT": "false",
        "EMAIL_URL": "consolemail://", "DEFAULT_FROM_EMAIL": "Retention <retention@example.com>",
        # One client address sends every customer's answers.
        "PUBLIC_RATE_LIMIT_PER_MINUTE": "100000000", "LOG_LEVEL": "WARNING",
    }


def prepare(tag):
    """Sessions, each person's customers and meetings, and a campaign's invitations to answer."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from customers.models import Customer
    from surveys.campaigns import campaign_create, campaign_send
    from surveys.models import Invitation, Survey
    from touchpoints.models import OutboxMessage, Touchpoint

    users = get_user_model().objects.in_bulk(ACCOUNT_MANAGERS + MANAGERS, field_name="username")
    sessions = {}
    for username, user in users.items():
        client = Client()
        client.force_login(user)
        sessions[username] = client.cookies["sessionid"].value
    noted = OutboxMessage.objects.filter(program="meeting_notes").values("related_touchpoint")
    people = {}
    for username in ACCOUNT_MANAGERS:
        customers = list(Customer.objects.visible_to(users[username]).filter(owner=users[username])
                         .values_list("pk", flat=True)[:60])
        meetings = [
            (meeting.pk, [c.pk for c in meeting.contacts.all() if c.email])
            for meeting in Touchpoint.objects.filter(customer__in=customers, kind="meeting")
            .exclude(pk__in=noted).prefetch_related("contacts")
        ]
        people[username] = {"customers": customers, "meetings": [m for m in meetings if m[1]]}

    settings.SURVEY_FATIGUE_DAYS = 0  # this run's campaign reaches everyone, whatever came before
    survey, _ = Survey.objects.get_or_create(
        name="Load NPS", defaults={"kind": "nps", "question": "How likely are you to recommend us?"})
    campaign = campaign_send(campaign=campaign_create(
        user=None, survey=survey, name=f"Load {tag}", filters={}, reminder_days=0))
    tokens = list(Invitation.objects.filter(campaign=campaign).values_list("token", flat=True))
    return sessions, people, tokens, campaign


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = collections.defaultdict(list)
        self.unexpected = collections.Counter()
        self.done = collections.defaultdict(list)  # what succeeded, to count rows against

    def request(self, connection, kind, method, path, *, session=None, data=None, expect=200):
        headers = {"Cookie": f"csrftoken={CSRF}" + (f"; sessionid={session}" if session else "")}
        body = None
        if method == "POST":
            body = urlencode({**(data or {}), "csrfmiddlewaretoken": CSRF}, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError as error:
            status = error.__class__.__name__
            connection.close()
        took = time.monotonic() - started
        with self.lock:
            self.latencies[kind].append(took)
            if status != expect:
                self.unexpected[(kind, status)] += 1
        return status == expect


def account_manager(port, recorder, session, person, tag, stop_at, name):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    rng = random.Random(name)
    n = 0
    while time.monotonic() < stop_at:
        customer = rng.choice(person["customers"])
        recorder.request(connection, "Today", "GET", "/today/", session=session)
        recorder.request(connection, "customer page", "GET", f"/customers/{customer}/", session=session)
        summary = f"{tag} {name} call {n}"
        if recorder.request(connection, "log a call (POST)", "POST",
                            f"/touchpoints/customers/{customer}/quick-log/", session=session,
                            data={"kind": "call", "summary": summary}, expect=302):
            recorder.done["calls"].append(summary)
        if n % 4 == 3 and person["meetings"]:
            meeting, contacts = person["meetings"].pop()
            if recorder.request(connection, "send meeting notes (POST)", "POST",
                                f"/touchpoints/{meeting}/notes/", session=session, expect=302,
                                data={"action": "send", "contacts": contacts,
                                      "subject": f"Notes {tag}", "body": "What we agreed."}):
                recorder.done["notes"].append(meeting)
        n += 1
    connection.close()


def manager(port, recorder, session, stop_at):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < stop_at:
        recorder.request(connection, "dashboard", "GET", "/dashboard/", session=session)
        time.sleep(0.5)  # a manager reads the page
    connection.close()


def customer(port, recorder, tokens, stop_at):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < stop_at:
        with recorder.lock:
            if not tokens:
                break
            token = tokens.pop()
        recorder.request(connection, "survey page", "GET", f"/s/{token}/")
        if recorder.request(connection, "answer (POST)", "POST", f"/s/{token}/", expect=302,
                            data={"step": "score", "score": random.randint(0, 10)}):
            recorder.done["answers"].append(token)
        time.sleep(0.2)  # a customer reads, then clicks
    connection.close()


def percentile(values, p):
    return values[min(len(values) - 1, int(p * len(values)))] * 1000


def campaign_messages(campaign):
    """The campaign's emails: an outbox row per invitation, keyed ``survey:`` + its occasion."""
    from surveys.models import Invitation
    from touchpoints.models import OutboxMessage

    keys = Invitation.objects.filter(campaign=campaign).values_list("occasion_key", flat=True)
    return OutboxMessage.objects.filter(occasion_key__in=[f"survey:{key}" for key in keys])


def later(messages):
    from django.utils import timezone

    return messages.filter(status="pending", send_after__gt=timezone.now())


def due_unsent(messages):
    from django.utils import timezone

    return messages.exclude(status="sent").exclude(status="pending", send_after__gt=timezone.now())


def count_rows(tag, recorder, campaign, sink):
    from django.db.models import Count

    from surveys.models import Response
    from touchpoints.models import OutboxMessage, Touchpoint

    calls = Touchpoint.objects.filter(summary__startswith=f"{tag} ")
    answers = Response.objects.filter(invitation__token__in=recorder.done["answers"])
    messages = OutboxMessage.objects.filter(program="meeting_notes",
                                            related_touchpoint__in=recorder.done["notes"])
    invitations = campaign_messages(campaign)
    ours = set(messages.values_list("occasion_ref", flat=True)) | set(
        invitations.values_list("occasion_ref", flat=True))
    received = {ref: n for ref, n in sink.by_occasion().items() if ref in ours}
    return {
        "calls logged (302)": len(recorder.done["calls"]),
        "calls stored": calls.count(),
        "calls stored twice": calls.values("summary").annotate(n=Count("pk")).filter(n__gt=1).count(),
        "answers recorded (302)": len(recorder.done["answers"]),
        "answers stored": answers.count(),
        "invitations answered twice": answers.values("invitation").annotate(n=Count("pk"))
        .filter(n__gt=1).count(),
        "meeting notes sent (302)": len(recorder.done["notes"]),
        "meeting notes in the outbox": messages.count(),
        "survey emails in the outbox": invitations.count(),
        "messages sent": messages.filter(status="sent").count() + invitations.filter(status="sent").count(),
        # The daily limit defers an automated message to a contact who had one today: not lost.
        "messages waiting for a later day": later(messages).count() + later(invitations).count(),
        "messages due and not sent": due_unsent(messages).count() + due_unsent(invitations).count(),
        "messages received": len(received),
        "messages received twice": sum(1 for n in received.values() if n > 1),
    }


def wait_until_sent(campaign, recorder, timeout):
    from touchpoints.models import OutboxMessage

    ours = campaign_messages(campaign) | OutboxMessage.objects.filter(
        program="meeting_notes", related_touchpoint__in=recorder.done["notes"])
    deadline = time.monotonic() + timeout
    while due_unsent(ours).exists() and time.monotonic() < deadline:
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--customers", type=int, default=8, help="customers answering at once")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--json", help="write the results to this file too")
    args = parser.parse_args()
    secret_key = secrets.token_urlsafe(50)
    os.environ["SECRET_KEY"] = secret_key  # the sessions made here are valid in gunicorn
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-load-{os.getpid()}"
    django_setup()
    from django.db import connection
    from smtp_sink import SmtpSinkProcess

    if connection.vendor != "postgresql":
        sys.exit("use PostgreSQL (DATABASE_URL), on a seed_demo database of its own")
    tag = f"load-{int(time.time())}"
    port = free_port()
    env = production_env(port, secret_key)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT,
                   check=True, env=env)
    logs = {name: tempfile.NamedTemporaryFile(prefix=f"bench-load-{name}-", suffix=".log", delete=False)
            for name in ("gunicorn", "worker")}
    with SmtpSinkProcess(tempfile.mkdtemp(prefix="bench-load-mail-")) as sink:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "retention", "worker", "--pool=solo",
             "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"{os.environ['CELERY_TASK_DEFAULT_QUEUE']}@%h"],
            cwd=ROOT, env={**env, "EMAIL_URL": sink.url}, stdout=logs["worker"], stderr=subprocess.STDOUT)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "retention.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(args.workers), "--threads", str(args.threads), "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True, stdout=logs["gunicorn"], stderr=subprocess.STDOUT)
        try:
            sessions, people, tokens, campaign = prepare(tag)
            recorder = Recorder()
            warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(100):  # until gunicorn's workers answer
                try:
                    if recorder.request(warm, "warm-up", "GET", "/today/", session=sessions["am1"]):
                        break
                except http.client.HTTPException:
                    pass
                time.sleep(0.3)
            recorder = Recorder()
            load_before = os.getloadavg()
            stop_at = time.monotonic() + args.seconds
            threads = [threading.Thread(target=account_manager, args=(
                port, recorder, sessions[name], people[name], tag, stop_at, name))
                for name in ACCOUNT_MANAGERS]
            threads += [threading.Thread(target=manager, args=(port, recorder, sessions[name], stop_at))
                        for name in MANAGERS]
            threads += [threading.Thread(target=customer, args=(port, recorder, tokens, stop_at))
                        for _ in range(args.customers)]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            took = time.monotonic() - started
            load_after = os.getloadavg()
            wait_until_sent(campaign, recorder, timeout=300)
            counts = count_rows(tag, recorder, campaign, sink)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            worker.terminate()
            worker.wait(timeout=30)

    total = sum(len(v) for v in recorder.latencies.values())
    print(f"{total} requests in {took:.0f} s: {total / took:.1f}/s; {len(ACCOUNT_MANAGERS)} account "
          f"managers, {len(MANAGERS)} managers, {args.customers} customers at once; gunicorn "
          f"{args.workers} workers × {args.threads} threads; load average {load_before} → {load_after}")
    print(f"{'request':28} {'n':>6} {'per s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    figures = {}
    for kind, values in sorted(recorder.latencies.items()):
        values.sort()
        figures[kind] = {"n": len(values), "per_second": round(len(values) / took, 1),
                         **{f"p{p}": round(percentile(values, p / 100), 1) for p in (50, 95, 99)},
                         "max": round(values[-1] * 1000, 1)}
        print(f"{kind:28} " + " ".join(f"{figures[kind][key]:>{width}}" for key, width in (
            ("n", 6), ("per_second", 6), ("p50", 7), ("p95", 7), ("p99", 7), ("max", 7))))
    errors = {f"{kind}: {status}": n for (kind, status), n in recorder.unexpected.items()}
    print(f"unexpected answers: {errors or 'none'}")
    for name, value in counts.items():
        print(f"{name:32} {value}")
    exact = (counts["calls logged (302)"] == counts["calls stored"]
             and counts["answers recorded (302)"] == counts["answers stored"]
             and counts["meeting notes sent (302)"] == counts["meeting notes in the outbox"]
             and counts["messages received"] == counts["messages sent"]
             and counts["messages sent"] + counts["messages waiting for a later day"]
             == counts["meeting notes in the outbox"] + counts["survey emails in the outbox"]
             and not (counts["calls stored twice"] or counts["invitations answered twice"]
                      or counts["messages due and not sent"] or counts["messages received twice"]))
    print("rows: " + ("every one once" if exact else "OFF"))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "seconds": round(took, 1), "requests": total, "load_average": [load_before, load_after],
            "requests_by_kind": figures, "unexpected": errors, "counts": counts}, indent=2))
    for log in logs.values():
        Path(log.name).unlink(missing_ok=True)
    if errors or not exact:
        sys.exit(1)


if __name__ == "__main__":
    main()
