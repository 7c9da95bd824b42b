"""
Card reminders: not email but follow-ups for the owner, a few days ahead of the birthdays and
anniversaries of customers worth a physical card (tagged VIP, or of high lifetime value).

They run with the daily program scan (``scans.programs_scan``), for the same local dates, and are
keyed like its messages (``card:contact<id>:<date>``, ``card:customer<id>:<date>``), so a rerun
opens none twice.
"""

import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from customers.dates import on_day_q
from customers.models import Contact, Customer
from customers.zones import zone_groups

from ..models import FollowUp
from .occasions import ANNIVERSARY, BIRTHDAY, CHUNK_SIZE, customers_in_zones

VIP_TAG = "vip"


def card_worthy():
    """Customers worth a physical card: tagged VIP, or lifetime value of CARD_WORTHY_VALUE or more."""
    vip = Customer.tags.through.objects.filter(customer_id=OuterRef("pk"), tag__name__iexact=VIP_TAG)
    return Q(Exists(vip)) | Q(lifetime_value__gte=settings.CARD_WORTHY_VALUE)


def card_reminders(dates, program, *, report, dry_run=False):
    """
    Remind owners ``program.days`` ahead of the birthdays and anniversaries of card-worthy
    customers, with a follow-up (kind "card"); ``dates`` as ``customers.zones.local_dates`` gives
    them, ``report`` a ``scans.ScanReport``.

    The day's birthdays and anniversaries are found first (an index and a few hundred rows), and
    only their customers are checked for being worth a card.
    """
    if not program.enabled:
        return
    report.add("card_reminder", "opened", 0)
    for day, zones in zone_groups(dates).items():
        target = day + datetime.timedelta(days=program.days)
        in_zones = customers_in_zones(zones)
        birthdays = list(
            Contact.objects.filter(on_day_q(*BIRTHDAY, target), customer__in=in_zones.values("pk"))
            .values_list("pk", "name", "customer_id", "customer__name", "customer__owner_id")
        )
        anniversaries = list(
            in_zones.filter(on_day_q(*ANNIVERSARY, target), customer_since__year__lt=target.year)
            .values_list("pk", "name", "owner_id", "customer_since")
        )
        candidates = {row[2] for row in birthdays} | {row[0] for row in anniversaries}
        worthy = set()
        for start in range(0, len(candidates), CHUNK_SIZE):
            ids = sorted(candidates)[start:start + CHUNK_SIZE]
            worthy.update(Customer.objects.filter(card_worthy(), pk__in=ids).values_list("pk", flat=True))
        follow_ups = [
            FollowUp(customer_id=customer_id, assignee_id=owner_id, kind=FollowUp.Kind.CARD,
                     due_on=day, occasion_key=f"card:contact{pk}:{target.isoformat()}",
                     title=f"Send a birthday card to {name} ({customer_name}) for {target.day} {target:%B}")
            for pk, name, customer_id, customer_name, owner_id in birthdays if customer_id in worthy
        ]
        for pk, name, owner_id, since in anniversaries:
            if pk in worthy:
                years = target.year - since.year
                follow_ups.append(FollowUp(
                    customer_id=pk, assignee_id=owner_id, kind=FollowUp.Kind.CARD, due_on=day,
                    occasion_key=f"card:customer{pk}:{target.isoformat()}",
                    title=f"Send an anniversary card to {name}: {years} year{'s' if years != 1 else ''} "
                          f"on {target.day} {target:%B}",
                ))
        _open_card_reminders(follow_ups, report=report, dry_run=dry_run)


def _open_card_reminders(follow_ups, *, report, dry_run):
    for start in range(0, len(follow_ups), CHUNK_SIZE):
        chunk = follow_ups[start:start + CHUNK_SIZE]
        taken = set(FollowUp.objects.filter(occasion_key__in=[f.occasion_key for f in chunk])
                    .values_list("occasion_key", flat=True))
        fresh = [f for f in chunk if f.occasion_key not in taken]
        report.add("card_reminder", "already opened", len(chunk) - len(fresh))
        if dry_run:
            report.lines.extend(f"card reminder  {f.occasion_key}  customer {f.customer_id}  {f.title}"
                                for f in fresh)
            report.add("card_reminder", "would be opened", len(fresh))
            continue
        FollowUp.objects.bulk_create(fresh, ignore_conflicts=True)
        report.add("card_reminder", "opened", len(fresh))
