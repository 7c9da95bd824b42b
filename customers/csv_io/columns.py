"""
The column contract of a customers CSV, which DESIGN.md fixes ("Stable interfaces"): the columns,
what each means, how long a value may be, an example file, and the one rule applied both ways to
cells a spreadsheet would run as a formula (export adds an apostrophe, import drops exactly one).
"""

import csv
import io

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

MAX_LENGTHS = {
    "external_id": 100, "name": 200, "referred_by": 100, "contact_name": 200, "contact_email": 254,
    "contact_phone": 50,
}
# Free text is kept as it is, so that an export re-imports exactly; the other columns are trimmed.
FREE_TEXT = {"name", "contact_name", "contact_phone"}

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
