"""
The column contract of a customers CSV, which DESIGN.md fixes ("Stable interfaces"): the columns,
what each means, how long a value may be, an example file, the one rule applied both ways to cells
a spreadsheet would run as a formula (export adds an apostrophe, import drops exactly one), and how
the cells of several columns mapped to one field make its value (``combine``).

``COLUMNS`` are the columns export writes; an import also takes the ``EXTRA_COLUMNS`` (a contact's
name in two parts, and notes), all of them being ``TARGETS`` a file's column may be mapped to. A
``problem`` column (the one the file of skipped rows adds) is never imported.
"""

import csv
import io

from django.http import StreamingHttpResponse

COLUMNS = (
    "external_id", "name", "status", "customer_since", "owner", "team", "timezone", "cadence_days",
    "tags", "referred_by", "contact_name", "contact_email", "contact_phone", "contact_birthday",
    "website",
)
EXTRA_COLUMNS = ("contact_first_name", "contact_last_name", "notes")
TARGETS = COLUMNS + EXTRA_COLUMNS
PROBLEM_COLUMN = "problem"

COLUMN_HELP = {
    "external_id": "Your id for the customer. A row whose external id exists updates that customer.",
    "name": "The company, or the person when the customer is one. Empty: the contact's name.",
    "status": "prospect, active (the default), inactive or churned.",
    "customer_since": "When the relationship began, YYYY-MM-DD (a timestamp keeps its date).",
    "owner": "A username, a user's email or full name. Empty: new customers get the default owner, "
             "existing ones keep theirs.",
    "team": "A team name. Empty: the owner's team, if the owner is in exactly one.",
    "timezone": "An IANA name such as Europe/Berlin.",
    "cadence_days": "Days between check-ins, 1 to 366 (default 30).",
    "tags": "Separated by semicolons (or commas, or :::); the customer gets exactly these tags.",
    "referred_by": "The external id of the referring customer, in the database or in the file.",
    "contact_name": "The primary contact (matched by email, else the current primary contact).",
    "contact_email": "A row without an external id whose contact email is on file updates that "
                     "customer.",
    "contact_phone": "The contact's phone number, as written.",
    "contact_birthday": "YYYY-MM-DD, or --MM-DD when the year is not known.",
    "contact_first_name": "With contact_last_name, the contact's name when contact_name is empty.",
    "contact_last_name": "With contact_first_name, as above.",
    "notes": "Kept as the first note on a new customer's timeline.",
    "website": "The customer's web site; its domain can find the customer when the file has no "
               "external id and no known email.",
}
TARGET_LABELS = {
    "external_id": "External id",
    "name": "Customer name (company)",
    "status": "Status",
    "customer_since": "Customer since",
    "owner": "Owner",
    "team": "Team",
    "timezone": "Time zone",
    "cadence_days": "Check-in cadence (days)",
    "tags": "Tags",
    "referred_by": "Referred by (external id)",
    "website": "Website",
    "notes": "Notes",
    "contact_name": "Contact name",
    "contact_first_name": "Contact first name",
    "contact_last_name": "Contact last name",
    "contact_email": "Contact email",
    "contact_phone": "Contact phone",
    "contact_birthday": "Contact birthday",
}
CUSTOMER_TARGETS = ("name", "external_id", "status", "customer_since", "owner", "team", "timezone",
                    "cadence_days", "tags", "referred_by", "website", "notes")
CONTACT_TARGETS = ("contact_name", "contact_first_name", "contact_last_name", "contact_email",
                   "contact_phone", "contact_birthday")

# Several columns mapped to one field: their non-empty cells joined with this; the fields not
# listed take the first non-empty cell (e.g. "E-mail 1" and "E-mail 2" → the first email given).
JOINED_WITH = {
    "name": " ", "contact_name": " ", "contact_first_name": " ", "contact_last_name": " ",
    "tags": "; ", "notes": "\n",
}


def combine(target, values):
    """The value of ``target`` from the (already read) cells of the columns mapped to it."""
    if len(values) == 1:
        return values[0]  # one column: its cell as it is (free text keeps its spaces)
    present = [value for value in values if value.strip()]
    if not present:
        return values[0] if values else ""
    joiner = JOINED_WITH.get(target)
    if joiner is None:
        return present[0]
    return joiner.join(value.strip() for value in present)


# Cells a spreadsheet would run as a formula are written as export writes them (see neutralise).
EXAMPLE_ROWS = [
    ["ACME-1", "Acme Ltd", "active", "2021-04-01", "", "", "Europe/Berlin", "30", "enterprise; renewal",
     "", "Dana Doe", "dana@acme.example", "'+49 30 1234567", "'--03-14", "https://acme.example"],
    ["ACME-2", "Acme Logistics", "prospect", "", "", "", "Europe/London", "14", "", "ACME-1",
     "Sam Lee", "sam@acme-logistics.example", "", "1984-11-02", ""],
]

MAX_LENGTHS = {
    "external_id": 100, "name": 200, "referred_by": 100, "contact_name": 200, "contact_email": 254,
    "contact_phone": 50, "contact_first_name": 200, "contact_last_name": 200, "website": 200,
    "notes": 10000,
}
# Free text is kept as it is, so that an export re-imports exactly; the other columns are trimmed.
FREE_TEXT = {"name", "contact_name", "contact_phone", "notes"}

# A spreadsheet runs a cell starting with one of these; export prefixes such a cell with "'".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A cell that really starts with "'" is prefixed too, so that import may drop exactly one.
ESCAPED_STARTS = (*FORMULA_STARTS, "'")


def neutralise(value):
    """Export: keep a spreadsheet from running the cell as a formula."""
    return "'" + value if value.startswith(ESCAPED_STARTS) else value


def cell_value(raw, column):
    """Import: (value, problem). A neutralised cell loses its apostrophe; a live formula is refused."""
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
    return (value if column in FREE_TEXT else value.strip()), None


def example_csv():
    """A small file in these columns that imports as it is (the import page offers it)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(EXAMPLE_ROWS)
    return out.getvalue()


class _Echo:
    """A file that hands back what is written to it: ``csv.writer`` formats one row at a time."""

    def write(self, value):
        return value


def csv_download(filename, header, rows):
    """
    A streamed CSV download of ``rows`` (iterables of values) under ``header``, every cell
    neutralised: the pages' exports (answers, the audit log) read their rows as they are sent.
    """
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([neutralise(str(cell)) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
