"""
Writing an import's checked rows, inside the transaction of ``CsvImport.run``.

The writes are batched and set-based (an import may hold 100,000 rows), but what each row changes
is decided by the same rules a form's edit goes through: ``customer_build`` for a new customer,
``customer_changes_apply`` for an existing one (``customers.changes``), and the history lines of
``customers.history``.
"""

from ..changes import customer_build, customer_changes_apply
from ..history import history_created, history_entries
from ..models import Contact, Customer, CustomerChange
from ..services import tags_get_or_create
from .reading import show


class ImportWriter:
    """Writes one run's plans batch by batch, then the ``referred_by`` references of the whole file."""

    def __init__(self, *, user, now, report, batch_size):
        self.user = user
        self.now = now
        self.report = report
        self.batch_size = batch_size
        self._tags = {}  # lower-case name → Tag, for the whole file
        # (customer pk, external id referred to or None, current referrer pk, state, version, row)
        self._references = []

    def write(self, plans):
        creates = [plan for plan in plans if plan.customer is None]
        if creates:
            self._create(creates)
        writes = _Writes()
        for plan in plans:
            if plan.customer is not None:
                self._update(plan, writes)
        writes.flush()

    def _tag_objects(self, names):
        """Tags by name (matched as ``tags_get_or_create`` does), remembered for the whole file."""
        missing = [name for name in names if name.lower() not in self._tags]
        for name, tag in zip(missing, tags_get_or_create(missing), strict=True):
            self._tags[name.lower()] = tag
        return list({tag.pk: tag for tag in (self._tags[name.lower()] for name in names)}.values())

    def _create(self, plans):
        customers = [
            customer_build(now=self.now, owner=plan.owner, team=plan.team,
                           external_id=plan.row.external_id, **plan.row.fields)
            for plan in plans
        ]
        Customer.objects.bulk_create(customers)

        tag_links, contacts, changes = [], [], []
        for plan, customer in zip(plans, customers, strict=True):
            row = plan.row
            for tag in self._tag_objects(row.tags or []):
                tag_links.append(Customer.tags.through(customer_id=customer.pk, tag_id=tag.pk))
            if row.contact is not None:
                contact = Contact(customer=customer, is_primary=True)
                _set_contact(contact, row.contact)
                contacts.append(contact)
            changes.append(history_created(customer=customer, user=self.user, at=self.now))
            if row.has_referred_by and row.referred_by:
                self._references.append((customer.pk, row.referred_by, None, "created", 0, row.number))
        Customer.tags.through.objects.bulk_create(tag_links)
        Contact.objects.bulk_create(contacts)
        CustomerChange.objects.bulk_create(changes)
        self.report.created += len(customers)

    def _update(self, plan, writes):
        """
        Change only what differs: one version and one history line per changed field. The writes
        are collected in ``writes`` and made for the whole batch at once.
        """
        customer, row = plan.customer, plan.row
        data = {**row.fields, "owner": plan.owner, "team": plan.team}
        if row.tags is not None:
            data["tags"] = row.tags
        changes, update_fields = customer_changes_apply(
            customer=customer, data=data, now=self.now, tags_before=customer.import_tags
        )
        self._upsert_contact(customer, row.contact, writes)
        if changes:
            writes.customers.append((customer, update_fields))
            if "tags" in changes:
                writes.tags[customer.pk] = self._tag_objects(row.tags)
            writes.changes.extend(history_entries(
                customer_id=customer.pk, version=customer.version, user=self.user, at=self.now,
                changes=changes,
            ))
            self.report.updated += 1
        else:
            self.report.unchanged += 1
        if row.has_referred_by:
            state = "changed" if changes else "same"
            self._references.append(
                (customer.pk, row.referred_by, customer.referred_by_id, state, customer.version, row.number)
            )

    def _upsert_contact(self, customer, values, writes):
        """The primary contact: matched by email, else the current primary; created if none."""
        if values is None:
            return
        contacts = customer.import_contacts  # the primary one first, as primary_contact() picks
        email = (values.get("email") or "").lower()
        contact = next((c for c in contacts if email and c.email.lower() == email), None)
        if contact is None and contacts:
            contact = contacts[0]
        if contact is None:
            contact = Contact(customer=customer, is_primary=True)
            _set_contact(contact, values)
            writes.new_contacts.append(contact)
            return
        changed = _set_contact(contact, values)
        if changed:
            writes.contacts.append((contact, [*changed, "updated_at"]))

    def references_apply(self):
        """
        Set ``referred_by`` once every row exists, so a row may name one further down. A row the
        first pass changed already has its new version; any other gets one now.
        """
        for start in range(0, len(self._references), self.batch_size):
            chunk = self._references[start:start + self.batch_size]
            targets = dict(
                Customer.objects.filter(external_id__in={ext for _, ext, *_ in chunk if ext})
                .values_list("external_id", "pk")
            )
            created, names_needed, updates = [], set(), []
            for pk, ext, current, state, version, number in chunk:
                target = targets.get(ext) if ext else None
                if ext and target is None:
                    self.report.add(number, "referred_by", f"no customer has the external id {show(ext)}")
                    continue
                if state == "created":
                    created.append(Customer(pk=pk, referred_by_id=target))
                elif target != current:
                    updates.append((pk, current, target, state, version))
                    names_needed |= {current, target}
            Customer.objects.bulk_update(created, ["referred_by"])
            names = dict(Customer.objects.filter(pk__in=names_needed - {None}).values_list("pk", "name"))
            changes = []
            for pk, current, target, state, version in updates:
                new_version = version if state == "changed" else version + 1
                Customer.objects.filter(pk=pk).update(
                    referred_by_id=target, version=new_version, updated_at=self.now
                )
                if state == "same":
                    self.report.updated += 1
                    self.report.unchanged -= 1
                changes += history_entries(
                    customer_id=pk, version=new_version, user=self.user, at=self.now,
                    changes={"referred_by": (names.get(current), names.get(target))},
                )
            CustomerChange.objects.bulk_create(changes)


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
    """Copy the contact columns the file has onto ``contact``; return the changed field names."""
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
