"""
What an import's checked rows change, and writing it, inside the transaction of ``CsvImport.run``.

What each row changes is decided by the same rules a form's edit goes through: ``customer_build``
for a new customer, ``customer_changes_apply`` for an existing one (``customers.changes``), and the
history lines of ``customers.history``. A *dry* writer (the check, the preview) decides the same
and writes nothing, so the preview's "updated: name, tags" is what the import then does.

The writes are batched and set-based (an import may hold 100,000 rows). A new customer's ``notes``
become the first note of its timeline: the touchpoints app, which keeps timelines, writes them when
``customers.events.notes_imported`` is sent, inside the import's transaction.
"""

from ..changes import customer_build, customer_changes_apply
from ..events import notes_imported
from ..history import display_value, history_created, history_entries
from ..models import Contact, Customer, CustomerChange
from ..services import tags_get_or_create
from .columns import TARGET_LABELS
from .inserting import rows_insert
from .report import Outcome, show

FIELD_LABELS = {**TARGET_LABELS, "cadence_max_days": "Overdue after (days)", "churn_reason": "Churn reason"}


class ImportWriter:
    """Writes (or, ``dry``, only decides) one pass's plans batch by batch, then the references."""

    def __init__(self, *, user, now, report, batch_size, dry):
        self.user = user
        self.now = now
        self.report = report
        self.batch_size = batch_size
        self.dry = dry
        self._tags = {}  # lower-case name → Tag, for the whole file
        # (customer pk or None, external id referred to or None, current referrer pk, state, version,
        #  row number)
        self._references = []

    def write(self, plans, *, dry=False):
        dry = dry or self.dry
        creates = [plan for plan in plans if plan.customer is None]
        if creates:
            self._create(creates, dry=dry)
        writes = _Writes()
        for plan in plans:
            if plan.customer is not None:
                self._update(plan, writes, dry=dry)
        if not dry:
            writes.flush()

    def _tag_objects(self, names):
        """Tags by name (matched as ``tags_get_or_create`` does), remembered for the whole file."""
        missing = [name for name in names if name.lower() not in self._tags]
        for name, tag in zip(missing, tags_get_or_create(missing), strict=True):
            self._tags[name.lower()] = tag
        return list({tag.pk: tag for tag in (self._tags[name.lower()] for name in names)}.values())

    def _create(self, plans, *, dry):
        outcomes = self.report.outcomes
        if dry:
            for plan in plans:
                outcomes[plan.row.number] = Outcome("created", plan.name, None, _created_detail(plan))
                if plan.row.referred_by:
                    self._references.append((None, plan.row.referred_by, None, "created", 0,
                                             plan.row.number))
            return
        customers = [
            customer_build(now=self.now, owner=plan.owner, team=plan.team,
                           external_id=plan.row.external_id, **{**plan.row.fields, "name": plan.name})
            for plan in plans
        ]
        rows_insert(Customer, customers, with_ids=True)

        tag_links, contacts, changes, notes = [], [], [], []
        for plan, customer in zip(plans, customers, strict=True):
            row = plan.row
            outcomes[row.number] = Outcome("created", plan.name, customer.pk, _created_detail(plan))
            for tag in self._tag_objects(row.tags or []):
                tag_links.append(Customer.tags.through(customer_id=customer.pk, tag_id=tag.pk))
            if row.contact is not None:
                contact = Contact(customer=customer, is_primary=True)
                _set_contact(contact, row.contact)
                contacts.append(contact)
            changes.append(history_created(customer=customer, user=self.user, at=self.now))
            if row.notes:
                notes.append((customer.pk, row.notes))
            if row.has_referred_by and row.referred_by:
                self._references.append((customer.pk, row.referred_by, None, "created", 0, row.number))
        rows_insert(Customer.tags.through, tag_links)
        rows_insert(Contact, contacts)
        rows_insert(CustomerChange, changes)
        if notes:
            notes_imported.send(sender=ImportWriter, notes=notes, user=self.user, at=self.now)

    def _update(self, plan, writes, *, dry):
        """
        Change only what differs: one version and one history line per changed field. The writes
        are collected in ``writes`` and made for the whole batch at once.
        """
        customer, row = plan.customer, plan.row
        data = {**row.fields, "owner": plan.owner, "team": plan.team}
        if row.external_id and customer.external_id is None:
            data["external_id"] = row.external_id  # found by email or domain: it takes the id
        if row.tags is not None:
            data["tags"] = row.tags
        changes, update_fields = customer_changes_apply(
            customer=customer, data=data, now=self.now, tags_before=customer.import_tags
        )
        contact_changes = self._upsert_contact(customer, row.contact, writes)
        detail = _changes_detail(changes) + contact_changes
        if row.notes:
            detail.append("notes left out: only a new customer's notes are kept")
        if changes or contact_changes:
            self.report.outcomes[row.number] = Outcome("updated", customer.name, customer.pk,
                                                       "; ".join(detail))
        else:
            self.report.outcomes[row.number] = Outcome("unchanged", customer.name, customer.pk,
                                                       "; ".join(detail))
        if changes:
            writes.customers.append((customer, update_fields))
            if "tags" in changes and not dry:
                writes.tags[customer.pk] = self._tag_objects(row.tags)
            writes.changes.extend(history_entries(
                customer_id=customer.pk, version=customer.version, user=self.user, at=self.now,
                changes=changes,
            ))
        if row.has_referred_by:
            state = "changed" if changes else "same"
            self._references.append(
                (customer.pk, row.referred_by, customer.referred_by_id, state, customer.version, row.number)
            )

    def _upsert_contact(self, customer, values, writes):
        """
        The primary contact: matched by email, else the current primary; created if none. Returns
        what changes, for the preview.
        """
        if values is None:
            return []
        contacts = customer.import_contacts  # the primary one first, as primary_contact() picks
        email = (values.get("email") or "").lower()
        contact = next((c for c in contacts if email and c.email.lower() == email), None)
        if contact is None and contacts:
            contact = contacts[0]
        if contact is None:
            contact = Contact(customer=customer, is_primary=True)
            _set_contact(contact, values)
            writes.new_contacts.append(contact)
            return [f"new contact {show(contact.name)}"]
        before = {name: getattr(contact, name) for name in CONTACT_FIELDS}
        changed = _set_contact(contact, values)
        if changed:
            writes.contacts.append((contact, [*changed, "updated_at"]))
        return _contact_detail(before, contact, changed)

    def pending_references(self):
        """``(row number, external id)`` of the rows that name a referrer."""
        return [(number, ext) for _, ext, *_, number in self._references if ext]

    def references_apply(self, *, in_file):
        """
        ``referred_by``, once every row is known, so a row may name one further down. ``in_file``:
        external id → row number of the rows imported. Dry, a reference must name a customer in
        the database or one of those rows; a run sets it, and a row the first pass changed
        already has its new version while any other gets one now.
        """
        for start in range(0, len(self._references), self.batch_size):
            chunk = self._references[start:start + self.batch_size]
            targets = dict(
                Customer.objects.filter(external_id__in={ext for _, ext, *_ in chunk if ext})
                .values_list("external_id", "pk")
            )
            created, names_needed, updates = [], set(), []
            for pk, ext, current, state, version, number in chunk:
                if number in self.report.invalid:
                    continue  # already told why (a row the file has with problems, say)
                target = targets.get(ext) if ext else None
                if ext and target is None:
                    if self.dry and ext in in_file:
                        target = ext  # a customer this file creates
                    else:
                        self.report.add(number, "referred_by", f"no customer has the external id "
                                        f"{show(ext)}, neither in the database nor in this file")
                        continue
                if state == "created":
                    if not self.dry:
                        created.append(Customer(pk=pk, referred_by_id=target))
                elif target != current:
                    updates.append((pk, current, target, state, version, number))
                    names_needed |= {current, target}
            if not self.dry:
                Customer.objects.bulk_update(created, ["referred_by"])
            names = dict(Customer.objects.filter(pk__in={n for n in names_needed if isinstance(n, int)})
                         .values_list("pk", "name"))
            changes = []
            for pk, current, target, state, version, number in updates:
                old, new = names.get(current), names.get(target, target)
                self._reference_changed(number, old, new)
                if self.dry:
                    continue
                new_version = version if state == "changed" else version + 1
                Customer.objects.filter(pk=pk).update(
                    referred_by_id=target, version=new_version, updated_at=self.now
                )
                changes += history_entries(
                    customer_id=pk, version=new_version, user=self.user, at=self.now,
                    changes={"referred_by": (old, new)},
                )
            CustomerChange.objects.bulk_create(changes)

    def _reference_changed(self, number, old, new):
        outcome = self.report.outcomes.get(number)
        if outcome is None:
            return
        change = f"{FIELD_LABELS['referred_by']}: {show(display_value(old))} → {show(display_value(new))}"
        outcome.kind = "updated"
        outcome.detail = "; ".join(part for part in (outcome.detail, change) if part)


