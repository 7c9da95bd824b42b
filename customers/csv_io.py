"""
Customers in and out as CSV, in the columns DESIGN.md fixes ("Stable interfaces").

Import works in two passes over the file, each a stream read in batches of ``BATCH_SIZE`` rows, so
memory stays flat whatever the file's length: only the external ids seen so far and the pending
``referred_by`` references are kept for the whole file.

- ``CsvImport.check(path)`` validates and counts, and writes nothing (the preview, ``--dry-run``).
- ``CsvImport.run(path)`` validates everything again inside one transaction and writes as it goes;
  any problem, found in any row, rolls the whole transaction back (``ImportRefused``).

A problem reads ``row N: COLUMN: message``, N being the row number a spreadsheet shows (the header
is row 1). Problems with the file itself use row 1 and the column ``file``.

Export writes the same columns, one row per customer with its primary contact, and neutralises
cells a spreadsheet would run as a formula with a leading apostrophe, which import drops again, so
an export re-imports losslessly.

The web import's workflow (store the upload, preview, confirm once) is at the end of this module.
"""

import codecs
import csv
import datetime
import functools
import io
import itertools
import os
import re
import secrets
import unicodedata
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.db.models import F, Prefetch
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from .forms import parse_birthday, split_tags
from .models import (
    Contact,
    Customer,
    CustomerChange,
    CustomerImport,
    ExportLog,
    Team,
    default_timezone,
)
from .selectors import assignable_users
from .services import CLOCK_FIELDS, status_change_error, tags_get_or_create

COLUMNS = (
    "external_id", "name", "status", "customer_since", "owner", "team", "timezone", "cadence_days",
    "tags", "referred_by", "contact_name", "contact_email", "contact_phone", "contact_birthday",
)
COLUMN_HELP = {
    "external_id": "Your id for the customer. A row whose external id exists updates that customer.",
    "name": "Required.",
    "status": "prospect, active (the default), inactive or churned.",
    "customer_since": "When the relationship began, YYYY-MM-DD.",
    "owner": "A username. Empty: new customers get the default owner, existing ones keep theirs.",
    "team": "A team name. Empty: the owner's team, if the owner is in exactly one.",
    "timezone": "An IANA name such as Europe/Berlin.",
    "cadence_days": "Days between check-ins, 1 to 366 (default 30).",
    "tags": "Separated by semicolons; the customer gets exactly these tags.",
    "referred_by": "The external id of the referring customer, in the database or in the file.",
    "contact_name": "The primary contact (matched by email, else the current primary contact).",
    "contact_email": "",
    "contact_phone": "",
    "contact_birthday": "YYYY-MM-DD, or --MM-DD when the year is not known.",
}
EXAMPLE_ROWS = [
    ["ACME-1", "Acme Ltd", "active", "2021-04-01", "", "", "Europe/Berlin", "30", "enterprise; renewal",
     "", "Dana Doe", "dana@acme.example", "'+49 30 1234567", "--03-14"],
    ["ACME-2", "Acme Logistics", "prospect", "", "", "", "Europe/London", "14", "", "ACME-1",
     "Sam Lee", "sam@acme-logistics.example", "", "1984-11-02"],
]

# A spreadsheet runs a cell starting with one of these; export prefixes such a cell with "'".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A cell that really starts with "'" is prefixed too, so that import may drop exactly one.
ESCAPED_STARTS = (*FORMULA_STARTS, "'")

BATCH_SIZE = 1000
KEEP_PROBLEMS = 1000  # a web import stores this many problem lines, and a count of the rest
MAX_LENGTHS = {
    "external_id": 100, "name": 200, "referred_by": 100, "contact_name": 200, "contact_email": 254,
    "contact_phone": 50,
}
FREE_TEXT = {"name", "contact_name", "contact_phone"}
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
CADENCE_RE = re.compile(r"^[0-9]{1,3}$")
DELIMITERS = (",", ";", "\t")
STATUS_LABELS = {label.lower(): value for value, label in Customer.Status.choices}


# --- Reports ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str

    def __str__(self):
        return f"row {self.row}: {self.column}: {self.message}"


