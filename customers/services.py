"""Workflows that change customers. Views and commands call these; they never write models directly."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, F, Max, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Round
from django.utils import timezone

from .models import Contact, Customer, CustomerChange, Purchase, Tag, Team

Status = Customer.Status

# The status lifecycle: prospect → active → inactive → churned, and churned → active (won back).
STATUS_TRANSITIONS = {
    Status.PROSPECT: (Status.ACTIVE, Status.CHURNED),
    Status.ACTIVE: (Status.INACTIVE, Status.CHURNED),
    Status.INACTIVE: (Status.ACTIVE, Status.CHURNED),
    Status.CHURNED: (Status.ACTIVE,),
}

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
    customer = Customer(team=team, name=name, **fields)
    if customer.owner_id is None and user is not None and user.is_authenticated:
        customer.owner = user
    customer.next_checkin_due = customer.compute_next_checkin_due()
    customer.full_clean()
    customer.save()
    if tags:
        customer.tags.set(tags_get_or_create(list(tags)))
    CustomerChange.objects.create(customer=customer, user=_actor(user), field="created",
                                  new_value=customer.name)
    return customer


class StaleEdit(Exception):
    """The customer changed since the form was loaded; ``changes`` says what changed meanwhile."""

    def __init__(self, changes):
        super().__init__("The customer was changed by someone else.")
        self.changes = changes


# Fields whose change moves the check-in clock.
CLOCK_FIELDS = {"cadence_days", "cadence_max_days", "customer_since", "timezone"}


@transaction.atomic
def customer_update(*, customer, user, data, version):
    """
    Apply ``data`` (field → new value) if nobody saved the customer since ``version``.

    The row is locked while its version is compared, so of two concurrent saves from the same
    version only the first passes. Only the fields that really change are written and recorded in
    the history.
    """
    current = Customer.objects.select_for_update().get(pk=customer.pk)
    if current.version != version:
        changes = CustomerChange.objects.filter(customer=current, version__gt=version)
        raise StaleEdit(list(changes.select_related("user")[:20]))

    changed = {}
    for field, value in data.items():
        if field == "tags":
            continue
        if getattr(current, field) != value:
            changed[field] = (getattr(current, field), value)
            setattr(current, field, value)
    _check_status_change(current, changed)
    tag_change = None
    if "tags" in data:
        before = sorted(t.name for t in current.tags.all())
        after = sorted(data["tags"])
        if [t.lower() for t in before] != [t.lower() for t in after]:
            tag_change = (before, after)
    if not changed and tag_change is None:
        return current, {}

    current.full_clean()
    now = timezone.now()
    update_fields = list(changed)
    if "status" in changed:
        current.status_changed_at = now
        update_fields.append("status_changed_at")
    if CLOCK_FIELDS & changed.keys():
        current.next_checkin_due = current.compute_next_checkin_due()
        update_fields.append("next_checkin_due")
    current.version = version + 1
    current.save(update_fields=[*update_fields, "version", "updated_at"])
    if tag_change is not None:
        current.tags.set(tags_get_or_create(data["tags"]))
        changed["tags"] = ("; ".join(tag_change[0]), "; ".join(tag_change[1]))

    CustomerChange.objects.bulk_create(
        CustomerChange(customer=current, user=_actor(user), changed_at=now, field=field,
                       old_value=_display(old), new_value=_display(new), version=current.version)
        for field, (old, new) in changed.items()
    )
    return current, changed


def status_change_error(old, new):
    """Why ``old`` → ``new`` is not allowed, or None when it is."""
    if old == new or new in STATUS_TRANSITIONS.get(old, ()):
        return None
    allowed = " or ".join(Status(s).label.lower() for s in STATUS_TRANSITIONS.get(old, ()))
    return (
        f"A customer cannot go from {Status(old).label.lower()} to {Status(new).label.lower()}; "
        f"from {Status(old).label.lower()} it can become {allowed}."
    )


def _check_status_change(current, changed):
    """
    Enforce the lifecycle on a pending change (``changed``: field → (old, new)). A churn needs a
    reason; a win-back clears the old one, which the history keeps.
    """
    if "status" in changed:
        old, new = changed["status"]
        error = status_change_error(old, new)
        if error:
            raise ValidationError({"status": error})
        if old == Status.CHURNED and current.churn_reason:
            changed["churn_reason"] = (changed.get("churn_reason", (current.churn_reason,))[0], "")
            current.churn_reason = ""
    if (
        current.status == Status.CHURNED
        and ("status" in changed or "churn_reason" in changed)
        and not current.churn_reason.strip()
    ):
        raise ValidationError({"churn_reason": "Say why the customer churned."})


@transaction.atomic
def customers_reassign(*, user, customer_ids, owner):
    """
    Make ``owner`` the owner of the customers among ``customer_ids`` that ``user`` sees and
    manages (others are left alone), each change in the history with a version bump.

    All or nothing: if ``owner`` is not a member of one of their teams, nothing changes and a
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
    member_of = set(owner.teams.filter(pk__in=team_ids).values_list("pk", flat=True))
    if team_ids - member_of:
        names = ", ".join(Team.objects.filter(pk__in=team_ids - member_of).values_list("name", flat=True))
        raise ValidationError(
            f"{owner.get_full_name() or owner} is not a member of {names}, so cannot own "
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
    CustomerChange.objects.bulk_create(
        CustomerChange(customer_id=pk, user=_actor(user), changed_at=now, field="owner",
                       old_value=_display(previous.get(owner_id)), new_value=_display(owner),
                       version=version + 1)
        for pk, _, owner_id, version in to_change
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
        CustomerChange.objects.create(
            customer=customer, user=_actor(user), field="archived",
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
    Contact.objects.filter(pk=contact.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=timezone.now()
    )
    contact.refresh_from_db(fields=["unsubscribed_at"])
    return contact


# Purchases and value -------------------------------------------------------------------------


def recent_cutoff(today):
    """Purchases dated after this day are "in the last 12 months" on ``today``."""
    return today - datetime.timedelta(days=RECENT_DAYS)


@transaction.atomic
def purchase_add(*, customer, user, date, amount, description=""):
    purchase = Purchase(customer=customer, date=date, amount=amount, description=description,
                        created_by=_actor(user))
    purchase.full_clean()
    purchase.save()
    customer_value_recompute(customer=customer)
    _record_purchase(customer, user, new=purchase)
    return purchase


@transaction.atomic
def purchase_delete(*, purchase, user):
    customer = purchase.customer
    purchase.delete()
    customer_value_recompute(customer=customer)
    _record_purchase(customer, user, old=purchase)


def _record_purchase(customer, user, *, old=None, new=None):
    """A purchase added or deleted, in the customer's history (the customer's version is unchanged)."""
    CustomerChange.objects.create(
        customer=customer, user=_actor(user), field="purchase",
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


def _actor(user):
    return user if user is not None and user.is_authenticated else None


def _display(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)

