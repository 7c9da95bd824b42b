"""
Check-ins: the scan that opens a follow-up for every customer past their cadence (the scheduler
runs it hourly per time zone, ``run_daily_jobs`` on demand), and snoozing a customer's check-in.
The clock itself is ``customers.checkin``; a logged contact resets it (``touchpoint_log``).
"""

import datetime
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from customers.history import actor
from customers.models import Customer, CustomerChange
from customers.zones import local_dates

from .models import FollowUp

CHECKIN_BATCH_SIZE = 500


def checkins_due(*, on_date=None):
    """
    Customers past their check-in cadence with no open check-in follow-up, per local date.

    One query per time zone in use, never a loop over customers.
    """
    open_checkin = _open_checkin()
    for tz, local_date in local_dates(on_date=on_date).items():
        yield local_date, (
            Customer.objects.in_program()
            .filter(timezone=tz, next_checkin_due__lte=local_date)
            .filter(~Exists(open_checkin))
            .order_by("pk")
        )


def checkin_due_batches(*, on_date=None, batch_size=CHECKIN_BATCH_SIZE):
    """(local date, [customer ids]) in batches, for fanning out to workers."""
    for local_date, customers in checkins_due(on_date=on_date):
        ids = customers.values_list("pk", flat=True).iterator(chunk_size=batch_size)
        while batch := list(islice(ids, batch_size)):
            yield local_date, batch


def checkin_followups_create(*, customer_ids, on_date):
    """
    Open a check-in follow-up for the owner of each customer still due on ``on_date``.

    Safe to run twice or concurrently: the partial unique constraint allows one open check-in per
    customer and conflicting rows are skipped. Returns how many were created.
    """
    if isinstance(on_date, str):
        on_date = datetime.date.fromisoformat(on_date)
    rows = (
        Customer.objects.in_program()
        .filter(pk__in=customer_ids, next_checkin_due__lte=on_date)
        .values_list("pk", "owner_id", "name", "next_checkin_due")
    )
    follow_ups = [
        FollowUp(customer_id=pk, assignee_id=owner_id, kind=FollowUp.Kind.CHECKIN,
                 title=f"Check in with {name}", due_on=due)
        for pk, owner_id, name, due in rows
    ]
    FollowUp.objects.bulk_create(follow_ups, ignore_conflicts=True)
    return len(follow_ups)


def checkins_open(*, on_date=None):
    """The check-in scan run in this process (the scheduler fans the same batches out to workers):
    opens a follow-up for every customer due. Returns how many were opened."""
    opened = 0
    for local_date, customer_ids in checkin_due_batches(on_date=on_date):
        opened += checkin_followups_create(customer_ids=customer_ids, on_date=local_date)
    return opened


def _open_checkin():
    return FollowUp.objects.open().filter(customer=OuterRef("pk"), kind=FollowUp.Kind.CHECKIN)


SNOOZE_MAX_DAYS = 365


@transaction.atomic
def checkin_snooze(*, customer, user, until, reason):
    """
    Put a customer's check-in off to ``until`` for a reason (on holiday, asked to call later).

    Moves "next check-in due" only; the next logged contact sets the clock from scratch as usual.
    The reason goes into the customer's history, and the open check-in follow-up is dismissed.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "Say why the check-in waits."})
    today = customer.local_today()
    if until <= today:
        raise ValidationError({"until": "Snooze to a date after today."})
    if until > today + datetime.timedelta(days=SNOOZE_MAX_DAYS):
        raise ValidationError({"until": "Snooze for at most a year."})
    previous = customer.next_checkin_due
    customer.next_checkin_due = until
    customer.save(update_fields=["next_checkin_due"])
    CustomerChange.objects.create(
        customer=customer, user=actor(user), field="next_checkin_due",
        old_value=previous.isoformat() if previous else "",
        new_value=f"{until.isoformat()} (check-in snoozed: {reason})"[:1000],
        version=customer.version,
    )
    FollowUp.objects.open().filter(customer=customer, kind=FollowUp.Kind.CHECKIN).update(
        status=FollowUp.Status.DISMISSED, closed_at=timezone.now(), closed_by=actor(user),
        notes=f"Snoozed to {until.isoformat()}: {reason}",
    )
    return customer