def _created_detail(plan):
    parts = [f"owner {plan.owner.username}" if plan.owner else "no owner", f"team {plan.team.name}"]
    if plan.row.contact is not None and plan.row.contact.get("name"):
        parts.append(f"contact {show(plan.row.contact['name'])}")
    if plan.row.notes:
        parts.append("with a note")
    return "; ".join(parts)


def _changes_detail(changes):
    return [f"{FIELD_LABELS.get(field, field.replace('_', ' ').capitalize())}: "
            f"{show(display_value(old))} → {show(display_value(new))}"
            for field, (old, new) in changes.items()]


CONTACT_FIELDS = ("name", "email", "phone", "birthday_year", "birthday_month", "birthday_day")


def _contact_detail(before, contact, changed):
    parts = []
    for name in ("name", "email", "phone"):
        if name in changed:
            parts.append(f"Contact {name}: {show(before[name])} → {show(getattr(contact, name))}")
    if {"birthday_year", "birthday_month", "birthday_day"} & set(changed):
        parts.append(f"Contact birthday: → {show(contact.birthday_display)}")
    return parts


class _Writes:
    """
    One batch's updates. Each changed row is saved on its own, with only the columns it changed
    (``bulk_update``'s CASE expressions cost far more at this size); tags, new contacts and the
    history go in a few queries for the whole batch.
    """

    def __init__(self):
        self.customers = []  # (customer, changed columns)
        self.tags = {}  # customer pk → its new tags
        self.contacts = []  # (contact, changed columns)
        self.new_contacts = []
        self.changes = []

    def flush(self):
        for customer, fields in self.customers:
            customer.save(update_fields=fields)
        if self.tags:
            links = Customer.tags.through
            links.objects.filter(customer_id__in=self.tags).delete()
            links.objects.bulk_create(
                links(customer_id=pk, tag_id=tag.pk) for pk, tags in self.tags.items() for tag in tags
            )
        for contact, fields in self.contacts:
            contact.save(update_fields=fields)
        Contact.objects.bulk_create(self.new_contacts)
        CustomerChange.objects.bulk_create(self.changes)


def _set_contact(contact, values):
    """Copy the contact fields the file has onto ``contact``; return the changed field names."""
    changed = []
    wanted = {}
    if values.get("name"):
        wanted["name"] = values["name"]
    if "email" in values:
        wanted["email"] = values["email"]
    if "phone" in values:
        wanted["phone"] = values["phone"]
    if "birthday" in values:
        year, month, day = values["birthday"] or (None, None, None)
        wanted.update(birthday_year=year, birthday_month=month, birthday_day=day)
    for name, value in wanted.items():
        if getattr(contact, name) != value:
            setattr(contact, name, value)
            changed.append(name)
    return changed
