"""Workflows that change customers. Views and commands call these; they never write models directly.

The rules of a change (the status lifecycle, the check-in clock, …) are in ``customers.changes``,
which the CSV import calls too; the history lines are written through ``customers.history``.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, F, Max, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Round
from django.utils import timezone

from .audit import AuditEvent, audit_record
from .changes import customer_build, customer_changes_apply
from .events import EventType, customer_activity_recorded, customer_event_announce
from .history import actor, history_created, history_entries
from .models import Contact, Customer, CustomerChange, Purchase, Tag, Team

# A purchase counts towards "the last 12 months" while it is less than this many days old.
RECENT_DAYS = 365


def tags_get_or_create(names):
    """Tags by name, matched case-insensitively, created when new (a customer has a few)."""
    tags = []
    for name in names:
        tag = Tag.objects.filter(name__iexact=name).first()
        tags.append(tag or Tag.objects.get_or_create(name=name)[0])
    return tags


@transaction.atomic
def customer_create(*, user, team, name, tags=(), **fields):
    customer = customer_build(team=team, name=name, **fields)
    if customer.owner_id is None and actor(user) is not None:
        customer.owner = user
    customer.full_clean()
    customer.save()
    if tags:
        customer.tags.set(tags_get_or_create(list(tags)))
    history_created(customer=customer, user=user).save()
    return customer


class StaleEdit(Exception):
    """The customer changed since the form was loaded; ``changes`` says what changed meanwhile."""

    def __init__(self, changes):
        super().__init__("The customer was changed by someone else.")
        self.changes = changes


@transaction.atomic
def customer_update(*, customer, user, data, version):
    """
    Apply ``data`` (field → new value, ``tags`` a list of names) if nobody saved the customer since
    ``version``.

    The row is locked while its version is compared, so of two concurrent saves from the same
    version only the first passes. Only the fields that really change are written and recorded in
    the history.
    """
    current = Customer.objects.select_for_update().get(pk=customer.pk)
    if current.version != version:
        changes = CustomerChange.objects.filter(customer=current, version__gt=version)
        raise StaleEdit(list(changes.select_related("user")[:20]))

    now = timezone.now()
    tags_before = [t.name for t in current.tags.all()] if "tags" in data else ()
    changed, update_fields = customer_changes_apply(customer=current, data=data, now=now,
                                                    tags_before=tags_before)
    if not changed:
        return current, {}
    current.full_clean()
    current.save(update_fields=update_fields)
    if "tags" in changed:
        current.tags.set(tags_get_or_create(data["tags"]))
    CustomerChange.objects.bulk_create(history_entries(
        customer_id=current.pk, version=current.version, user=user, at=now, changes=changed,
    ))
    if "status" in changed and current.status == Customer.Status.CHURNED:
        customer_event_announce(event_type=EventType.CUSTOMER_CHURNED, customer_id=current.pk,
                                data={"churn": {"reason": current.churn_reason,
                                                "previous_status": changed["status"][0]}})
    customer_activity_recorded(customer_id=current.pk, what="customer")
    return current, changed


@transaction.atomic
def customers_reassign(*, user, customer_ids, owner):
    """
    Make ``owner`` the owner of the customers among ``customer_ids`` that ``user`` sees and
    manages (others are left alone), each change in the history with a version bump.

    All or nothing: if ``owner`` may not own the customers of one of their teams (does not see it:
    not a member, manager or admin), nothing changes and a
    ValidationError says which teams. Returns how many customers changed owner.
    """
    customers = Customer.objects.visible_to(user).filter(
        pk__in=customer_ids, team__in=Team.objects.managed_by(user).values("pk")
    )
    rows = list(
        customers.select_for_update(of=("self",)).order_by("pk")
        .values_list("pk", "team_id", "owner_id", "version")
    )
    if not rows:
        raise ValidationError("None of the ticked customers is in a team you manage.")
    team_ids = {team_id for _, team_id, _, _ in rows}
    # Who may own a team's customers: whoever sees the team (member, manager or admin).
    member_of = set(Team.objects.visible_to(owner).filter(pk__in=team_ids).values_list("pk", flat=True))
    if team_ids - member_of:
        names = ", ".join(Team.objects.filter(pk__in=team_ids - member_of).values_list("name", flat=True))
        raise ValidationError(
            f"{owner.get_full_name() or owner} is not in {names}, so cannot own "
            "their customers. Nothing was changed."
        )
    to_change = [row for row in rows if row[2] != owner.pk]
    if not to_change:
        return 0
    now = timezone.now()
    Customer.objects.filter(pk__in=[pk for pk, *_ in to_change]).update(
        owner=owner, version=F("version") + 1, updated_at=now
    )
    previous = get_user_model().objects.in_bulk({owner_id for _, _, owner_id, _ in to_change} - {None})
    audit_record(AuditEvent.Action.REASSIGN,
                 f"{len(to_change)} customer(s) handed to {owner.get_username()}",
                 target=", ".join(f"customer {pk}" for pk, *_ in to_change[:20]), actor=user)
    CustomerChange.objects.bulk_create(
        entry
        for pk, _, owner_id, version in to_change
        for entry in history_entries(customer_id=pk, version=version + 1, user=user, at=now,
                                     changes={"owner": (previous.get(owner_id), owner)})
    )
    return len(to_change)


def customer_archive(*, customer, user):
    """Take the customer out of lists and programs; its history stays and it can be restored."""
    return _set_archived(customer, user, archived=True)


def customer_restore(*, customer, user):
    return _set_archived(customer, user, archived=False)


@transaction.atomic
def _set_archived(customer, user, *, archived):
    updated = Customer.objects.filter(pk=customer.pk, archived_at__isnull=archived).update(
        archived_at=timezone.now() if archived else None, version=F("version") + 1,
        updated_at=timezone.now(),
    )
    customer.refresh_from_db(fields=["archived_at", "version", "updated_at"])
    if updated:
        audit_record(AuditEvent.Action.ARCHIVE if archived else AuditEvent.Action.RESTORE,
                     f"{'Archived' if archived else 'Restored'} {customer.name}",
                     target=f"customer {customer.pk}", actor=user)
        CustomerChange.objects.create(
            customer=customer, user=actor(user), field="archived",
            old_value="no" if archived else "yes", new_value="yes" if archived else "no",
            version=customer.version,
        )
    return customer


def customer_record_contact(*, customer, at):
    """
    Move the check-in clock forward to a contact made at ``at``.

    A conditional UPDATE, so an older touchpoint logged late never moves the clock backwards and
    two simultaneous logs cannot interleave.
    """
    customer.last_contacted_at = at
    due = customer.compute_next_checkin_due()
    updated = Customer.objects.filter(pk=customer.pk).filter(
        Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=at)
    ).update(last_contacted_at=at, next_checkin_due=due)
    if not updated:
        customer.refresh_from_db(fields=["last_contacted_at", "next_checkin_due"])
    else:
        customer.next_checkin_due = due
    return customer


def customer_reset_contact(*, customer, last_contacted_at):
    """Set the clock from scratch, after the latest touchpoint was edited or deleted."""
    customer.last_contacted_at = last_contacted_at
    customer.next_checkin_due = customer.compute_next_checkin_due()
    customer.save(update_fields=["last_contacted_at", "next_checkin_due"])
    return customer


@transaction.atomic
def contact_save(*, contact, make_primary=False):
    contact.full_clean()
    contact.save()
    if make_primary or contact.is_primary:
        Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(
            pk=contact.pk
        ).update(is_primary=False)
    return contact


def contact_unsubscribe(*, contact):
    """Idempotent: the first unsubscribe's date is kept."""
    if Contact.objects.filter(pk=contact.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=timezone.now()
    ):
        customer_activity_recorded(customer_id=contact.customer_id, what="unsubscribe")
    contact.refresh_from_db(fields=["unsubscribed_at"])
    return contact


