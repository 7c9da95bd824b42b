"""
Import customers from a CSV file: all rows or none, or the valid rows with ``--skip-invalid``.

Exit status 0 when every row is valid (and, without ``--dry-run``, imported); otherwise 1, with one
line per problem on stdout, ``row N: COLUMN: message``, and nothing imported. With
``--skip-invalid`` the valid rows are imported whatever the others hold (exit 0, the problems still
printed) unless the file itself has a problem; ``--rejects OUT.csv`` gets the rows left out.

``--mapping NAME`` (a mapping saved in the browser) and ``--map "Header=field"`` read a file in
other columns: the columns no entry names are skipped. With any of the new options, what is not
given (encoding, delimiter, date order) is found in the file; without them, a file is read as
always: UTF-8, ISO dates, columns named by the header. Notes on how the file was read go to stderr.
"""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from customers.csv_io.columns import TARGETS
from customers.csv_io.importer import CsvImport, ImportRefused
from customers.csv_io.mapping import MappingError
from customers.csv_io.preparing import import_prepare
from customers.csv_io.reading import delimiter_name, encoding_name
from customers.csv_io.rejects import rejects_write, report_reasons
from customers.csv_io.uploads import customer_import_log


class Command(BaseCommand):
    help = ("Import customers from a CSV file (columns: " + ", ".join(TARGETS) + "); all rows or "
            "none, or the valid ones with --skip-invalid.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file, with a header row")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument("--owner", metavar="USERNAME", help="the owner of rows that name none")
        parser.add_argument("--mapping", metavar="NAME", help="a column mapping saved in the browser")
        parser.add_argument("--map", action="append", default=[], metavar='"Header=field"',
                            help='map a column to a field ("First Name+Last Name=contact_name" '
                                 'combines columns, "Fax=" skips one); repeatable')
        parser.add_argument("--encoding", help="utf-8, utf-16, windows-1252 or latin-1 (default: found)")
        parser.add_argument("--delimiter", help="the character, or tab, semicolon, comma (default: found)")
        parser.add_argument("--date-order", choices=["dmy", "mdy"],
                            help="how to read dates such as 5/2/24 (default: found in the file)")
        parser.add_argument("--match-website", action="store_true",
                            help="also find customers by their website's domain")
        parser.add_argument("--skip-invalid", action="store_true",
                            help="import the valid rows and skip those with problems")
        parser.add_argument("--rejects", metavar="OUT.csv",
                            help="with --skip-invalid: write the skipped rows here, with a problem column")

    def handle(self, *args, file, dry_run=False, owner=None, mapping=None, map=(), encoding=None,
               delimiter=None, date_order=None, match_website=False, skip_invalid=False, rejects=None,
               **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        if rejects and not skip_invalid:
            raise CommandError("--rejects goes with --skip-invalid")
        default_owner = None
        if owner:
            default_owner = get_user_model().objects.filter(username=owner, is_active=True).first()
            if default_owner is None:
                raise CommandError(f"--owner {owner}: no active user has this username")
        if encoding is not None and encoding_name(encoding) is None:
            raise CommandError(f"--encoding {encoding}: use utf-8, utf-16, windows-1252 or latin-1")
        if delimiter is not None and delimiter_name(delimiter) is None:
            raise CommandError(f"--delimiter {delimiter!r}: use , ; tab (or comma, semicolon, tab)")
        strict = not any((mapping, map, encoding, delimiter, date_order, match_website, skip_invalid))
        try:
            prepared = import_prepare(
                path, encoding=encoding and encoding_name(encoding),
                delimiter=delimiter and delimiter_name(delimiter), date_order=date_order,
                match_website=match_website, mapping=mapping, specs=map, strict=strict,
            )
        except MappingError as error:
            raise CommandError("; ".join(error.messages)) from error

        importer = CsvImport(default_owner=default_owner, keep_problems=None,
                             options=prepared.options, targets=prepared.targets)
        report = importer.check(path)
        self._notes(prepared.notes, report)
        if report.file_problems or (report.invalid and not skip_invalid):
            self._refuse(report)
        self._problems(report)
        if dry_run:
            self.stdout.write(f"{report.valid} row(s) valid: {report.created} to create, "
                              f"{report.updated} to update{self._left_out(report)}. Dry run: nothing "
                              "was written.")
            return
        try:
            report = importer.run(path, skip_invalid=skip_invalid)
        except ImportRefused as refused:  # the data changed between the check and the import
            self._refuse(refused.report)
        if rejects:
            with open(rejects, "w", encoding="utf-8", newline="") as out:
                written = rejects_write(out, path, prepared.options, report_reasons(report))
            self.stderr.write(f"{written} row(s) left out written to {rejects}.")
        customer_import_log(path=path, report=report, options=prepared.options,
                            targets=prepared.targets, skip_invalid=skip_invalid)
        self.stdout.write(self.style.SUCCESS(
            f"Imported {report.valid} row(s): {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged{self._left_out(report)}."
        ))

    def _left_out(self, report):
        parts = []
        if report.invalid:
            parts.append(f"{len(report.invalid)} with problems skipped")
        if report.duplicated:
            parts.append(f"{report.duplicated} repeating an earlier row left out")
        return "; " + ", ".join(parts) if parts else ""

    def _notes(self, notes, report):
        if report.skipped_columns:
            notes = [*notes, "not imported (no field mapped): " + ", ".join(report.skipped_columns)]
        for note in notes:
            self.stderr.write(f"{note[:1].upper()}{note[1:]}.")

    def _problems(self, report):
        # stdout carries only the problem lines (and the result), so scripts can read them as they are.
        for line in report.problem_lines():
            self.stdout.write(line)

    def _refuse(self, report):
        self._problems(report)
        self.stdout.flush()
        self.stderr.write(f"{report.problem_count} problem(s); nothing was imported.")
        sys.exit(1)
