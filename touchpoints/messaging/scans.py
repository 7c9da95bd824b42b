"""
The program scans: turning the occasions each enabled program finds into outbox rows.

Occasions (``occasions.py``) are taken in chunks; for each chunk the wording is rendered, the
``OutboxMessage`` rows are written with ``bulk_create(ignore_conflicts=True)`` in one transaction,
and their ids are queued on commit in batches of ``ledger.SEND_BATCH_SIZE``. The unique occasion
key makes a second scan (an hourly rerun, a second scheduler, two workers at once) a no-op, so the
scans may run as often as wanted.

Messages go out at the program's ``send_hour`` in the customer's own time zone: ``send_after`` is
that local time in UTC. Rows are made as soon as the local date begins; the outbox sends them when
due (the sweeper queues those due more than 15 minutes later).
"""

import dataclasses
import logging
import zoneinfo
from collections import defaultdict
from itertools import islice

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from customers.models import Contact, Customer
from customers.zones import local_dates

from ..models import EmailSignature, OutboxMessage
from .cards import card_reminders
from .ledger import SEND_BATCH_SIZE, enqueue_on_commit
from .occasions import CHUNK_SIZE, OCCASIONS, for_audience, thank_you_occasions
from .unsubscribe import unsubscribe_url_for, with_footer
from .wording import CompiledProgram, TemplateProblem, message_context, program_settings

log = logging.getLogger(__name__)

# The programs that send email from the daily scan, in the order the scans run.
EMAIL_PROGRAMS = list(OCCASIONS)


@dataclasses.dataclass
class ScanReport:
    """What a scan did, per program: messages queued, suppressed, already decided before."""

    counts: dict = dataclasses.field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    lines: list = dataclasses.field(default_factory=list)

    def add(self, program, what, n=1):
        self.counts[program][what] += n

    def as_dict(self):
        return {program: dict(counts) for program, counts in self.counts.items()}


class _People:
    """Owners and their signatures, loaded once per scan (there are few of them)."""

    def __init__(self):
        self.cache = {}

    def get(self, user_id):
        if user_id not in self.cache:
            user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
            signature = ""
            if user is not None:
                signature = EmailSignature.objects.filter(user=user).values_list(
                    "text", flat=True).first() or ""
            self.cache[user_id] = (user, signature)
        return self.cache[user_id]


# The scans -------------------------------------------------------------------------------------


def programs_scan(*, on_date=None, now=None, dry_run=False, programs=None, report=None):
    """
    Run every enabled program's scan for the local date in each customer time zone (``on_date``
    for all of them if given), including the card reminders. Returns a ``ScanReport``.
    """
    report = report or ScanReport()
    settings_by_key = program_settings()
    dates = local_dates(on_date=on_date, now=now)
    people = _People()
    for key in programs or EMAIL_PROGRAMS:
        program = settings_by_key[key]
        if not program.enabled:
            continue
        report.add(key, "queued", 0)
        try:
            compiled = CompiledProgram.of(program)
        except TemplateProblem as problem:
            log.error("program %s is not sent: its wording does not compile: %s", key, problem)
            report.add(key, "wording broken")
            continue
        occasions = for_audience(OCCASIONS[key](dates, program), program)
        materialize(occasions, compiled, report=report, people=people, dry_run=dry_run)
    if programs is None or "card_reminder" in programs:
        card_reminders(dates, settings_by_key["card_reminder"], report=report, dry_run=dry_run)
    return report


def thank_you_scan(*, now=None, dry_run=False, report=None):
    report = report or ScanReport()
    program = program_settings()["thank_you"]
    if program.enabled:
        report.add("thank_you", "queued", 0)
        materialize(for_audience(thank_you_occasions(now=now), program),
                    CompiledProgram.of(program), report=report, dry_run=dry_run)
    return report


# Turning occasions into outbox rows ------------------------------------------------------------


