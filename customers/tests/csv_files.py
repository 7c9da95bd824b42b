"""
Writing customers CSV files, running the import command on them, and going through the browser's
import (upload, map) with the test client, for the import tests.
"""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from customers.csv_io.columns import COLUMNS
from customers.models import Contact, Customer, CustomerChange, CustomerImport, Tag


def csv_text(rows, delimiter=","):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue()


def write_csv(tmp_path, rows, *, delimiter=",", bom=False, name="customers.csv"):
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + csv_text(rows, delimiter).encode("utf-8"))
    return path


def run_command(path, *args):
    """(exit status, stdout lines) of ``import_customers``."""
    return run_command_with_notes(path, *args)[:2]


def run_command_with_notes(path, *args):
    """(exit status, stdout lines, stderr lines) of ``import_customers``."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_customers", str(path), *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exit:
        status = exit.code
    return status, out.getvalue().splitlines(), err.getvalue().splitlines()


def db_state():
    """Everything an import may touch, to show that a refused import changed nothing."""
    return (
        list(Customer.objects.order_by("pk").values()),
        list(Contact.objects.order_by("pk").values()),
        list(Customer.tags.through.objects.order_by("pk").values()),
        list(Tag.objects.order_by("pk").values()),
        CustomerChange.objects.count(),
    )


HEADER = list(COLUMNS)


def good_rows():
    return [
        HEADER,
        ["A-1", "Acme Ltd", "active", "2021-04-01", "alice", "North", "Europe/Berlin", "14",
         "vip; renewal", "A-2", "Dana Doe", "dana@acme.example", "'+49 30 1234", "--03-14",
         "https://acme.example"],
        ["A-2", "Beta GmbH", "prospect", "", "bob", "", "UTC", "", "", "", "", "", "", "", ""],
    ]


def upload(client, rows=None, *, content=None, name="customers.csv", delimiter=","):
    """Upload a file on the import page; the response."""
    content = content if content is not None else csv_text(rows, delimiter).encode()
    return client.post("/customers/import/", {"file": SimpleUploadedFile(name, content, "text/csv")})


def map_columns(client, customer_import, changes=None, **fields):
    """
    Send the mapping step as it is suggested, with ``changes`` (header → field, "" for none) and
    other ``fields`` of the form (``save_as``, ``date_order``, …); the response.
    """
    customer_import.refresh_from_db()
    options = customer_import.options
    data = {"encoding": options["encoding"], "delimiter": options["delimiter"],
            "date_order": options["date_order"] if options["date_order"] in ("dmy", "mdy") else "mdy",
            "action": "check"}
    if options.get("match_website"):
        data["match_website"] = "on"
    for index, (header, target) in enumerate(zip(customer_import.headers, customer_import.mapping,
                                                 strict=True)):
        data[f"column_{index}"] = (changes or {}).get(header, target)
    data.update(fields)
    return client.post(f"/customers/import/{customer_import.pk}/map/", data)


def upload_and_map(client, rows=None, *, content=None, name="customers.csv", changes=None, **fields):
    """Upload and map (as suggested, with ``changes``); the checked CustomerImport."""
    upload(client, rows, content=content, name=name)
    customer_import = CustomerImport.objects.filter(filename=name).latest("pk")
    map_columns(client, customer_import, changes, **fields)
    customer_import.refresh_from_db()
    return customer_import
