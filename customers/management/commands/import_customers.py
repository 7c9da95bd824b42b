"""
Import customers from a CSV file: all rows or none.

Exit status 0 when every row is valid (and, without ``--dry-run``, imported); otherwise 1, with one
line per problem on stdout, ``row N: COLUMN: message``, and nothing imported.
"""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from customers.csv_io.columns import COLUMNS
from customers.csv_io.importer import CsvImport, ImportRefused


class Command(BaseCommand):
    help = "Import customers from a CSV file (columns: " + ", ".join(COLUMNS) + "); all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file, UTF-8, with a header row")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument("--owner", metavar="USERNAME", help="the owner of rows that name none")

    def handle(self, *args, file, dry_run=False, owner=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        default_owner = None
        if owner:
            default_owner = get_user_model().objects.filter(username=owner, is_active=True).first()
            if default_owner is None:
                raise CommandError(f"--owner {owner}: no active user has this username")

        def report_problem(problem):
            self.stdout.write(str(problem))

        importer = CsvImport(default_owner=default_owner, on_problem=report_problem, keep_problems=0)
        report = importer.check(path)
        if not report.ok:
            self._refuse(report)
        if dry_run:
            self.stdout.write(f"{report.rows} row(s) valid: {report.created} to create, "
                              f"{report.updated} to update. Dry run: nothing was written.")
            return
        try:
            report = importer.run(path)
        except ImportRefused as refused:  # the data changed between the check and the import
            self._refuse(refused.report)
        self.stdout.write(self.style.SUCCESS(
            f"Imported {report.rows} row(s): {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged."
        ))

    def _refuse(self, report):
        # stdout carries only the problem lines, so scripts can read them as they are.
        self.stdout.flush()
        self.stderr.write(f"{report.problem_count} problem(s); nothing was imported.")
        sys.exit(1)
