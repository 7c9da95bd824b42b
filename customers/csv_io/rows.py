"""
A data row read field by field into a ``Row``: the cells of the columns feeding each field read
(``columns.cell_value``) and combined (``columns.combine``), each value checked and converted, or a
problem reported against the row and field. Nothing here reads the database; whether the owner,
the team or the referrer exist, and which customer the row is, is the importer's to find out.

Dates are read in the file's date order (``parsing``); time zones in any case; a customer without a
name takes its contact's (a person), a contact's name may come in two parts.
"""

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ..models import Customer
from ..parsing import (
    DATE_HELP,
    TAG_MAX_LENGTH,
    full_name,
    is_no_date,
    overlong_tags,
    parse_birthday,
    parse_date,
    split_tags,
    timezone_name,
    website_domain,
)
from .columns import MAX_LENGTHS, cell_value, combine
from .reading import show

CADENCE_RE = re.compile(r"^[0-9]{1,3}$")
STATUS_LABELS = {label.lower(): value for value, label in Customer.Status.choices}
# What other CRMs call a status (HubSpot's lifecycle stages among them).
STATUS_ALIASES = {
    "customer": "active", "evangelist": "active", "lead": "prospect", "subscriber": "prospect",
    "opportunity": "prospect", "marketingqualifiedlead": "prospect",
    "salesqualifiedlead": "prospect", "former customer": "churned",
}
OTHER_ORDER = {"dmy": ("mdy", "month before day"), "mdy": ("dmy", "day before month")}
# Parsed in this order, so that ``referred_by`` can compare itself with the row's external id.
FIELD_ORDER = ("external_id", "name", "status", "customer_since", "owner", "team", "timezone",
               "cadence_days", "tags", "referred_by", "website", "notes", "contact_name",
               "contact_first_name", "contact_last_name", "contact_email", "contact_phone",
               "contact_birthday")


@dataclass(slots=True)
class Row:
    """One data row, parsed field by field; only the fields the file has are set."""

    number: int
    external_id: str | None = None
    fields: dict = field(default_factory=dict)  # name, status, customer_since, timezone, …, website
    owner: str | None = None
    team: str | None = None
    tags: list | None = None
    has_referred_by: bool = False
    referred_by: str | None = None
    contact: dict | None = None  # name, email, phone, birthday: the contact fields the file has
    person_name: str = ""  # the contact's name, the name of a new customer the row leaves unnamed
    notes: str = ""

    @property
    def email(self):
        return (self.contact or {}).get("email", "").lower()

    @property
    def display_name(self):
        return self.fields.get("name") or self.person_name


