"""
Which customer a row is: found in the database by its ``external_id``, else by a contact's email
(regardless of case), else, when the import asks for it, by its website's domain; and which rows of
the file are the same customer as an earlier row (a duplicate, left out and shown as such).

A row with an external id that is not on file may still find, by email or domain, a customer that
has no external id (the customer then takes it); it never finds one with another external id, as
two ids are two customers. Two rows of the file are the same customer when they find the same one,
or, both new, share an email or domain, unless both have their own external id. A web import only
finds, by email or domain, the customers its user sees.

Each batch is read in a few queries: the customers by id, the contacts by email (through the
``contact_email_lower`` index), the customers by domain, then the candidates with their tags and
contacts.
"""

from django.db.models.functions import Lower

from ..models import Contact, Customer
from ..parsing import website_domain
from .reading import show


class Matcher:
    def __init__(self, *, match_website=False, team_ids=None):
        self.match_website = match_website
        self.team_ids = team_ids  # the teams whose customers may be found by email or domain
        self._claims = {}  # ("customer", pk) / ("email", e) / ("domain", d) → (row number, has id)
        # Rows whose email or domain could be several customers: (column, message) for the
        # importer to report, unless the row repeats an earlier row of the file.
        self.ambiguous = {}

    def customers(self, rows, *, lock):
        """``{row number: customer}`` for the rows of a batch found in the database."""
        ext_ids = {row.external_id for row in rows if row.external_id}
        by_ext = dict(Customer.objects.filter(external_id__in=ext_ids).values_list("external_id", "pk"))
        wanted = [row for row in rows if by_ext.get(row.external_id) is None]
        emails = {row.email for row in wanted if row.email}
        domains = {domain for row in wanted if (domain := self.domain(row))}
        by_email = self._by_email(emails)
        by_domain = self._by_domain(domains)
        found = {}
        for row in rows:
            pk = by_ext.get(row.external_id)
            if pk is None:
                pk = self._pick(row, by_email.get(row.email, ()), "contact_email", row.email)
            if pk is None and (domain := self.domain(row)):
                pk = self._pick(row, by_domain.get(domain, ()), "website", domain)
            if pk is not None:
                found[row.number] = pk
        loaded = _load(set(found.values()), lock=lock)
        return {number: loaded[pk] for number, pk in found.items()}

    def domain(self, row):
        website = row.fields.get("website")
        if not (self.match_website and website):
            return ""
        try:
            return website_domain(website)
        except ValueError:
            return ""

    def _pick(self, row, candidates, column, value):
        """The one candidate the row may find; a problem when it could be several."""
        if row.external_id:
            candidates = [c for c in candidates if c[1] is None]
        if len(candidates) > 1:
            names = ", ".join(sorted(name for _, _, name in candidates)[:3])
            more = ", …" if len(candidates) > 3 else ""
            self.ambiguous[row.number] = (column, f"{show(value)} belongs to {len(candidates)} customers "
                                                  f"({names}{more}); add an external_id to say which")
            return None
        return candidates[0][0] if candidates else None

    def _by_email(self, emails):
        if not emails:
            return {}
        contacts = Contact.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=emails)
        if self.team_ids is not None:
            contacts = contacts.filter(customer__team_id__in=self.team_ids)
        found = {}
        for email, pk, ext, name in contacts.values_list(
            "email_lower", "customer_id", "customer__external_id", "customer__name"
        ).distinct():
            found.setdefault(email, []).append((pk, ext, name))
        return found

    def _by_domain(self, domains):
        if not domains:
            return {}
        customers = Customer.objects.filter(website_domain__in=domains)
        if self.team_ids is not None:
            customers = customers.filter(team_id__in=self.team_ids)
        found = {}
        for domain, pk, ext, name in customers.values_list("website_domain", "pk", "external_id",
                                                           "name"):
            found.setdefault(domain, []).append((pk, ext, name))
        return found

    def duplicate_of(self, row, customer):
        """The earlier row of the file that is the same customer as ``row``, or None."""
        for key in self._keys(row, customer):
            claimed = self._claims.get(key)
            if claimed is None:
                continue
            number, has_id = claimed
            if key[0] == "customer" or not (has_id and row.external_id):
                return number
        return None

    def claim(self, row, customer):
        """``row`` is imported: a later row finding the same customer repeats it."""
        for key in self._keys(row, customer):
            self._claims.setdefault(key, (row.number, bool(row.external_id)))

    def _keys(self, row, customer):
        keys = []
        if customer is not None:
            keys.append(("customer", customer.pk))
        if row.email:
            keys.append(("email", row.email))
        if domain := self.domain(row):
            keys.append(("domain", domain))
        return keys


def _load(pks, *, lock):
    """
    The customers, each with ``import_tags`` (names) and ``import_contacts`` (primary first): read
    with two plain queries, as prefetch_related is slow at this scale. (Their owner and team are
    the importer's, which has read every user and team already.)
    """
    if not pks:
        return {}
    customers = Customer.objects.filter(pk__in=pks).order_by()
    if lock:
        customers = customers.select_for_update(of=("self",))
    by_pk = {customer.pk: customer for customer in customers}
    for customer in by_pk.values():
        customer.import_tags, customer.import_contacts = [], []
    for customer_id, name in Customer.tags.through.objects.filter(
        customer_id__in=by_pk
    ).values_list("customer_id", "tag__name"):
        by_pk[customer_id].import_tags.append(name)
    for contact in Contact.objects.filter(customer_id__in=by_pk).order_by(
        "customer_id", "-is_primary", "name", "pk"
    ):
        by_pk[contact.customer_id].import_contacts.append(contact)
    return by_pk
