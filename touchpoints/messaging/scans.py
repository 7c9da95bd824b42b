"""
The program scans: turning the occasions each enabled program finds into outbox rows.

Occasions (``occasions.py``) are taken in chunks; for each chunk the wording is rendered, the
``OutboxMessage`` rows are written with ``bulk_create(ignore_conflicts=True)`` in one transaction,
and their ids are queued on commit in batches of ``ledger.SEND_BATCH_SIZE``. The unique occasion
key makes a second scan (an hourly rerun, a second scheduler, two workers at once) a no-op, so the
scans may run as often as wanted.

Messages go out at the program's ``send_hour`` in the customer's own time zone: ``send_after`` is
that local time in UTC. Rows are made as soon as the local date begins; the outbox sends them when
due (the sweeper queues those due more than 15 minutes later). Each row carries its latest sensible
send time (``policy.py``): a scan run for a day long gone (``run_daily_jobs --date``) records its
greetings as expired, never sends them late. Post-purchase follow-ups of one customer due the same
day are one message naming every purchase; the others are recorded as merged into it.
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
from .composing import new_message_id, occasion_reference
from .ledger import SEND_BATCH_SIZE, enqueue_on_commit, outbox_statistics_refresh, stale_note
from .occasions import CHUNK_SIZE, OCCASIONS, for_audience, merged_extra, thank_you_occasions
from .policy import expires_at as latest_send_time
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
    if not dry_run:
        outbox_statistics_refresh(sum(report.counts[key]["queued"] for key in programs or EMAIL_PROGRAMS))
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
    keys = [member.key for occasion in chunk for member in (occasion, *occasion.merged)]
    decided = set(OutboxMessage.objects.filter(occasion_key__in=keys)
                  .values_list("occasion_key", flat=True))
    fresh = []
    for occasion in chunk:
        # What a previous scan already decided stays as it is; the rest is one message.
        members = [member for member in (occasion, *occasion.merged) if member.key not in decided]
        report.add(program, "already decided", len(occasion.merged) + 1 - len(members))
        if members:
            fresh.append(members)
    if not fresh:
        return
    # Plain values, not model instances: a heavy day renders tens of thousands of messages.
    customers = {row["pk"]: row for row in Customer.objects.filter(
        pk__in={m[0].customer_id for m in fresh}).values("pk", "name", "owner_id", "timezone")}
    contacts = {row["pk"]: row for row in Contact.objects.filter(
        pk__in={m[0].contact_id for m in fresh if m[0].contact_id}).values(
        "pk", "name", "email", "unsubscribed_at", "unsubscribe_token")}
    stamp = timezone.now()
    rows, merged = [], defaultdict(list)
    for members in fresh:
        occasion = members[0]
        customer, contact = customers.get(occasion.customer_id), contacts.get(occasion.contact_id)
        if customer is None or contact is None or not contact["email"]:
            report.add(program, "without email", len(members))
            continue
        owner, signature = people.get(customer["owner_id"])
        context = message_context(customer_name=customer["name"], contact_name=contact["name"], owner=owner,
                                  signature=signature, **merged_extra(members))
        unsubscribe = unsubscribe_url_for(contact["unsubscribe_token"])
        try:
            subject, text, html = compiled.render(context, unsubscribe_url=unsubscribe)
        except TemplateProblem as problem:
            # Wording is checked when saved; should it still fail, one row must not stop the scan.
            log.error("program %s: cannot render %s: %s", program, occasion.key, problem)
            report.add(program, "not rendered")
            continue
        expires_at = latest_send_time(program, min(occasion.due or occasion.send_after, occasion.send_after),
                                      customer["timezone"])
        status, reason, note = OutboxMessage.Status.PENDING, "", ""
        if contact["unsubscribed_at"] is not None:
            status, reason = OutboxMessage.Status.SUPPRESSED, OutboxMessage.Reason.UNSUBSCRIBED
            note = "The contact had unsubscribed from automated messages."
        elif expires_at is not None and expires_at <= stamp:
            status, reason = OutboxMessage.Status.EXPIRED, OutboxMessage.Reason.STALE
            note = stale_note(expires_at)
        if dry_run:
            local = occasion.send_after.astimezone(zoneinfo.ZoneInfo(customer["timezone"]))
            verb = {"pending": "would send", "suppressed": "suppress", "expired": "expired"}[status]
            report.lines.append(
                f"{verb}  {occasion.key}  to {contact['email']}  "
                f"customer {customer['pk']} {customer['name']}  at {local:%Y-%m-%d %H:%M} "
                f"{customer['timezone']}  “{subject}”"
                + (f"  (with {', '.join(m.key for m in members[1:])})" if len(members) > 1 else "")
            )
        row = OutboxMessage(
            occasion_key=occasion.key, occasion_ref=occasion_reference(occasion.key),
            message_id=new_message_id(), program=program, customer_id=customer["pk"],
            contact_id=contact["pk"], sender_id=owner.pk if owner else None, to=contact["email"],
            reply_to=owner.email if owner else "", subject=subject,
            body_text=with_footer(text, unsubscribe), body_html=html,
            automated=True, send_after=occasion.send_after, expires_at=expires_at, created_at=stamp,
            status=status, reason=reason, reason_note=note,
        )
        rows.append(row)
        merged[occasion.key] = [_merged_row(row, member.key) for member in members[1:]]
    if dry_run:
        for what, status in (("queued", "pending"), ("suppressed", "suppressed"), ("expired", "expired")):
            report.add(program, f"would be {what}", sum(r.status == status for r in rows))
        report.add(program, "would be merged", sum(len(rows) for rows in merged.values()))
        return
    with transaction.atomic():
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
        # Only the rows this scan created: a concurrent scan queues its own.
        created = list(
            OutboxMessage.objects.filter(occasion_key__in=[r.occasion_key for r in rows], created_at=stamp)
            .values_list("pk", "occasion_key", "status", "send_after")
        )
        pending = defaultdict(list)
        merged_rows = []
        for pk, key, status, send_after in created:
            report.add(program, {"pending": "queued"}.get(status, status))
            if status == OutboxMessage.Status.PENDING:
                pending[send_after].append(pk)
            for row in merged[key]:
                row.merged_into_id = pk
                merged_rows.append(row)
        OutboxMessage.objects.bulk_create(merged_rows, ignore_conflicts=True)
        if merged_rows:
            report.add(program, "merged", len(merged_rows))
        for send_after, ids in pending.items():
            for start in range(0, len(ids), SEND_BATCH_SIZE):
                enqueue_on_commit(ids[start:start + SEND_BATCH_SIZE], send_after)
        report.add(program, "lost to a concurrent scan", len(rows) - len(created))


def _merged_row(row, key):
    """The record of an occasion whose message is ``row``'s: merged into it (or as it ended)."""
    merged = row.status == OutboxMessage.Status.PENDING
    return OutboxMessage(
        occasion_key=key, occasion_ref=occasion_reference(key), program=row.program,
        customer_id=row.customer_id, contact_id=row.contact_id, sender_id=row.sender_id, to=row.to,
        reply_to=row.reply_to, subject=row.subject, body_text=row.body_text, body_html=row.body_html,
        automated=True, send_after=row.send_after, expires_at=row.expires_at, created_at=row.created_at,
        status=OutboxMessage.Status.MERGED if merged else row.status,
        reason=OutboxMessage.Reason.MERGED if merged else row.reason,
        reason_note=("Goes out as part of one message that names every purchase followed up that day."
                     if merged else row.reason_note),
    )