class RowParser:
    """Parses the rows of one file, remembering its external ids to find one given twice."""

    def __init__(self, report, date_order="iso"):
        self.report = report
        self.date_order = date_order
        self.rows_by_external_id = {}

    def parse(self, number, cells):
        """``cells`` ({field: [cell, …]}) → a Row; each problem goes to the report."""
        row = Row(number=number)
        values = {}
        for target in FIELD_ORDER:
            raws = cells.get(target)
            if raws is None:
                continue
            parts = []
            for raw in raws:
                value, problem = cell_value(raw, target)
                if problem is not None:
                    self.report.add(number, target, problem)
                    break
                parts.append(value)
            else:
                values[target] = parts[0] if len(parts) == 1 else combine(target, parts)
        names = [t for t in ("contact_name", "contact_first_name", "contact_last_name") if t in values]
        person = values.get("contact_name", "").strip() or full_name(
            values.get("contact_first_name", ""), values.get("contact_last_name", "")
        )
        for target, value in values.items():
            if target == "name" and not value.strip():
                problem = self._person(row, person)
            else:
                problem = self._parse_cell(row, target, value)
            if problem is not None:
                self.report.add(number, target, problem)
        if names and "name" not in cells:  # no name column: a file of people
            problem = self._person(row, person)
            if problem is not None:
                self.report.add(number, "name", problem)
        if row.contact is not None:
            first, last = row.contact.pop("first_name", ""), row.contact.pop("last_name", "")
            if names and not row.contact.get("name"):
                row.contact["name"] = full_name(first, last)
            # A row whose contact cells are all empty leaves the contacts alone.
            if not any(row.contact.values()):
                row.contact = None
        return row

    def _person(self, row, person):
        """A row without a name: a person, named as its contact; a problem if it has none."""
        if person:
            row.person_name = person[: MAX_LENGTHS["name"]]
            return None
        return "missing; every customer needs a name, or a contact's name when the customer is a person"

    def _parse_cell(self, row, column, value):
        """Store the cell's value on ``row``; return a problem message or None."""
        limit = MAX_LENGTHS.get(column)
        if limit is not None and len(value) > limit:
            return f"{len(value)} characters, more than the {limit} that fit"
        if column == "external_id":
            if value:
                earlier = self.rows_by_external_id.get(value)
                if earlier is not None:
                    return f"{show(value)} appears twice in the file (also row {earlier})"
                self.rows_by_external_id[value] = row.number
                row.external_id = value
        elif column == "name":
            row.fields["name"] = value
        elif column == "status":
            if value:
                key = value.lower()
                status = STATUS_LABELS.get(key) or STATUS_ALIASES.get(key.replace("-", "")) or key
                if status not in Customer.Status.values:
                    return f"unknown status {show(value)}; use one of " + ", ".join(Customer.Status.values)
                row.fields["status"] = status
        elif column == "customer_since":
            return self._parse_date(row, value)
        elif column == "owner":
            row.owner = value or None
        elif column == "team":
            row.team = value or None
        elif column == "timezone":
            if value:
                name = timezone_name(value)
                if name is None:
                    return f"{show(value)} is not a known time zone; use an IANA name such as Europe/Berlin"
                row.fields["timezone"] = name
        elif column == "cadence_days":
            if value:
                if not CADENCE_RE.match(value) or not 1 <= int(value) <= 366:
                    return f"{show(value)} is not a whole number of days from 1 to 366"
                row.fields["cadence_days"] = int(value)
        elif column == "tags":
            too_long = overlong_tags(value)
            if too_long:
                return (f"the tag {show(too_long[0])} is longer than the {TAG_MAX_LENGTH} characters "
                        "that fit")
            # Google Contacts' own groups ("* myContacts", "* starred") are not the user's tags.
            row.tags = [tag for tag in split_tags(value) if not tag.startswith("* ")]
        elif column == "referred_by":
            row.has_referred_by = True
            row.referred_by = value or None
            if value and value == row.external_id:
                return "a customer cannot refer itself"
        elif column == "website":
            if value:
                try:
                    website_domain(value)
                except ValueError:
                    return f"{show(value)} is not a web address"
            row.fields["website"] = value
        elif column == "notes":
            row.notes = value.strip()
        elif column.startswith("contact_"):
            return self._parse_contact_cell(row, column.removeprefix("contact_"), value)
        return None

    def _parse_date(self, row, value):
        if not value or is_no_date(value):
            row.fields["customer_since"] = None
            return None
        try:
            row.fields["customer_since"] = parse_date(value, self.date_order)
        except ValueError:
            return f"{show(value)} is not a date; {DATE_HELP[self.date_order]}{self._other_order(value)}"
        return None

    def _other_order(self, value):
        """A hint when the value is a date in the other order: the file's order may be wrong."""
        if self.date_order not in OTHER_ORDER:
            return ""
        other, label = OTHER_ORDER[self.date_order]
        try:
            parse_date(value, other)
        except ValueError:
            return ""
        return f" (read {label}, it would be a date: is that the file's date order?)"

    def _parse_contact_cell(self, row, part, value):
        if row.contact is None:
            row.contact = {}
        if not value.strip():
            value = ""
        if part == "email" and value:
            try:
                validate_email(value)
            except ValidationError:
                return f"{show(value)} is not an email address"
        if part == "birthday":
            if value and not is_no_date(value):
                try:
                    value = parse_birthday(value, self.date_order)
                except ValueError as error:
                    reason = str(error)
                    if reason.startswith("'"):  # parse_date's own wording: say what to write
                        reason = DATE_HELP[self.date_order] + ", or --MM-DD when the year is not known"
                    return f"{show(value)}: {reason[:1].lower()}{reason[1:].rstrip('.')}"
            else:
                value = None
        row.contact[part] = value
        return None
