"""Export every current (not archived) customer as CSV, in the columns import_customers reads."""

from django.core.management.base import BaseCommand

from customers.csv_io.export import export_to
from customers.models import Customer


class Command(BaseCommand):
    help = "Export all customers that are not archived as CSV, to FILE or to stdout."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="where to write the CSV (default: stdout)")

    def handle(self, *args, file=None, **options):
        customers = Customer.objects.current().order_by("name", "pk")
        if file:
            with open(file, "w", encoding="utf-8", newline="") as out:
                count = export_to(out, customers)
            self.stderr.write(f"Exported {count} customer(s) to {file}.")
        else:
            export_to(_Raw(self.stdout), customers)


class _Raw:
    """Writes through the command's stdout without the line ending it adds to each write."""

    def __init__(self, stdout):
        self.stdout = stdout

    def write(self, text):
        self.stdout.write(text, ending="")
