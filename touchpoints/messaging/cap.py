"""
The daily limit: an address receives at most ``OUTBOX_DAILY_CAP`` automated messages on one local
day (the customer's time zone). The sender asks here before it claims a capped message.

The limit is kept where every message passes, whoever decided it (a scan, a survey campaign, the
thank-you), at the moment it goes out:

1. **Slots.** A message that goes out takes a slot, ``(address, local day, 1…cap)``, in the same
   conditional UPDATE that claims it; a unique constraint makes two workers sending to the same
   person at once unable to take the same slot. A message that fails, or goes back in line, frees
   its slot.
2. **Priority.** Before taking a slot, a message leaves the free slots to the messages of higher
   priority (``policy.PRIORITY``) still waiting for the same address that day: a check-in due at
   09:00 waits for the birthday greeting due at 09:00, whichever worker gets to it first.
3. **The one that loses** waits for the next day at the same local time (``deferred``, the reason
   and the message that took the day in the Outbox), as long as its latest sensible send time
   allows; otherwise, a greeting for instance, it is ``suppressed`` with that reason.

Several post-purchase follow-ups for one contact on one day are not capped against each other but
merged into one message when the scan decides them (``scans.py``).
"""

import dataclasses
import datetime
import zoneinfo

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from ..models import OutboxMessage, Program
from .policy import is_capped, priority

PENDING, SENDING, SENT = OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING, OutboxMessage.Status.SENT


@dataclasses.dataclass
class Verdict:
    """Whether a message may go out today: the slots it may try, or what took the day."""

    day: datetime.date
    slots: list
    winner: dict | None = None


def recipient_zone(message):
    if message.customer_id is not None and message.customer is not None:
        return zoneinfo.ZoneInfo(message.customer.timezone)
    return timezone.get_current_timezone()


def local_day(message, now):
    """The recipient's local date at ``now``, and its start and end as aware datetimes."""
    zone = recipient_zone(message)
    day = now.astimezone(zone).date()
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), tzinfo=zone)
    return day, start, end


def address_of(message):
    return message.to.strip().lower()


def _rank(program, send_after, pk):
    return priority(program), send_after, pk


def cap_verdict(message, now):
    """
    The slots ``message`` may try today, in order (none: it must wait or be suppressed, and
    ``winner`` is the message that took the day). One query over what that address gets that day.
    """
    day, start, end = local_day(message, now)
    rows = list(
        OutboxMessage.objects.annotate(address=Lower("to")).filter(address=address_of(message))
        .filter(Q(cap_day=day, status__in=[SENDING, SENT])
                | Q(status=PENDING, send_after__gte=start, send_after__lt=end))
        .exclude(pk=message.pk)
        .values("pk", "program", "status", "send_after", "cap_day", "cap_slot", "expires_at",
                "automated", "contact_id")
    )
    taken = [row for row in rows if row["cap_day"] == day and row["cap_slot"]]
    mine = _rank(message.program, message.send_after, message.pk)
    ahead = sorted(
        (row for row in rows
         if row["status"] == PENDING
         and is_capped(program=row["program"], automated=row["automated"], contact_id=row["contact_id"])
         and (row["expires_at"] is None or row["expires_at"] > now)
         and _rank(row["program"], row["send_after"], row["pk"]) < mine),
        key=lambda row: _rank(row["program"], row["send_after"], row["pk"]),
    )
    used = {row["cap_slot"] for row in taken}
    free = [slot for slot in range(1, settings.OUTBOX_DAILY_CAP + 1) if slot not in used]
    if len(free) > len(ahead):
        return Verdict(day=day, slots=free[len(ahead):])
    winner = (taken or ahead or [None])[0]
    return Verdict(day=day, slots=[], winner=winner)


def cap_hold(message, now, verdict):
    """
    ``message`` cannot go out today: move it to the next day at the same local time, or suppress it
    when that is past its latest sensible send time. Returns "deferred" or "suppressed" (or
    "skipped" when someone else changed the row meanwhile).
    """
    zone = recipient_zone(message)
    first_due = message.deferred_from or message.send_after
    at = first_due.astimezone(zone).time()
    later = datetime.datetime.combine(verdict.day + datetime.timedelta(days=1), at, tzinfo=zone)
    winner = _describe_winner(verdict.winner)
    pending = OutboxMessage.objects.filter(pk=message.pk, status=PENDING, attempts=message.attempts)
    if message.expires_at is not None and later >= message.expires_at:
        changed = pending.update(
            status=OutboxMessage.Status.SUPPRESSED, reason=OutboxMessage.Reason.CAPPED,
            reason_note=(f"Not sent: {message.to.strip()} already had {winner} on "
                         f"{verdict.day:%a %d %b %Y}, and this message could not wait for another day."),
            lease_until=None,
        )
        return "suppressed" if changed else "skipped"
    changed = pending.update(
        send_after=later.astimezone(datetime.UTC), deferred_from=first_due, lease_until=None,
        reason=OutboxMessage.Reason.DEFERRED,
        reason_note=(f"Waits until {later:%a %d %b %Y %H:%M} ({zone.key}): {message.to.strip()} "
                     f"already had {winner} on {verdict.day:%a %d %b %Y}."),
    )
    return "deferred" if changed else "skipped"


def _describe_winner(row):
    if row is None:
        return "its automated message of the day"
    name = Program.Key(row["program"]).label if row["program"] in Program.Key.values else row["program"]
    if settings.OUTBOX_DAILY_CAP == 1:
        return f"the {name.lower()}"
    return f"the day's messages (the {name.lower()} …)"