class Report:
    """What a pass found: counts, and problems (all passed to ``on_problem``; the first few kept)."""

    def __init__(self, on_problem=None, keep=KEEP_PROBLEMS):
        self.rows = self.created = self.updated = self.unchanged = 0
        self.problems = []
        self.problem_count = 0
        self._on_problem = on_problem
        self._keep = keep

    def add(self, row, column, message):
        problem = Problem(row, column, message)
        self.problem_count += 1
        if self._keep is None or len(self.problems) < self._keep:
            self.problems.append(problem)
        if self._on_problem is not None:
            self._on_problem(problem)

    @property
    def ok(self):
        return self.problem_count == 0

    def problem_lines(self):
        """The kept problems in row order, and a last line counting those not kept."""
        lines = [str(p) for p in sorted(self.problems, key=lambda p: p.row)]
        if self.problem_count > len(self.problems):
            lines.append(f"… and {self.problem_count - len(self.problems)} more problem(s)")
        return lines


class ImportRefused(Exception):
    def __init__(self, report):
        super().__init__(f"{report.problem_count} problem(s); nothing was imported")
        self.report = report


# --- Cells -----------------------------------------------------------------------------------

def neutralise(value):
    """Export: keep a spreadsheet from running the cell as a formula."""
    return "'" + value if value.startswith(ESCAPED_STARTS) else value


def _show(value, limit=60):
    """A user's value quoted in a one-line message: control characters made visible, shortened."""
    value = "".join(
        "↵" if ch in "\r\n" else ("·" if unicodedata.category(ch)[0] == "C" else ch) for ch in value
    )
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return f"“{value}”"


@functools.cache
def _timezones():
    return frozenset(zoneinfo.available_timezones())


def _cell(raw, column):
    """(value, problem): a neutralised cell loses its apostrophe; a live formula is refused."""
    if "\x00" in raw:
        return None, "contains a NUL character, which cannot be stored"
    if raw[:1] == "'" and raw[1:2] and raw[1] in ESCAPED_STARTS:
        value = raw[1:]
    elif raw.startswith("="):
        return None, (
            "is a spreadsheet formula (it starts with “=”); put the value itself in the cell, "
            "or start it with ' to keep it as text"
        )
    else:
        value = raw
    # Free text is kept as it is, so that an export re-imports exactly; the rest is trimmed.
    return (value if column in FREE_TEXT else value.strip()), None


# --- Rows ------------------------------------------------------------------------------------

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


@dataclass(slots=True)
class Plan:
    """A row checked against the database: what to create or which customer to update."""

    row: Row
    customer: Customer | None
    owner_id: int | None
    team_id: int | None