# Purchases and value -------------------------------------------------------------------------


def recent_cutoff(today):
    """Purchases dated after this day are "in the last 12 months" on ``today``."""
    return today - datetime.timedelta(days=RECENT_DAYS)


@transaction.atomic
def purchase_add(*, customer, user, date, amount, description="", external_id=None):
    purchase = Purchase(customer=customer, date=date, amount=amount, description=description,
                        external_id=external_id, created_by=actor(user))
    purchase.full_clean()
    purchase.save()
    customer_value_recompute(customer=customer)
    _record_purchase(customer, user, new=purchase)
    customer_activity_recorded(customer_id=customer.pk, what="purchase")
    return purchase


PURCHASE_FIELDS = ("date", "amount", "description")


@transaction.atomic
def purchase_update(*, purchase, user, **fields):
    """
    Change a purchase's ``date``, ``amount`` or ``description``; returns whether anything changed.
    A purchase sent again unchanged (an order synced twice) writes nothing.
    """
    before = Purchase.objects.select_for_update().get(pk=purchase.pk)  # as stored, whatever a form did
    changed = [name for name, value in fields.items() if getattr(before, name) != value]
    if not changed:
        return False
    for name in changed:
        setattr(purchase, name, fields[name])
    purchase.full_clean()
    purchase.save(update_fields=changed)
    customer_value_recompute(customer=purchase.customer)
    _record_purchase(purchase.customer, user, old=before, new=purchase)
    customer_activity_recorded(customer_id=purchase.customer_id, what="purchase")
    return True


