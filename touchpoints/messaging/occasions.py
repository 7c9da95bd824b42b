"""
Which messages are due: the occasions each program finds, one set-based query per group of time
zones that share a local date (``customers.zones``), never a loop over customers.

An ``Occasion`` is a decision not yet written: the program, its unique occasion key (one birthday
greeting per contact per year, one follow-up per purchase…), who it is for and when it goes out —
the program's ``send_hour`` in the customer's own time zone, as UTC. ``scans.py`` renders and
writes them to the outbox ledger.

Post-purchase follow-ups due for one customer on one day are one occasion carrying the others
(``merged``): one message that names every purchase, the others recorded as merged into it.
"""

import dataclasses
import datetime
import functools
import zoneinfo
from collections import defaultdict
from decimal import Decimal
from itertools import groupby, islice

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from customers.dates import on_day_q
from customers.models import Contact, Customer, KeyDate, Purchase, Team
from customers.selectors import email_contact
from customers.zones import zone_groups

from ..models import OutboxMessage, Program
from .policy import lookback_days

CHUNK_SIZE = 1000
THANK_YOU_WITHIN = datetime.timedelta(days=7)
# Only a new relationship is thanked: not a reactivated customer, nor a whole book imported as active.
NEW_CUSTOMER_DAYS = 30

# The month and day fields each kind of yearly date is matched on (customers.dates).
BIRTHDAY = ("birthday_month", "birthday_day")
ANNIVERSARY = ("customer_since__month", "customer_since__day")
KEY_DATE = ("date__month", "date__day")


@dataclasses.dataclass(frozen=True)
class Occasion:
    """One message a scan decided on, before it is rendered."""

    program: str
    key: str
    customer_id: int
    contact_id: int | None
    send_after: datetime.datetime
    extra: dict = dataclasses.field(default_factory=dict, hash=False, compare=False)
    # When it was first due, if before ``send_after`` (a follow-up caught up after a missed day):
    # its latest sensible send time counts from then.
    due: datetime.datetime | None = None
    # Occasions of the same program, contact and day that this one's message carries too.
    merged: tuple = ()


@functools.lru_cache(maxsize=4096)
def send_time(local_date, tz, hour):
    """``hour``:00 on ``local_date`` in ``tz``, as an aware UTC datetime."""
    local = datetime.datetime.combine(local_date, datetime.time(hour), tzinfo=zoneinfo.ZoneInfo(tz))
    return local.astimezone(datetime.UTC)


def customers_in_zones(zones):
    """The customers in the program whose time zone is one of ``zones``."""
    return Customer.objects.in_program().filter(timezone__in=zones)


def _stream(queryset, fields, order=("pk",)):
    return queryset.order_by(*order).values_list(*fields).iterator(chunk_size=CHUNK_SIZE)


def checkin_occasions(dates, program):
    """Customers past their cadence whose team and own settings allow the automated email."""
    teams = Team.objects.filter(automated_checkins=True).values("pk")
    for day, zones in zone_groups(dates).items():
        rows = (
            customers_in_zones(zones)
            .filter(next_checkin_due__lte=day, team__in=teams, allow_automated_checkins=True)
            .annotate(contact_pk=email_contact())
        )
        for pk, tz, contact_pk, due in _stream(rows, ["pk", "timezone", "contact_pk", "next_checkin_due"]):
            yield Occasion("checkin", f"checkin:{pk}:{due.isoformat()}", pk, contact_pk,
                           send_time(day, tz, program.send_hour))


def birthday_occasions(dates, program):
    for day, zones in zone_groups(dates).items():
        rows = (
            Contact.objects.filter(on_day_q(*BIRTHDAY, day))
            .filter(customer__in=customers_in_zones(zones).values("pk")).exclude(email="")
        )
        for pk, customer_id, tz in _stream(rows, ["pk", "customer_id", "customer__timezone"]):
            yield Occasion("birthday", f"birthday:{pk}:{day.year}", customer_id, pk,
                           send_time(day, tz, program.send_hour))


def anniversary_occasions(dates, program):
    for day, zones in zone_groups(dates).items():
        rows = (
            customers_in_zones(zones)
            .filter(on_day_q(*ANNIVERSARY, day), customer_since__year__lt=day.year)
            .annotate(contact_pk=email_contact())
        )
        for pk, tz, contact_pk, since in _stream(rows, ["pk", "timezone", "contact_pk", "customer_since"]):
            yield Occasion("anniversary", f"anniversary:{pk}:{day.year}", pk, contact_pk,
                           send_time(day, tz, program.send_hour), {"years": day.year - since.year})


def key_date_occasions(dates, program):
    """Yearly key dates on their month and day (from their first date on), one-off ones on the day."""
    for day, zones in zone_groups(dates).items():
        rows = (
            KeyDate.objects.filter(customer__in=customers_in_zones(zones).values("pk"))
            .filter(Q(recurrence=KeyDate.Recurrence.ONCE, date=day)
                    | Q(on_day_q(*KEY_DATE, day), recurrence=KeyDate.Recurrence.YEARLY, date__lte=day))
            .annotate(primary_pk=email_contact("customer_id"))
        )
        for pk, customer_id, tz, contact_id, primary_pk, name in _stream(
            rows, ["pk", "customer_id", "customer__timezone", "contact_id", "primary_pk", "name"]
        ):
            # A key date of one contact is theirs alone, whoever the program's audience.
            yield Occasion("key_date", f"key_date:{pk}:{day.year}", customer_id, contact_id or primary_pk,
                           send_time(day, tz, program.send_hour),
                           {"occasion": name, "own_contact": contact_id is not None})


