"""Workflows that change customers. Views and commands call these; they never write models directly."""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import Contact, Customer, CustomerChange, Tag


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


def _actor(user):
    return user if user is not None and user.is_authenticated else None


def _display(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)

