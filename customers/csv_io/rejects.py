"""
The rows an import leaves out, given back as a CSV: the file's own header and cells, and a last
``problem`` column saying why (its problems, or the earlier row it repeats), so that the file can be
corrected and imported again (the import never reads a ``problem`` column). Written in UTF-8 with a
BOM, in the file's delimiter, cells a spreadsheet would run as a formula neutralised as export does.
"""

import csv

from .columns import PROBLEM_COLUMN, neutralise
from .reading import header_key, raw_rows


def report_reasons(report):
    """``(row number, why)`` of the rows ``report`` leaves out, in the file's order."""
    for number, outcome in report.rows_in_order():
        if outcome.kind in ("invalid", "duplicate"):
            yield number, outcome.detail.replace("\n", "; ")


def rejects_lines(path, options, reasons):
    """
    The CSV lines (header first) of the rows ``reasons`` names: ``(row number, why)`` in the file's
    order, merged with a stream over the file.
    """
    writer = csv.writer(_Echo(), delimiter=options.delimiter or ",")
    reasons = iter(reasons)
    wanted = next(reasons, None)
    problem_at = None
    for number, cells in raw_rows(path, options):
        if number == 1:
            keys = [header_key(cell) for cell in cells]
            problem_at = keys.index(PROBLEM_COLUMN) if PROBLEM_COLUMN in keys else None
            header = cells if problem_at is not None else [*cells, PROBLEM_COLUMN]
            yield "\ufeff" + writer.writerow([neutralise(cell) for cell in header])
            continue
        while wanted is not None and wanted[0] < number:
            wanted = next(reasons, None)
        if wanted is None:
            break
        if wanted[0] == number:
            cells = list(cells)
            if problem_at is not None:
                cells += [""] * (problem_at + 1 - len(cells))
                cells[problem_at] = wanted[1]
            else:
                cells.append(wanted[1])
            yield writer.writerow([neutralise(cell) for cell in cells])


def rejects_write(out, path, options, reasons):
    """Write the rejected rows to a text stream; return how many."""
    count = -1
    for line in rejects_lines(path, options, reasons):
        out.write(line)
        count += 1
    return max(count, 0)


class _Echo:
    def write(self, value):
        return value