@transaction.atomic
def purchases_save(*, user, items):
    """
    Many purchases at once, from a shop or billing system: ``items`` is a list of ``(customer,
    fields)``, already validated, ``fields`` holding ``date``, ``amount``, ``description`` and an
    optional ``external_id`` (the order number). A purchase whose ``external_id`` is on file is
    updated (when something differs), never added twice; the others are added.

    Set-based, whatever the count: the purchases are written in one INSERT and one UPDATE, the
    customers' values recomputed in one statement, the history written in one INSERT, and the
    customers' health scores marked for the minute's sweep (``Customer.health_stale``) rather than
    recomputed one by one. Returns ``(purchases, added, updated)``: the purchase of each item in
    order, and how many were added and updated.
    """
    external_ids = [fields["external_id"] for _, fields in items if fields.get("external_id")]
    on_file = Purchase.objects.select_for_update().in_bulk(external_ids, field_name="external_id")
    purchases, added, updated, history = [], [], [], []
    for customer, fields in items:
        purchase = on_file.get(fields.get("external_id"))
        purchases.append(purchase)
        if purchase is None:
            purchase = purchases[-1] = Purchase(customer=customer, created_by=actor(user), **fields)
            added.append(purchase)
            history.append((customer, None, purchase))
            continue
        if purchase.customer_id != customer.pk:
            raise ValidationError(
                f"The order {purchase.external_id} is a purchase of another customer.")
        before = Purchase(**{name: getattr(purchase, name) for name in PURCHASE_FIELDS})
        changed = [name for name in PURCHASE_FIELDS if name in fields
                   and getattr(purchase, name) != fields[name]]
        if changed:
            for name in changed:
                setattr(purchase, name, fields[name])
            updated.append(purchase)
            history.append((customer, before, purchase))
    Purchase.objects.bulk_create(added)
    Purchase.objects.bulk_update(updated, PURCHASE_FIELDS)
    touched = {customer.pk: customer for customer, _, _ in history}
    if touched:
        customers = Customer.objects.filter(pk__in=touched)
        # One statement for them all, however far apart their ids are.
        customer_values_recompute_all(customers=customers, batch_size=max(touched) - min(touched) + 1)
        customers.update(health_stale=True)
        CustomerChange.objects.bulk_create(
            CustomerChange(customer_id=customer.pk, user=actor(user), field="purchase",
                           old_value=_purchase_label(old), new_value=_purchase_label(new),
                           version=customer.version)
            for customer, old, new in history
        )
    return purchases, len(added), len(updated)