def post_purchase_occasions(dates, program):
    """
    Purchases made ``program.days`` ago, and those of the days before that a stopped scheduler
    missed (up to the program's grace): one occasion per customer and day, carrying the others.
    """
    for day, zones in zone_groups(dates).items():
        bought_on = day - datetime.timedelta(days=program.days)
        earliest = bought_on - datetime.timedelta(days=lookback_days("post_purchase"))
        rows = (
            Purchase.objects.filter(date__range=(earliest, bought_on),
                                    customer__in=customers_in_zones(zones).values("pk"))
            .annotate(contact_pk=email_contact("customer_id"))
        )
        stream = _stream(rows, ["pk", "customer_id", "customer__timezone", "contact_pk", "description",
                                "date", "amount"], order=("customer_id", "date", "pk"))
        for _, purchases in groupby(stream, key=lambda row: row[1]):
            occasions = []
            for pk, customer_id, tz, contact_pk, description, date, amount in purchases:
                purchase = {"description": description or "your purchase", "date": date, "amount": amount}
                occasions.append(Occasion(
                    "post_purchase", f"post_purchase:{pk}", customer_id, contact_pk,
                    send_time(day, tz, program.send_hour), {"purchase": purchase},
                    due=send_time(date + datetime.timedelta(days=program.days), tz, program.send_hour),
                ))
            yield dataclasses.replace(occasions[0], merged=tuple(occasions[1:]))


def merged_extra(members):
    """
    The placeholders of one message standing for several occasions (post-purchase follow-ups):
    ``purchases``, each one, and ``purchase``, all of them at once ("a desk, two chairs and a lamp",
    the latest date, the total), so that the wording written for one purchase reads right for many.
    """
    purchases = [member.extra["purchase"] for member in members if "purchase" in member.extra]
    if not purchases:
        return dict(members[0].extra)
    if len(purchases) == 1:
        return {**members[0].extra, "purchases": purchases}
    names = [purchase["description"] if purchase["description"] != "your purchase"
             else f"your purchase of {purchase['date'].day} {purchase['date']:%B}" for purchase in purchases]
    amounts = [purchase["amount"] for purchase in purchases if purchase["amount"] is not None]
    combined = {
        "description": ", ".join(names[:-1]) + " and " + names[-1],
        "date": max(purchase["date"] for purchase in purchases),
        "amount": sum(amounts, Decimal(0)) if amounts else None,
    }
    return {**members[0].extra, "purchase": combined, "purchases": purchases}


def thank_you_occasions(*, now=None):
    """
    Customers who became active in the last week and have not been thanked for it.

    Not tied to a local date or hour: the promise is "within the hour", so it runs every
    10 minutes and its messages are due at once.
    """
    now = now or timezone.now()
    thanked = OutboxMessage.objects.filter(
        program="thank_you", customer=OuterRef("pk"), created_at__gte=OuterRef("status_changed_at")
    )
    rows = (
        Customer.objects.current()
        .filter(status=Customer.Status.ACTIVE, status_changed_at__gte=now - THANK_YOU_WITHIN,
                status_changed_at__lte=now)
        .filter(Q(customer_since__isnull=True)
                | Q(customer_since__gte=(now - datetime.timedelta(days=NEW_CUSTOMER_DAYS)).date()))
        .filter(~Exists(thanked))
        .annotate(contact_pk=email_contact())
    )
    for pk, contact_pk, changed_at in _stream(rows, ["pk", "contact_pk", "status_changed_at"]):
        key = f"thank_you:{pk}:{changed_at.astimezone(datetime.UTC).date().isoformat()}"
        yield Occasion("thank_you", key, pk, contact_pk, now)


def for_audience(occasions, program):
    """
    Who gets a message about the customer: as decided (the primary contact), or, with the "every
    contact" audience, each of the customer's contacts with an email, one occasion each (its key
    names the contact). Contacts are read once per batch, not per occasion. Birthdays are always
    for their own contact and never pass through here.
    """
    if program.audience != Program.Audience.ALL:
        yield from occasions
        return
    occasions = iter(occasions)
    while batch := list(islice(occasions, CHUNK_SIZE)):
        contacts = defaultdict(list)
        for pk, customer_id in (
            Contact.objects.filter(customer_id__in={o.customer_id for o in batch}).exclude(email="")
            .order_by("-is_primary", "name", "pk").values_list("pk", "customer_id")
        ):
            contacts[customer_id].append(pk)
        for occasion in batch:
            if occasion.extra.get("own_contact"):
                yield occasion
                continue
            for contact_id in contacts[occasion.customer_id]:
                yield _for_contact(occasion, contact_id)


def _for_contact(occasion, contact_id):
    return dataclasses.replace(
        occasion, key=f"{occasion.key}:contact{contact_id}", contact_id=contact_id,
        merged=tuple(_for_contact(member, contact_id) for member in occasion.merged),
    )


# The programs that send email from a daily scan, in the order the scans run, and their occasions.
OCCASIONS = {
    "checkin": checkin_occasions,
    "birthday": birthday_occasions,
    "anniversary": anniversary_occasions,
    "key_date": key_date_occasions,
    "post_purchase": post_purchase_occasions,
}