class CsvImport:
    """
    Validates and imports a customers CSV.

    ``user`` is recorded in the history (None for the command). ``default_owner`` owns new rows that
    name no owner. With ``restrict``, ``user`` may only name the teams and owners the browser would
    offer them (``Team.objects.visible_to``, ``assignable_users``) and update the customers they see.
    """

    def __init__(self, *, user=None, default_owner=None, restrict=False, on_problem=None,
                 keep_problems=KEEP_PROBLEMS):
        self.user = user if user is not None and user.is_authenticated else None
        self.default_owner = default_owner
        self.restrict = restrict
        self._on_problem = on_problem
        self._keep = keep_problems

    # The two passes.

    def check(self, path):
        """Validate the whole file and count what it would do; write nothing."""
        self._start()
        self._pass(path, write=False)
        return self.report

    def run(self, path):
        """Validate again and import in one transaction; ``ImportRefused`` when anything is wrong."""
        self._start()
        try:
            with transaction.atomic():
                self._pass(path, write=True)
                if not self.report.ok:
                    raise ImportRefused(self.report)
        except DatabaseError as error:
            # A concurrent change the checks could not see (e.g. the same external id created
            # meanwhile). Nothing was written: the transaction rolled back.
            self.report.add(1, "file", f"the database refused the import ({error}); nothing was "
                                       "imported, try again")
            raise ImportRefused(self.report) from error
        return self.report

    def _start(self):
        self.report = Report(on_problem=self._on_problem, keep=self._keep)
        self._columns = []  # (cell index, column name)
        self._ignored = set()  # cell indexes of unknown columns: reported once, in the header
        self._rows_by_external_id = {}
        self._references = []
        self._now = timezone.now()
        teams = Team.objects.visible_to(self.user) if self.restrict else Team.objects.all()
        self._teams = dict(teams.values_list("name", "pk"))
        self._team_ids = set(self._teams.values())
        self._teams_by_lower_name = {name.lower(): pk for name, pk in self._teams.items()}
        self._team_names = dict(Team.objects.values_list("pk", "name"))
        self._assignable = (
            set(assignable_users(self.user).values_list("pk", flat=True)) if self.restrict else None
        )
        self._users = {}  # username → (pk, usable)
        self._usernames = {}  # pk → username
        self._user_teams = {}  # pk → ids of the teams the user works in
        self._superusers = set()
        self._tags = {}  # lower-case name → Tag
        if self.default_owner is not None:
            self._load_users([self.default_owner.username])

    def _pass(self, path, *, write):
        batch = []
        for row in self._rows(path):
            batch.append(row)
            if len(batch) >= BATCH_SIZE:
                self._batch(batch, write=write)
                batch = []
        if batch:
            self._batch(batch, write=write)
        self._check_references(write=write)

    # Reading.

    def _rows(self, path):
        if not self._file_is_readable(path):
            return
        with open(path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            header = text.readline()
            if not header.strip():
                self.report.add(1, "file", "the file is empty; its first row must name the columns")
                return
            reader = csv.reader(itertools.chain([header], text), dialect="excel",
                                delimiter=_sniff_delimiter(header))
            number = 0
            try:
                header_cells = next(reader)
                number = 1
                self._read_header(header_cells)
                for number, cells in enumerate(reader, start=2):
                    if any(cell.strip() for cell in cells):
                        self.report.rows += 1
                        yield self._parse(number, cells)
            except (csv.Error, UnicodeDecodeError) as error:
                self.report.add(number + 1, "file", f"cannot be read as CSV ({error})")

    def _file_is_readable(self, path):
        """Size and encoding, checked before any row is read, so each gives one clear problem."""
        try:
            size = os.path.getsize(path)
        except OSError:
            self.report.add(1, "file", "the file is no longer available; upload it again")
            return False
        limit = settings.CUSTOMER_IMPORT_MAX_BYTES
        if size > limit:
            self.report.add(1, "file", f"the file is {filesizeformat(size)}, more than the "
                                       f"{filesizeformat(limit)} an import may be; split it into "
                                       "smaller files")
            return False
        decoder = codecs.getincrementaldecoder("utf-8")()
        line = 1
        with open(path, "rb") as raw:
            while chunk := raw.read(64 * 1024):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as error:
                    line += chunk[: error.start].count(b"\n")
                    self.report.add(1, "file", f"the file is not UTF-8 text (an invalid byte on line "
                                               f"{line}); save it as “CSV UTF-8” and import it again")
                    return False
                line += chunk.count(b"\n")
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.report.add(1, "file", "the file is not UTF-8 text (it ends inside a "
                                           "character); save it as “CSV UTF-8” and import it again")
                return False
        return True

    def _read_header(self, cells):
        seen = set()
        for index, raw in enumerate(cells):
            name = raw.strip().lower()
            if not name:
                continue
            if name not in COLUMNS:
                self._ignored.add(index)
                self.report.add(1, _show(raw.strip(), 40)[1:-1],
                                "unknown column; the columns are " + ", ".join(COLUMNS))
            elif name in seen:
                self._ignored.add(index)
                self.report.add(1, name, "the column appears twice")
            else:
                seen.add(name)
                self._columns.append((index, name))
        if "name" not in seen:
            self.report.add(1, "name", "the name column is missing; every customer needs a name")

    def _parse(self, number, cells):
        row = Row(number=number)
        named = {index for index, _ in self._columns}
        for index, cell in enumerate(cells):
            if index not in named and index not in self._ignored and cell.strip():
                self.report.add(number, "file", f"a value in column {index + 1}, which the header "
                                                "does not name")
                break
        for index, column in self._columns:
            value, problem = _cell(cells[index] if index < len(cells) else "", column)
            if problem is None:
                problem = self._parse_cell(row, column, value)
            if problem is not None:
                self.report.add(number, column, problem)
        return row

    def _parse_cell(self, row, column, value):
        """Store the cell's value on ``row``; return a problem message or None."""
        limit = MAX_LENGTHS.get(column)
        if limit is not None and len(value) > limit:
            return f"{len(value)} characters, more than the {limit} that fit"
        if column == "external_id":
            if value:
                earlier = self._rows_by_external_id.get(value)
                if earlier is not None:
                    return f"{_show(value)} appears twice in the file (also row {earlier})"
                self._rows_by_external_id[value] = row.number
                row.external_id = value
        elif column == "name":
            if not value.strip():
                return "missing; every customer needs a name"
            row.fields["name"] = value
        elif column == "status":
            if value:
                status = STATUS_LABELS.get(value.lower(), value.lower())
                if status not in Customer.Status.values:
                    return (f"unknown status {_show(value)}; use one of "
                            + ", ".join(Customer.Status.values))
                row.fields["status"] = status
        elif column == "customer_since":
            if value:
                try:
                    if not DATE_RE.match(value):
                        raise ValueError
                    row.fields["customer_since"] = datetime.date.fromisoformat(value)
                except ValueError:
                    return f"{_show(value)} is not a date; use YYYY-MM-DD"
            else:
                row.fields["customer_since"] = None
        elif column == "owner":
            row.owner = value or None
        elif column == "team":
            row.team = value or None
        elif column == "timezone":
            if value:
                if value not in _timezones():
                    return f"{_show(value)} is not a known time zone; use an IANA name such as Europe/Berlin"
                row.fields["timezone"] = value
        elif column == "cadence_days":
            if value:
                if not CADENCE_RE.match(value) or not 1 <= int(value) <= 366:
                    return f"{_show(value)} is not a whole number of days from 1 to 366"
                row.fields["cadence_days"] = int(value)
        elif column == "tags":
            too_long = [t.strip() for t in re.split(r"[;,]", value) if len(t.strip()) > 50]
            if too_long:
                return f"the tag {_show(too_long[0])} is longer than the 50 characters that fit"
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
                return f"{_show(value)} is not an email address"
        if part == "birthday":
            if value:
                try:
                    value = parse_birthday(value)
                except ValueError as error:
                    reason = str(error)
                    return f"{_show(value)}: {reason[:1].lower()}{reason[1:].rstrip('.')}"
            else:
                value = None
        row.contact[part] = value
        return None

    # Checking against the database.

    def _batch(self, rows, *, write):
        # A row whose contact cells are all empty leaves the contacts alone.
        for row in rows:
            if row.contact is not None and not any(row.contact.values()):
                row.contact = None
        customers = self._existing([row.external_id for row in rows if row.external_id], lock=write)
        self._load_users({row.owner for row in rows if row.owner}
                         | {c.owner_id for c in customers.values() if c.owner_id})
        plans = []
        for row in rows:
            plan = self._plan(row, customers.get(row.external_id))
            if plan is not None:
                plans.append(plan)
        if not write:
            for plan in plans:
                if plan.customer is None:
                    self.report.created += 1
                else:
                    self.report.updated += 1
                if plan.row.referred_by:
                    self._references.append((plan.row.number, plan.row.referred_by))
        elif self.report.ok:
            self._write(plans)

    def _existing(self, external_ids, *, lock):
        """
        The batch's existing customers, each with ``import_tags`` (names) and ``import_contacts``
        (primary first): read with two plain queries, as prefetch_related is slow at this scale.
        """
        if not external_ids:
            return {}
        customers = Customer.objects.filter(external_id__in=external_ids).order_by()
        if lock:
            customers = customers.select_for_update()
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
        return {customer.external_id: customer for customer in by_pk.values()}

    def _load_users(self, names_or_ids):
        names = {n for n in names_or_ids if isinstance(n, str) and n not in self._users and len(n) <= 150}
        ids = {n for n in names_or_ids if isinstance(n, int) and n not in self._usernames}
        if not names and not ids:
            return
        User = get_user_model()
        found = User.objects.filter(username__in=names) | User.objects.filter(pk__in=ids)
        new_ids = []
        for pk, username, is_active, is_superuser in found.values_list(
            "pk", "username", "is_active", "is_superuser"
        ):
            usable = is_active and (self._assignable is None or pk in self._assignable)
            self._users[username] = (pk, usable)
            self._usernames[pk] = username
            self._user_teams.setdefault(pk, set())
            if is_superuser:
                self._superusers.add(pk)
            new_ids.append(pk)
        for name in names:
            self._users.setdefault(name, None)
        for through in (Team.members.through, Team.managers.through):
            for user_id, team_id in through.objects.filter(user_id__in=new_ids).values_list(
                "user_id", "team_id"
            ):
                self._user_teams[user_id].add(team_id)

    def _plan(self, row, customer):
        """Decide owner and team for a row; report what cannot be resolved."""
        add = functools.partial(self.report.add, row.number)
        if customer is not None and self.restrict and customer.team_id not in self._team_ids:
            add("external_id", f"{_show(row.external_id)} is a customer of a team you do not work "
                               "with; you cannot update it")
            return None
        ok = True

        status = row.fields.get("status")
        if customer is not None and status is not None and status != customer.status:
            error = status_change_error(customer.status, status)
            if error is None and status == Customer.Status.CHURNED and not customer.churn_reason.strip():
                error = ("a churn needs a reason, which a CSV file cannot give; record the churn on "
                         "the customer's page")
            if error is not None:
                add("status", error[0].lower() + error[1:].rstrip("."))
                ok = False

        if row.owner is None:
            owner_id = customer.owner_id if customer is not None else (
                self.default_owner.pk if self.default_owner is not None else None
            )
        else:
            found = self._users.get(row.owner)
            owner_id = found[0] if found else None
            unchanged = customer is not None and owner_id is not None and owner_id == customer.owner_id
            if not found or not (found[1] or unchanged):
                add("owner", f"unknown owner {_show(row.owner)}; use the username of "
                             + ("someone in your teams" if self.restrict else "an active user"))
                ok = False

        if row.team is not None:
            team_id = self._teams.get(row.team) or self._teams_by_lower_name.get(row.team.lower())
            if team_id is None:
                choices = sorted(self._teams)
                hint = f"; use one of {', '.join(choices)}" if 0 < len(choices) <= 10 else ""
                add("team", f"unknown team {_show(row.team)}{hint}")
                ok = False
        elif customer is not None:
            team_id = customer.team_id
        elif owner_id is not None and ok:
            candidates = self._user_teams.get(owner_id, set()) & self._team_ids
            team_id = next(iter(candidates)) if len(candidates) == 1 else None
            if team_id is None:
                owner = self._usernames.get(owner_id, "the owner")
                add("team", f"missing, and {owner} is in {len(candidates)} of the teams you may use, "
                            "not exactly one; name the team")
                ok = False
        else:
            team_id = None
            if ok:
                add("team", "missing; name a team, or an owner who is in exactly one team")
                ok = False

        if ok and owner_id is not None and team_id is not None:
            moved = customer is None or owner_id != customer.owner_id or team_id != customer.team_id
            in_team = owner_id in self._superusers or team_id in self._user_teams.get(owner_id, ())
            if moved and not in_team:
                add("owner", f"{self._usernames.get(owner_id)} is not in the team "
                             f"{self._team_names.get(team_id)}")
                ok = False

        if row.contact is not None and not row.contact.get("name"):
            has_contact = customer is not None and len(customer.import_contacts) > 0
            if not has_contact:
                add("contact_name", "missing; a new contact needs a name")
                ok = False

        return Plan(row, customer, owner_id, team_id) if ok else None

    def _check_references(self, *, write):
        """``referred_by`` must name a customer in the database or in the file."""
        if write:
            if self.report.ok:
                self._apply_references()
            return
        unknown = [(n, ext) for n, ext in self._references if ext not in self._rows_by_external_id]
        for start in range(0, len(unknown), BATCH_SIZE):
            chunk = unknown[start:start + BATCH_SIZE]
            known = set(Customer.objects.filter(external_id__in={ext for _, ext in chunk})
                        .values_list("external_id", flat=True))
            for number, ext in chunk:
                if ext not in known:
                    self.report.add(number, "referred_by", f"no customer has the external id {_show(ext)}, "
                                                           "neither in the database nor in this file")

    # Writing (inside the transaction of ``run``).

    def _write(self, plans):
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
        customers = []
        for plan in plans:
            values = plan.row.fields
            cadence = values.get("cadence_days", 30)
            customer = Customer(
                name=values["name"],
                status=values.get("status", Customer.Status.ACTIVE),
                status_changed_at=self._now,
                customer_since=values.get("customer_since"),
                owner_id=plan.owner_id,
                team_id=plan.team_id,
                timezone=values.get("timezone") or default_timezone(),
                cadence_days=cadence,
                cadence_max_days=max(45, cadence + cadence // 2),
                external_id=plan.row.external_id,
            )
            customer.next_checkin_due = customer.compute_next_checkin_due()
            customers.append(customer)
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
            changes.append(CustomerChange(customer=customer, user=self.user, changed_at=self._now,
                                          field="created", new_value=customer.name))
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
        changed = {}

        def change(name, old, new, old_display=None, new_display=None):
            changed[name] = (_display(old) if old_display is None else old_display,
                             _display(new) if new_display is None else new_display)

        for name, value in row.fields.items():
            if getattr(customer, name) != value:
                change(name, getattr(customer, name), value)
                setattr(customer, name, value)
        if "status" in changed and customer.churn_reason and customer.status != Customer.Status.CHURNED:
            change("churn_reason", customer.churn_reason, "")  # won back: the history keeps the reason
            customer.churn_reason = ""
        if plan.owner_id != customer.owner_id:
            change("owner", None, None, self._usernames.get(customer.owner_id, ""),
                   self._usernames.get(plan.owner_id, ""))
            customer.owner_id = plan.owner_id
        if plan.team_id != customer.team_id:
            change("team", None, None, self._team_names.get(customer.team_id, ""),
                   self._team_names.get(plan.team_id, ""))
            customer.team_id = plan.team_id
        if customer.cadence_days > customer.cadence_max_days:
            new_max = customer.cadence_days + customer.cadence_days // 2
            change("cadence_max_days", customer.cadence_max_days, new_max)
            customer.cadence_max_days = new_max

        tags = None
        if row.tags is not None:
            before = sorted(customer.import_tags)
            if sorted(t.lower() for t in before) != sorted(t.lower() for t in row.tags):
                tags = self._tag_objects(row.tags)
                change("tags", None, None, "; ".join(before), "; ".join(sorted(row.tags)))

        self._upsert_contact(customer, row.contact, writes)

        if changed:
            update_fields = [name for name in changed if name != "tags"]
            if "status" in changed:
                customer.status_changed_at = self._now
                update_fields.append("status_changed_at")
            if CLOCK_FIELDS & changed.keys():
                customer.next_checkin_due = customer.compute_next_checkin_due()
                update_fields.append("next_checkin_due")
            customer.version += 1
            customer.updated_at = self._now
            writes.customers.append((customer, [*update_fields, "version", "updated_at"]))
            if tags is not None:
                writes.tags[customer.pk] = tags
            writes.changes.extend(
                CustomerChange(customer=customer, user=self.user, changed_at=self._now, field=name,
                               old_value=old, new_value=new, version=customer.version)
                for name, (old, new) in changed.items()
            )
            self.report.updated += 1
        else:
            self.report.unchanged += 1
        if row.has_referred_by:
            state = "changed" if changed else "same"
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

    def _apply_references(self):
        """Set ``referred_by`` once every row exists, so a row may name one further down."""
        for start in range(0, len(self._references), BATCH_SIZE):
            chunk = self._references[start:start + BATCH_SIZE]
            targets = dict(
                Customer.objects.filter(external_id__in={ext for _, ext, *_ in chunk if ext})
                .values_list("external_id", "pk")
            )
            created, names_needed, updates = [], set(), []
            for pk, ext, current, state, version, number in chunk:
                target = targets.get(ext) if ext else None
                if ext and target is None:
                    self.report.add(number, "referred_by", f"no customer has the external id {_show(ext)}")
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
                    referred_by_id=target, version=new_version, updated_at=self._now
                )
                if state == "same":
                    self.report.updated += 1
                    self.report.unchanged -= 1
                changes.append(CustomerChange(
                    customer_id=pk, user=self.user, changed_at=self._now, field="referred_by",
                    old_value=names.get(current, ""), new_value=names.get(target, ""), version=new_version,
                ))
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


def _display(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _sniff_delimiter(header):
    """The header names known columns, so the delimiter is whichever of , ; tab it uses most."""
    counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


# --- Export ----------------------------------------------------------------------------------

def export_queryset(customers):
    """The customers with what a row needs, in a handful of queries per chunk."""
    return customers.annotate(
        owner_username=F("owner__username"),
        team_name=F("team__name"),
        referrer_external_id=F("referred_by__external_id"),
    ).prefetch_related("tags", Prefetch("contacts", queryset=Contact.objects.order_by(
        "-is_primary", "name", "pk"
    )))


def export_row(customer):
    contact = customer.primary_contact()
    cells = [
        customer.external_id or "",
        customer.name,
        customer.status,
        customer.customer_since.isoformat() if customer.customer_since else "",
        customer.owner_username or "",
        customer.team_name or "",
        customer.timezone,
        str(customer.cadence_days),
        "; ".join(tag.name for tag in customer.tags.all()),
        customer.referrer_external_id or "",
        contact.name if contact else "",
        contact.email if contact else "",
        contact.phone if contact else "",
        contact.birthday_display if contact else "",
    ]
    return [neutralise(cell) for cell in cells]


class _Echo:
    def write(self, value):
        return value


def export_lines(customers, *, chunk_size=1000, counter=None):
    """CSV text in pieces of about ``chunk_size`` rows; ``counter[0]`` counts the rows written."""
    writer = csv.writer(_Echo())
    counter = counter if counter is not None else [0]
    piece = [writer.writerow(COLUMNS)]
    for customer in export_queryset(customers).iterator(chunk_size=chunk_size):
        piece.append(writer.writerow(export_row(customer)))
        counter[0] += 1
        if len(piece) >= chunk_size:
            yield "".join(piece)
            piece = []
    if piece:
        yield "".join(piece)


def export_stream(customers, *, user, filters="", source="web"):
    """
    Encoded CSV for a streaming response; the ExportLog is written when the stream ends, with the
    number of rows really sent (also when the download is cut short).
    """
    counter = [0]
    try:
        for piece in export_lines(customers, counter=counter):
            yield piece.encode("utf-8")
    finally:
        ExportLog.objects.create(user=user if user is not None and user.is_authenticated else None,
                                 row_count=counter[0], filters=filters[:1000], source=source)


def export_to(out, customers, *, user=None, filters="", source="command"):
    """Write the CSV to a text stream; log the export; return the number of rows."""
    counter = [0]
    for piece in export_lines(customers, counter=counter):
        out.write(piece)
    ExportLog.objects.create(user=user, row_count=counter[0], filters=filters[:1000], source=source)
    return counter[0]


def example_csv():
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(EXAMPLE_ROWS)
    return out.getvalue()


# --- The web import: upload, preview, confirm ------------------------------------------------

class ImportSizeLimit(FileUploadHandler):
    """
    Stops receiving an upload once it passes ``CUSTOMER_IMPORT_MAX_BYTES`` (rather than spooling a
    huge file to disk first) and marks the request, so the form can say why.
    """

    def __init__(self, request, max_bytes):
        super().__init__(request)
        self.max_bytes = max_bytes
        request.import_too_large = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.max_bytes:
            self.request.import_too_large = True
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None


def customer_import_check(*, user, upload):
    """Store the upload under IMPORTS_DIR, check it, and record the result as a CustomerImport."""
    directory = Path(settings.IMPORTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{secrets.token_hex(16)}.csv"
    with open(path, "wb") as stored:
        for chunk in upload.chunks():
            stored.write(chunk)
    report = CsvImport(user=user, default_owner=user, restrict=True).check(path)
    status = CustomerImport.Status.CHECKED if report.ok else CustomerImport.Status.REJECTED
    if not report.ok:
        path.unlink(missing_ok=True)  # nothing can come of it; the problems are kept
    return CustomerImport.objects.create(
        user=user, filename=Path(upload.name or "upload.csv").name[:255],
        stored_path=str(path) if report.ok else "", status=status, row_count=report.rows,
        create_count=report.created, update_count=report.updated,
        problems="\n".join(report.problem_lines()),
    )


UNCONFIRMED_KEPT_FOR = datetime.timedelta(days=2)


def customer_imports_clean(*, now=None, dry_run=False):
    """
    Delete the stored files of uploads nobody confirmed within two days; their preview and
    problems stay. Returns how many were (or, dry, would be) cleaned.
    """
    cutoff = (now or timezone.now()) - UNCONFIRMED_KEPT_FOR
    stale = CustomerImport.objects.filter(
        status=CustomerImport.Status.CHECKED, queued_at__isnull=True, created_at__lt=cutoff
    ).exclude(stored_path="")
    if dry_run:
        return stale.count()
    cleaned = 0
    for pk, path in stale.values_list("pk", "stored_path"):
        if CustomerImport.objects.filter(pk=pk, status=CustomerImport.Status.CHECKED,
                                         queued_at__isnull=True).update(
            stored_path="", status=CustomerImport.Status.REJECTED,
            problems="row 1: file: not confirmed within two days; upload the file again",
        ):
            Path(path).unlink(missing_ok=True)
            cleaned += 1
    return cleaned


def customer_import_queue(*, customer_import, user):
    """
    Hand a confirmed import to a worker; True when this call queued it (a second click while it
    waits queues nothing). The worker's ``customer_import_confirm`` claims it as usual.
    """
    from .tasks import run_customer_import

    queued = CustomerImport.objects.filter(
        pk=customer_import.pk, status=CustomerImport.Status.CHECKED, queued_at__isnull=True
    ).update(queued_at=timezone.now())
    if queued:
        transaction.on_commit(lambda: run_customer_import.delay(customer_import.pk, user.pk))
    return bool(queued)


def customer_import_confirm(*, customer_import, user):
    """
    Import a checked upload, once: the first request claims it with a conditional UPDATE in the
    import's own transaction, so a second confirmation (a double click, a retry) finds it taken.

    Returns the run's Report, or None when the import was already claimed. When the re-check finds
    problems (the data changed since the preview), nothing is imported and the import is rejected.
    """
    path = customer_import.stored_path
    try:
        with transaction.atomic():
            claimed = CustomerImport.objects.filter(
                pk=customer_import.pk, status=CustomerImport.Status.CHECKED
            ).update(status=CustomerImport.Status.IMPORTED, imported_at=timezone.now(), stored_path="")
            if not claimed:
                return None
            report = CsvImport(user=user, default_owner=user, restrict=True).run(path)
            CustomerImport.objects.filter(pk=customer_import.pk).update(
                row_count=report.rows, create_count=report.created, update_count=report.updated
            )
            transaction.on_commit(lambda: Path(path).unlink(missing_ok=True))
    except ImportRefused as refused:
        CustomerImport.objects.filter(pk=customer_import.pk, status=CustomerImport.Status.CHECKED).update(
            status=CustomerImport.Status.REJECTED, stored_path="",
            problems="\n".join(refused.report.problem_lines()),
        )
        Path(path).unlink(missing_ok=True)
        return refused.report
    customer_import.refresh_from_db()
    return report
