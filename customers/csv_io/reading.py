"""
Reading a customers CSV file.

``data_rows(path, report, options, targets)`` checks the file's size and encoding before it reads
any row (so each gives one clear problem), finds the delimiter, resolves the header to fields, and
streams the data rows as ``{field: [cells]}``. ``header_resolve`` is the one place that decides
which cell feeds which field: by the header's own names (the column contract), or, with a mapping,
by ``targets``, the field each column of the header feeds ("" for none, and several columns may
feed one field). ``file_sample`` reads the first rows for the mapping step.

How a file is read is a ``FileOptions``: its encoding (``encoding_detect`` finds it: UTF-8 with or
without BOM, UTF-16 as Excel writes it, else Windows-1252, else Latin-1), its delimiter (``,``
``;`` or tab, found in the header unless given, or named by a first line ``sep=;`` as Excel
writes), the order of ambiguous dates and whether a website's domain finds customers.

Problems go to a ``report.Report``; those with the file itself use row 1 and the column ``file``.
"""

import codecs
import csv
import io
import itertools
import os
import re
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from ..parsing import DATE_ORDERS
from .columns import PROBLEM_COLUMN, TARGETS
from .report import Report, show

DELIMITERS = (",", ";", "\t")
DELIMITER_LABELS = {",": "Comma (,)", ";": "Semicolon (;)", "\t": "Tab"}
DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t"}
# The encodings a file may be read in: Python's codec for each, and what people call it.
ENCODINGS = {
    "utf-8": ("utf-8-sig", "UTF-8 (with or without BOM)"),
    "utf-16": ("utf-16", "UTF-16 (Excel's “Unicode text”)"),
    "windows-1252": ("cp1252", "Windows-1252 (Western European, Excel on Windows)"),
    "latin-1": ("latin-1", "Latin-1 (ISO 8859-1)"),
}
ENCODING_ALIASES = {
    "utf8": "utf-8", "utf-8-sig": "utf-8", "utf16": "utf-16", "utf-16le": "utf-16",
    "utf-16-le": "utf-16", "cp1252": "windows-1252", "win-1252": "windows-1252",
    "windows1252": "windows-1252", "ansi": "windows-1252", "latin1": "latin-1",
    "iso-8859-1": "latin-1", "iso8859-1": "latin-1",
}
SEP_LINE = re.compile(r"^\ufeff?sep=(.)\r?\n?$")
WORKBOOK_STARTS = {b"PK\x03\x04": "an Excel workbook (.xlsx) or another zip archive",
                   b"\xd0\xcf\x11\xe0": "an Excel 97–2003 workbook (.xls)"}


@dataclass(frozen=True)
class FileOptions:
    """How a file is read. ``delimiter`` "" means: the one the header uses."""

    encoding: str = "utf-8"
    delimiter: str = ""
    date_order: str = "iso"
    match_website: bool = False

    def as_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        data = data or {}
        return cls(
            encoding=data.get("encoding") if data.get("encoding") in ENCODINGS else "utf-8",
            delimiter=data.get("delimiter") if data.get("delimiter") in DELIMITERS else "",
            date_order=data.get("date_order") if data.get("date_order") in DATE_ORDERS else "iso",
            match_website=bool(data.get("match_website")),
        )


def encoding_name(value):
    """What a user calls an encoding (``cp1252``, ``UTF8``, ``latin1``) → its key, or None."""
    key = value.strip().lower().replace("_", "-")
    key = ENCODING_ALIASES.get(key, key)
    return key if key in ENCODINGS else None


def delimiter_name(value):
    """``;``, ``semicolon``, ``tab``, ``\\t`` … → the delimiter, or None."""
    if value in DELIMITERS:
        return value
    key = value.strip().lower()
    if key in ("\\t", "t"):
        return "\t"
    return DELIMITER_NAMES.get(key) or (key if key in DELIMITERS else None)