@transaction.atomic
def purchase_delete(*, purchase, user):
    customer = purchase.customer
    purchase.delete()
    customer_value_recompute(customer=customer)
    _record_purchase(customer, user, old=purchase)
    customer_activity_recorded(customer_id=customer.pk, what="purchase")


def _record_purchase(customer, user, *, old=None, new=None):
    """A purchase added or deleted, in the customer's history (the customer's version is unchanged)."""
    CustomerChange.objects.create(
        customer=customer, user=actor(user), field="purchase",
        old_value=_purchase_label(old), new_value=_purchase_label(new), version=customer.version,
    )


def _purchase_label(purchase):
    if purchase is None:
        return ""
    label = f"{purchase.amount} {settings.CURRENCY} on {purchase.date:%Y-%m-%d}"
    return f"{label}: {purchase.description}" if purchase.description else label


@transaction.atomic
def customer_value_recompute(*, customer, today=None):
    """
    Store the customer's lifetime value (all purchases) and value of the last 12 months (the
    purchases of the last 365 days, ``today`` included).

    The customer row is locked before the purchases are summed, so two purchases added at the
    same time are both counted: the second sum waits for the first transaction and then sees it.
    """
    today = today or timezone.localdate()
    locked = Customer.objects.select_for_update().filter(pk=customer.pk)
    customer.version = locked.values_list("version", flat=True).get()
    totals = Purchase.objects.filter(customer_id=customer.pk).aggregate(
        total=Sum("amount", default=Decimal("0")),
        recent=Sum("amount", filter=Q(date__gt=recent_cutoff(today)), default=Decimal("0")),
    )
    customer.lifetime_value = _cents(totals["total"])
    customer.value_last_12_months = _cents(totals["recent"])
    locked.update(lifetime_value=customer.lifetime_value,
                  value_last_12_months=customer.value_last_12_months)
    return customer


def customer_values_recompute_all(*, today=None, customers=None, batch_size=5000, dry_run=False):
    """
    The daily job: bring every customer's stored values up to date as purchases age out of the
    last 12 months (and mend any total a purchase changed outside the services, e.g. in the admin).
    ``customers`` (a Customer queryset) limits it to those, as the bench seeding does for the rows
    it has just written; by default every customer.

    Set-based: one UPDATE per batch of ids, writing only the rows whose values differ, with the
    sums of ``customer_value_recompute``. Returns how many customers changed (or would change,
    with ``dry_run``).
    """
    customers = Customer.objects.all() if customers is None else customers
    today = today or timezone.localdate()
    money = DecimalField(max_digits=14, decimal_places=2)
    purchases = Purchase.objects.filter(customer=OuterRef("pk")).order_by().values("customer")

    def fresh(queryset):
        summed = Subquery(queryset.annotate(sum=Sum("amount")).values("sum"), output_field=money)
        return Round(Coalesce(summed, Value(Decimal("0")), output_field=money), 2, output_field=money)

    fresh_total = fresh(purchases)
    fresh_recent = fresh(purchases.filter(date__gt=recent_cutoff(today)))
    stale = customers.order_by().filter(
        ~Q(lifetime_value=fresh_total) | ~Q(value_last_12_months=fresh_recent)
    )
    bounds = customers.order_by().aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return 0
    changed = 0
    for start in range(bounds["low"], bounds["high"] + 1, batch_size):
        batch = stale.filter(pk__gte=start, pk__lt=start + batch_size)
        if dry_run:
            changed += batch.count()
        else:
            changed += batch.update(lifetime_value=fresh_total, value_last_12_months=fresh_recent)
    return changed


def _cents(value):
    return Decimal(value).quantize(Decimal("0.01"))


# Key dates -----------------------------------------------------------------------------------


def key_date_save(*, key_date):
    """Add or edit a key date; its contact, if any, must be one of the customer's."""
    if key_date.contact_id is not None and key_date.contact.customer_id != key_date.customer_id:
        raise ValidationError({"contact": "Choose one of this customer's contacts."})
    key_date.full_clean()
    key_date.save()
    return key_date


def key_date_delete(*, key_date):
    key_date.delete()

