"""Writing customers CSV files and running the import command on them, for the import tests."""

import csv
import io

from django.core.management import call_command

from customers.csv_io.columns import COLUMNS
from customers.models import Contact, Customer, CustomerChange, Tag


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
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_customers", str(path), *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exit:
        status = exit.code
    return status, out.getvalue().splitlines()


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
         "vip; renewal", "A-2", "Dana Doe", "dana@acme.example", "'+49 30 1234", "--03-14"],
        ["A-2", "Beta GmbH", "prospect", "", "bob", "", "UTC", "", "", "", "", "", "", ""],
    ]
