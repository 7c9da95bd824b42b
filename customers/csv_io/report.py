"""
What a pass over a file found: the ``Report`` every stage of an import writes to, with its
``Problem`` lines and, row by row, its ``Outcome``.

A problem reads ``row N: COLUMN: message``, N being the row number a spreadsheet shows (the header
is row 1). Problems with the file itself use row 1 and the column ``file``: with one of those no
row can be imported.
"""

import unicodedata
from dataclasses import dataclass

KEEP_PROBLEMS = 1000  # a web import stores this many problem lines, and a count of the rest


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str

    def __str__(self):
        return f"row {self.row}: {self.column}: {self.message}"


@dataclass(slots=True)
class Outcome:
    """What a row does: ``created``, ``updated`` (``detail``: what changes), ``unchanged``,
    ``duplicate`` (of an earlier row) or ``invalid`` (``detail``: its problems)."""

    kind: str
    name: str = ""
    customer_id: int | None = None
    detail: str = ""


class Report:
    """
    What a pass found: the problems (all passed to ``on_problem``; the first few kept), the rows
    with problems (``invalid``: row number → its problem lines, all of them), each row's
    ``Outcome``, and, once ``finish`` counted them, how many rows are created, updated, unchanged,
    duplicates, invalid or skipped.
    """

    def __init__(self, on_problem=None, keep=KEEP_PROBLEMS):
        self.rows = self.created = self.updated = self.unchanged = self.duplicated = 0
        self.skipped = 0  # rows with problems an import with skip_invalid left out
        self.problems = []
        self.problem_count = 0
        self.file_problems = 0  # problems of the file or its header: no row can be imported
        self.invalid = {}
        self.outcomes = {}
        self.names = {}  # row number → the customer's name in the row, for the rows with problems
        self.skipped_columns = []
        self.delimiter = ","
        self._on_problem = on_problem
        self._keep = keep

    def finish(self):
        """Give the rows with problems their outcome, and count the outcomes."""
        for number, lines in self.invalid.items():
            self.outcomes[number] = Outcome("invalid", self.names.get(number, ""), None,
                                            "\n".join(lines))
        counts = {}
        for outcome in self.outcomes.values():
            counts[outcome.kind] = counts.get(outcome.kind, 0) + 1
        self.created, self.updated = counts.get("created", 0), counts.get("updated", 0)
        self.unchanged, self.duplicated = counts.get("unchanged", 0), counts.get("duplicate", 0)
        return self

    @property
    def invalid_count(self):
        return len(self.invalid)

    def rows_in_order(self):
        """``(row number, Outcome)`` in the file's order."""
        return sorted(self.outcomes.items())

    def add(self, row, column, message):
        problem = Problem(row, column, message)
        self.problem_count += 1
        if row <= 1:
            self.file_problems += 1
        else:
            self.invalid.setdefault(row, []).append(f"{column}: {message}")
        if self._keep is None or len(self.problems) < self._keep:
            self.problems.append(problem)
        if self._on_problem is not None:
            self._on_problem(problem)

    @property
    def ok(self):
        return self.problem_count == 0

    @property
    def valid(self):
        """Rows that are (or would be) created, updated or left unchanged."""
        return self.created + self.updated + self.unchanged

    def problem_lines(self):
        """The kept problems in row order, and a last line counting those not kept."""
        lines = [str(p) for p in sorted(self.problems, key=lambda p: p.row)]
        if self.problem_count > len(self.problems):
            lines.append(f"… and {self.problem_count - len(self.problems)} more problem(s)")
        return lines


def show(value, limit=60):
    """A user's value quoted in a one-line message: control characters made visible, shortened."""
    if not value.isprintable():  # printable (the usual case) needs no character-by-character pass
        value = "".join(
            "↵" if ch in "\r\n" else ("·" if unicodedata.category(ch)[0] == "C" else ch) for ch in value
        )
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return f"“{value}”"
