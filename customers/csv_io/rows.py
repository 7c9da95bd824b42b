"""
A data row read cell by cell into a ``Row``: each column's value checked and converted, or a
problem reported against the row and column. Nothing here reads the database; whether the owner,
the team or the referrer exist is the importer's to check.
"""

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ..models import Customer
from ..parsing import (
    TAG_MAX_LENGTH,
    is_timezone_name,
    overlong_tags,
    parse_birthday,
    parse_iso_date,
    split_tags,
)
from .columns import MAX_LENGTHS, cell_value
from .reading import show

CADENCE_RE = re.compile(r"^[0-9]{1,3}$")
STATUS_LABELS = {label.lower(): value for value, label in Customer.Status.choices}


@dataclass(slots=True)
class Row:
    """One data row, parsed cell by cell; only the columns the file has are set."""

    number: int
    external_id: str | None = None
    fields: dict = field(default_factory=dict)  # name, status, customer_since, timezone, cadence_days
    owner: str | None = None
    team: str | None = None
    tags: list | None = None
    has_referred_by: bool = False
    referred_by: str | None = None
    contact: dict | None = None  # name, email, phone, birthday: the contact columns the file has


class RowParser:
    """Parses the rows of one file, remembering its external ids to find one given twice."""

    def __init__(self, report):
        self.report = report
        self.rows_by_external_id = {}

    def parse(self, number, cells):
        """``cells`` ({column: cell}) → a Row; each problem goes to the report."""
        row = Row(number=number)
        for column, raw in cells.items():
            value, problem = cell_value(raw, column)
            if problem is None:
                problem = self._parse_cell(row, column, value)
            if problem is not None:
                self.report.add(number, column, problem)
        # A row whose contact cells are all empty leaves the contacts alone.
        if row.contact is not None and not any(row.contact.values()):
            row.contact = None
        return row

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
            if not value.strip():
                return "missing; every customer needs a name"
            row.fields["name"] = value
        elif column == "status":
            if value:
                status = STATUS_LABELS.get(value.lower(), value.lower())
                if status not in Customer.Status.values:
                    return f"unknown status {show(value)}; use one of " + ", ".join(Customer.Status.values)
                row.fields["status"] = status
        elif column == "customer_since":
            try:
                row.fields["customer_since"] = parse_iso_date(value) if value else None
            except ValueError:
                return f"{show(value)} is not a date; use YYYY-MM-DD"
        elif column == "owner":
            row.owner = value or None
        elif column == "team":
            row.team = value or None
        elif column == "timezone":
            if value:
                if not is_timezone_name(value):
                    return f"{show(value)} is not a known time zone; use an IANA name such as Europe/Berlin"
                row.fields["timezone"] = value
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
            row.tags = split_tags(value)
        elif column == "referred_by":
            row.has_referred_by = True
            row.referred_by = value or None
            if value and value == row.external_id:
                return "a customer cannot refer itself"
        elif column.startswith("contact_"):
            return self._parse_contact_cell(row, column.removeprefix("contact_"), value)
        return None

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
            if value:
                try:
                    value = parse_birthday(value)
                except ValueError as error:
                    reason = str(error)
                    return f"{show(value)}: {reason[:1].lower()}{reason[1:].rstrip('.')}"
            else:
                value = None
        row.contact[part] = value
        return None