def data_rows(path, report, options=None, targets=None):
    """
    Yield ``(row number, {field: [cells]})`` for each data row that is not blank, counting them in
    ``report.rows``; the cells are as the file has them. A row shorter than the header gives ""
    for the columns it lacks. ``targets``: the mapping (see ``header_resolve``), or None.
    """
    options = options or FileOptions()
    if not file_is_readable(path, report, options.encoding):
        return
    with open_text(path, options.encoding) as text:
        reader = _reader(text, options, report)
        if reader is None:
            return
        number = 0
        try:
            header = header_resolve(next(reader), report, targets)
            number = 1
            for number, cells in enumerate(reader, start=2):
                if any(cell.strip() for cell in cells):
                    report.rows += 1
                    yield number, header.values(number, cells, report)
        except (csv.Error, UnicodeDecodeError) as error:
            report.add(number + 1, "file", f"cannot be read as CSV ({error})")


def raw_rows(path, options):
    """``(row number, cells)`` of every data row, as the file has them (for the skipped rows)."""
    with open_text(path, options.encoding) as text:
        reader = _reader(text, options, Report(keep=0))
        if reader is None:
            return
        header = next(reader, [])
        yield 1, header
        yield from enumerate(reader, start=2)


def open_text(path, encoding):
    raw = open(path, "rb")  # noqa: SIM115 (closed with the wrapper)
    return io.TextIOWrapper(raw, encoding=ENCODINGS[encoding][0], newline="")


def _reader(text, options, report):
    """A csv reader positioned on the header; None (and a problem) when the file is empty."""
    first_line = text.readline()
    delimiter = options.delimiter
    sep = SEP_LINE.match(first_line)
    if sep:  # Excel's "sep=;" line names the delimiter; the header follows
        delimiter = delimiter or sep[1]
        first_line = text.readline()
    if not first_line.strip():
        report.add(1, "file", "the file is empty; its first row must name the columns")
        return None
    report.delimiter = delimiter or sniff_delimiter(first_line)
    return csv.reader(itertools.chain([first_line], text), dialect="excel", delimiter=report.delimiter)


def sniff_delimiter(header):
    """The header names columns, so the delimiter is whichever of , ; tab it uses most."""
    counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass
class Header:
    """Which cells of a row feed which field, resolved once from the header row."""

    columns: dict  # field → [cell index], in the file's order
    named: set = field(default_factory=set)  # cell indexes the header names (fed or not)

    def values(self, number, cells, report):
        """A data row's cells by field; a value in a column the header does not name is reported."""
        for index, cell in enumerate(cells):
            if index not in self.named and cell.strip():
                report.add(number, "file", f"a value in column {index + 1}, which the header "
                                           "does not name")
                break
        return {target: [cells[i] if i < len(cells) else "" for i in indexes]
                for target, indexes in self.columns.items()}


def header_key(name):
    """How a header cell names a column of the contract: case and spaces around do not matter."""
    return name.strip().lower()


def header_resolve(cells, report, targets=None):
    """
    The header row → a ``Header``. Without ``targets``, each column is named by its header (case
    and spaces around do not matter): an unknown or repeated name is a problem. With ``targets``
    (a mapping: one field or "" per header cell), each column feeds the field it is mapped to, and
    the others are skipped (``report.skipped_columns``), never a problem. A ``problem`` column (as
    the file of skipped rows has) is never imported.
    """
    header = Header(columns={}, named={i for i, raw in enumerate(cells) if raw.strip()})
    if targets is not None:
        header.named = set(range(len(cells)))  # a mapping names columns by their place
        if len(targets) != len(cells):
            report.add(1, "file", f"the mapping is for {len(targets)} columns, but the header has "
                                  f"{len(cells)}; map the columns again")
        for index, raw in enumerate(cells):
            target = targets[index] if index < len(targets) else ""
            if target and header_key(raw) != PROBLEM_COLUMN:
                header.columns.setdefault(target, []).append(index)
            elif raw.strip():
                report.skipped_columns.append(raw.strip())
    else:
        for index, raw in enumerate(cells):
            name = header_key(raw)
            if not name or name == PROBLEM_COLUMN:
                continue
            if name not in TARGETS:
                report.add(1, show(raw.strip(), 40)[1:-1],
                           "unknown column; the columns are " + ", ".join(TARGETS))
            elif name in header.columns:
                report.add(1, name, "the column appears twice")
            else:
                header.columns[name] = [index]
    if not {"name", "contact_name", "contact_first_name", "contact_last_name"} & header.columns.keys():
        report.add(1, "name", "the name column is missing; every customer needs a name (a "
                              "contact's name will do for a customer who is a person)")
    return header


