"""
Getting a file ready to import: how to read it (``FileOptions``) and how its columns map to fields
(the targets), from what the user said and, for what they did not, from the file itself.

``import_prepare`` serves the command line and the browser alike: an encoding, delimiter or date
order given is used, one not given is found in the file (``reading.encoding_detect``, the delimiter
of the header, ``mapping.date_order_guess``); a saved mapping and ``--map`` specs make the targets.
Without any of these (``strict``), a file is read as the column contract has always said: UTF-8,
ISO dates, columns named by the header.
"""

from dataclasses import dataclass, field

from .mapping import (
    MappingError,
    date_order_guess,
    import_mapping_find,
    targets_from_saved,
    targets_from_specs,
)
from .reading import FileOptions, encoding_detect, file_sample


@dataclass
class Prepared:
    options: FileOptions
    targets: list | None  # None: the header's own names
    header: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # what was found in the file, for the user


def import_prepare(path, *, encoding=None, delimiter=None, date_order=None, match_website=False,
                   mapping=None, specs=(), strict=False):
    """
    ``Prepared`` options and targets for ``path``. ``mapping`` is the name of a saved mapping,
    ``specs`` ``--map`` entries. Raises ``MappingError`` when they do not fit the file.
    """
    notes = []
    if encoding is None:
        encoding = "utf-8" if strict else encoding_detect(path)
        if encoding != "utf-8":
            notes.append(f"read as {encoding} (found in the file)")
    saved = None
    if mapping:
        saved = import_mapping_find(mapping)
        if saved is None:
            raise MappingError([f"no mapping is saved as {mapping!r}"])
    options = FileOptions(encoding=encoding, delimiter=delimiter or "",
                          match_website=match_website or bool(saved and saved.match_website))
    sample = file_sample(path, options)
    if not delimiter and sample.delimiter != ",":
        notes.append(f"columns separated by {'tab' if sample.delimiter == chr(9) else sample.delimiter}")
    targets = None
    if (saved is not None or specs) and not sample.report.problem_count:  # else the import says why
        base = targets_from_saved(saved, sample.header) if saved is not None else None
        targets = targets_from_specs(list(specs), sample.header, base=base) if specs else base
    if date_order is None:
        if saved is not None and saved.date_order:
            date_order = saved.date_order
        elif strict:
            date_order = "iso"
        else:
            date_order, reason = date_order_guess(sample)
            notes.append(f"dates read {'day' if date_order == 'dmy' else 'month'} first ({reason})")
    options = FileOptions(encoding=encoding, delimiter=delimiter or sample.delimiter,
                          date_order=date_order, match_website=options.match_website)
    return Prepared(options=options, targets=targets, header=sample.header, notes=notes)
