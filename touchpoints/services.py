"""Logging contact with customers, and the follow-ups the check-in scan creates."""

import datetime
import zoneinfo
from itertools import islice

from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from customers.models import Customer
from customers.services import customer_record_contact, customer_reset_contact

from .models import FollowUp, Touchpoint

CHECKIN_BATCH_SIZE = 500


@transaction.atomic
def touchpoint_log(*, customer, user, kind, summary, happened_at=None, contacts=(), **fields):
    """Record a touchpoint; a contact resets the customer's check-in clock in the same transaction."""
    touchpoint = Touchpoint(
        customer=customer, author=user if user and user.is_authenticated else None, kind=kind,
        summary=summary, happened_at=happened_at or timezone.now(), **fields,
    )
    touchpoint.full_clean()
    touchpoint.save()
    if contacts:
        touchpoint.contacts.set(contacts)
    if touchpoint.counts_as_contact:
        customer_record_contact(customer=customer, at=touchpoint.happened_at)
        FollowUp.objects.open().filter(customer=customer, kind=FollowUp.Kind.CHECKIN).update(
            status=FollowUp.Status.DONE, closed_at=timezone.now(), closed_by=touchpoint.author
        )
    return touchpoint


@transaction.atomic
def touchpoint_update(*, touchpoint, data, contacts=None):
    for field, value in data.items():
        setattr(touchpoint, field, value)
    touchpoint.full_clean()
    touchpoint.save(update_fields=[*data, "updated_at"])
    if contacts is not None:
        touchpoint.contacts.set(contacts)
    customer_contact_recompute(customer=touchpoint.customer)
    return touchpoint


@transaction.atomic
def touchpoint_delete(*, touchpoint):
    customer = touchpoint.customer
    touchpoint.delete()
    customer_contact_recompute(customer=customer)


def customer_contact_recompute(*, customer):
    """Recompute "last contacted" from the touchpoints themselves (after an edit or delete)."""
    latest = customer.touchpoints.filter(kind__in=Touchpoint.CONTACT_KINDS).aggregate(
        latest=Max("happened_at")
    )["latest"]
    if latest != customer.last_contacted_at:
        customer_reset_contact(customer=customer, last_contacted_at=latest)
    return customer


def followup_close(*, follow_up, user, status=FollowUp.Status.DONE):
    FollowUp.objects.filter(pk=follow_up.pk, status=FollowUp.Status.OPEN).update(
        status=status, closed_at=timezone.now(), closed_by=user
    )
    follow_up.refresh_from_db()
    return follow_up


# The check-in scan ---------------------------------------------------------------------------


def local_dates(on_date=None):
    """{time zone: its local date} for every time zone a customer in the program is in."""
    zones = (
        Customer.objects.in_program().order_by().values_list("timezone", flat=True).distinct()
    )
    now = timezone.now()
    return {tz: on_date or now.astimezone(zoneinfo.ZoneInfo(tz)).date() for tz in zones}


def checkins_due(*, on_date=None):
    """
    Customers past their check-in cadence with no open check-in follow-up, per local date.

    One query per time zone in use, never a loop over customers.
    """
    open_checkin = _open_checkin()
    for tz, local_date in local_dates(on_date).items():
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


def _open_checkin():
    return FollowUp.objects.open().filter(customer=OuterRef("pk"), kind=FollowUp.Kind.CHECKIN)