@dataclass
class Sample:
    """The first rows of a file, for the mapping step: header, rows, and each column's values."""

    header: list
    rows: list  # the first few data rows
    values: list  # per column: its non-empty values among the rows read
    delimiter: str
    report: Report
    row_count: int = 0  # the data rows read (all of them when ``complete``)
    complete: bool = True


def file_sample(path, options, *, rows=5, scan=2000):
    """Read the header and up to ``scan`` data rows; keep ``rows`` of them and each column's values."""
    report = Report()
    sample = Sample(header=[], rows=[], values=[], delimiter=",", report=report)
    if not file_is_readable(path, report, options.encoding):
        return sample
    with open_text(path, options.encoding) as text:
        reader = _reader(text, options, report)
        if reader is None:
            return sample
        sample.delimiter = report.delimiter
        try:
            sample.header = next(reader)
            sample.values = [[] for _ in sample.header]
            for read, cells in enumerate(reader):
                if read >= scan:
                    sample.complete = False
                    break
                if not any(cell.strip() for cell in cells):
                    continue
                sample.row_count += 1
                if len(sample.rows) < rows:
                    sample.rows.append(cells)
                for index, cell in enumerate(cells[: len(sample.header)]):
                    if cell.strip():
                        sample.values[index].append(cell)
        except (csv.Error, UnicodeDecodeError) as error:
            report.add(1, "file", f"cannot be read as CSV ({error})")
    return sample


def encoding_detect(path):
    """
    The encoding ``path`` is most likely in: a BOM says UTF-8 or UTF-16; else UTF-8 if every byte
    fits it; else Windows-1252 if every byte means something in it; else Latin-1.
    """
    with open(path, "rb") as raw:
        start = raw.read(4)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if start[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    for encoding in ("utf-8", "windows-1252"):
        if _first_undecodable(path, encoding) is None:
            return encoding
    return "latin-1"


def _first_undecodable(path, encoding):
    """The line of the first byte ``path`` cannot be decoded at in ``encoding``, or None; 0: at its end."""
    decoder = codecs.getincrementaldecoder(ENCODINGS[encoding][0])()
    line = 1
    with open(path, "rb") as raw:
        while chunk := raw.read(64 * 1024):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return line + chunk[: error.start].count(b"\n")
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return 0
    return None


def file_is_readable(path, report, encoding="utf-8"):
    """Size, kind and encoding, checked before any row is read, so each gives one clear problem."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as raw:
            start = raw.read(4)
    except OSError:
        report.add(1, "file", "the file is no longer available; upload it again")
        return False
    limit = settings.CUSTOMER_IMPORT_MAX_BYTES
    if size > limit:
        report.add(1, "file", f"the file is {filesizeformat(size)}, more than the "
                              f"{filesizeformat(limit)} an import may be; split it into smaller files")
        return False
    for magic, kind in WORKBOOK_STARTS.items():
        if start.startswith(magic):
            report.add(1, "file", f"the file is {kind}, not a CSV file; save it as “CSV UTF-8” "
                                  "and import that")
            return False
    line = _first_undecodable(path, encoding)
    if line is None:
        return True
    if encoding == "utf-8":
        where = f"an invalid byte on line {line}" if line else "it ends inside a character"
        report.add(1, "file", f"the file is not UTF-8 text ({where}); save it as “CSV UTF-8” and "
                              "import it again")
    else:
        where = f"on line {line}" if line else "at its end"
        report.add(1, "file", f"the file cannot be read as {ENCODINGS[encoding][1]} (a byte {where} "
                              "means nothing in it); choose another encoding")
    return False
