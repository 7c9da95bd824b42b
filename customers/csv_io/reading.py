"""
Reading a customers CSV file, and the report every stage of an import writes its problems to.

``data_rows(path, report)`` checks the file's size and encoding before it reads any row (so each
gives one clear problem), sniffs the delimiter from the header, resolves the header to columns, and
streams the data rows as ``{column: cell}``. ``header_resolve`` is the one place that decides which
cell feeds which column.

A problem reads ``row N: COLUMN: message``, N being the row number a spreadsheet shows (the header
is row 1). Problems with the file itself use row 1 and the column ``file``.
"""

import codecs
import csv
import io
import itertools
import os
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from .columns import COLUMNS

KEEP_PROBLEMS = 1000  # a web import stores this many problem lines, and a count of the rest
DELIMITERS = (",", ";", "\t")


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


def show(value, limit=60):
    """A user's value quoted in a one-line message: control characters made visible, shortened."""
    value = "".join(
        "↵" if ch in "\r\n" else ("·" if unicodedata.category(ch)[0] == "C" else ch) for ch in value
    )
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return f"“{value}”"


def data_rows(path, report):
    """
    Yield ``(row number, {column: cell})`` for each data row that is not blank, counting them in
    ``report.rows``; the cells are as the file has them. A row shorter than the header gives ""
    for the columns it lacks.
    """
    if not _file_is_readable(path, report):
        return
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        first_line = text.readline()
        if not first_line.strip():
            report.add(1, "file", "the file is empty; its first row must name the columns")
            return
        reader = csv.reader(itertools.chain([first_line], text), dialect="excel",
                            delimiter=sniff_delimiter(first_line))
        number = 0
        try:
            header = header_resolve(next(reader), report)
            number = 1
            for number, cells in enumerate(reader, start=2):
                if any(cell.strip() for cell in cells):
                    report.rows += 1
                    yield number, header.values(number, cells, report)
        except (csv.Error, UnicodeDecodeError) as error:
            report.add(number + 1, "file", f"cannot be read as CSV ({error})")


def sniff_delimiter(header):
    """The header names known columns, so the delimiter is whichever of , ; tab it uses most."""
    counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass
class Header:
    """Which cell of a row feeds which column, resolved once from the header row."""

    columns: list  # (cell index, column name), in the file's order
    ignored: set  # cell indexes of unknown or repeated columns: reported once, in the header

    def values(self, number, cells, report):
        """A data row's cells by column; a value under no column is reported."""
        named = {index for index, _ in self.columns}
        for index, cell in enumerate(cells):
            if index not in named and index not in self.ignored and cell.strip():
                report.add(number, "file", f"a value in column {index + 1}, which the header "
                                           "does not name")
                break
        return {column: cells[index] if index < len(cells) else "" for index, column in self.columns}


def header_resolve(cells, report):
    """
    The header row → a ``Header``: column names matched regardless of case and spaces around. The
    one place that decides which cell feeds which column, so a header mapped by the user would be
    resolved here and nowhere else.
    """
    header = Header(columns=[], ignored=set())
    seen = set()
    for index, raw in enumerate(cells):
        name = raw.strip().lower()
        if not name:
            continue
        if name not in COLUMNS:
            header.ignored.add(index)
            report.add(1, show(raw.strip(), 40)[1:-1],
                       "unknown column; the columns are " + ", ".join(COLUMNS))
        elif name in seen:
            header.ignored.add(index)
            report.add(1, name, "the column appears twice")
        else:
            seen.add(name)
            header.columns.append((index, name))
    if "name" not in seen:
        report.add(1, "name", "the name column is missing; every customer needs a name")
    return header


def _file_is_readable(path, report):
    """Size and encoding, checked before any row is read, so each gives one clear problem."""
    try:
        size = os.path.getsize(path)
    except OSError:
        report.add(1, "file", "the file is no longer available; upload it again")
        return False
    limit = settings.CUSTOMER_IMPORT_MAX_BYTES
    if size > limit:
        report.add(1, "file", f"the file is {filesizeformat(size)}, more than the "
                              f"{filesizeformat(limit)} an import may be; split it into smaller files")
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(path, "rb") as raw:
        while chunk := raw.read(64 * 1024):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                line += chunk[: error.start].count(b"\n")
                report.add(1, "file", f"the file is not UTF-8 text (an invalid byte on line {line}); "
                                      "save it as “CSV UTF-8” and import it again")
                return False
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            report.add(1, "file", "the file is not UTF-8 text (it ends inside a character); save "
                                  "it as “CSV UTF-8” and import it again")
            return False
    return True