def materialize(occasions, compiled, *, report, people=None, dry_run=False):
    """Render and write the outbox rows for ``occasions`` (one program), chunk by chunk."""
    people = people or _People()
    occasions = iter(occasions)
    while chunk := list(islice(occasions, CHUNK_SIZE)):
        _materialize_chunk(chunk, compiled, report=report, people=people, dry_run=dry_run)


def _materialize_chunk(chunk, compiled, *, report, people, dry_run):
    program = chunk[0].program
    keys = [occasion.key for occasion in chunk]
    decided = set(OutboxMessage.objects.filter(occasion_key__in=keys)
                  .values_list("occasion_key", flat=True))
    fresh = [occasion for occasion in chunk if occasion.key not in decided]
    report.add(program, "already decided", len(chunk) - len(fresh))
    if not fresh:
        return
    # Plain values, not model instances: a heavy day renders tens of thousands of messages.
    customers = {row["pk"]: row for row in Customer.objects.filter(
        pk__in={o.customer_id for o in fresh}).values("pk", "name", "owner_id", "timezone")}
    contacts = {row["pk"]: row for row in Contact.objects.filter(
        pk__in={o.contact_id for o in fresh if o.contact_id}).values(
        "pk", "name", "email", "unsubscribed_at", "unsubscribe_token")}
    stamp = timezone.now()
    rows = []
    for occasion in fresh:
        customer, contact = customers.get(occasion.customer_id), contacts.get(occasion.contact_id)
        if customer is None or contact is None or not contact["email"]:
            report.add(program, "without email")
            continue
        owner, signature = people.get(customer["owner_id"])
        context = message_context(customer_name=customer["name"], contact_name=contact["name"], owner=owner,
                                  signature=signature, **occasion.extra)
        unsubscribe = unsubscribe_url_for(contact["unsubscribe_token"])
        try:
            subject, text, html = compiled.render(context, unsubscribe_url=unsubscribe)
        except TemplateProblem as problem:
            # Wording is checked when saved; should it still fail, one row must not stop the scan.
            log.error("program %s: cannot render %s: %s", program, occasion.key, problem)
            report.add(program, "not rendered")
            continue
        suppressed = contact["unsubscribed_at"] is not None
        if dry_run:
            local = occasion.send_after.astimezone(zoneinfo.ZoneInfo(customer["timezone"]))
            report.lines.append(
                f"{'suppress' if suppressed else 'would send'}  {occasion.key}  to {contact['email']}  "
                f"customer {customer['pk']} {customer['name']}  at {local:%Y-%m-%d %H:%M} "
                f"{customer['timezone']}  “{subject}”"
            )
        rows.append(OutboxMessage(
            occasion_key=occasion.key, program=program, customer_id=customer["pk"],
            contact_id=contact["pk"], sender_id=owner.pk if owner else None, to=contact["email"],
            reply_to=owner.email if owner else "", subject=subject,
            body_text=with_footer(text, unsubscribe), body_html=html,
            automated=True, send_after=occasion.send_after, created_at=stamp,
            status=OutboxMessage.Status.SUPPRESSED if suppressed else OutboxMessage.Status.PENDING,
        ))
    if dry_run:
        report.add(program, "would be queued", sum(r.status == "pending" for r in rows))
        report.add(program, "would be suppressed", sum(r.status == "suppressed" for r in rows))
        return
    with transaction.atomic():
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
        # Only the rows this scan created: a concurrent scan queues its own.
        created = list(
            OutboxMessage.objects.filter(occasion_key__in=[r.occasion_key for r in rows], created_at=stamp)
            .values_list("pk", "status", "send_after")
        )
        pending = defaultdict(list)
        for pk, status, send_after in created:
            report.add(program, "suppressed" if status == "suppressed" else "queued")
            if status == OutboxMessage.Status.PENDING:
                pending[send_after].append(pk)
        for send_after, ids in pending.items():
            for start in range(0, len(ids), SEND_BATCH_SIZE):
                enqueue_on_commit(ids[start:start + SEND_BATCH_SIZE], send_after)
        report.add(program, "lost to a concurrent scan", len(rows) - len(created))
