"""
Writing many rows fast: explicit primary keys, so rows of one batch can point at each other
before any is written, and one writer per database: ``COPY … FROM STDIN`` on PostgreSQL,
``bulk_create`` elsewhere (SQLite, small loads only). ``write_side_by_side`` makes and writes
batches in two processes at once (``processes``), so both cores work and the database with them.

Rows are dicts keyed by column (``attname``); keys a model does not have are dropped and missing
columns get the field's default, so a writer keeps working when a model gains a field.
"""

import functools
import io
import multiprocessing

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from .processes import forking, side_by_side


class IdAllocator:
    """
    Explicit primary keys past the current maximum (and the sequence); the sequences are moved
    past them after each batch with ``sync_sequences``. Run on a quiet database: a concurrent
    insert could take an id handed out here.

    After ``share()``, processes forked from this one take ids side by side: each reserves a block
    at a time from counters in shared memory, so no two take the same id (the ids of a process's
    last blocks that it did not use are skipped).
    """

    BLOCK = 10_000

    def __init__(self, models):
        self.next = {}
        for model in models:
            table = model._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                current = cursor.fetchone()[0]
                if connection.vendor == "postgresql":
                    cursor.execute(f"SELECT last_value FROM {self._sequence(table)}")
                    current = max(current, cursor.fetchone()[0])
            self.next[model] = current + 1
        self._shared = None  # {model: the first id no process has reserved}
        self._block_end = {}

    def share(self):
        context = multiprocessing.get_context("fork")
        self._shared = {model: context.Value("q", pk) for model, pk in self.next.items()}
        self._block_end = dict.fromkeys(self.next, 0)

    def take(self, model):
        pk = self.next[model]
        if self._shared is not None and pk >= self._block_end[model]:
            reserved = self._shared[model]
            with reserved.get_lock():
                pk = reserved.value
                reserved.value = pk + self.BLOCK
            self._block_end[model] = pk + self.BLOCK
        self.next[model] = pk + 1
        return pk

    def take_many(self, model, count):
        """The first of ``count`` consecutive ids set aside for ``model`` (before ``share()``)."""
        first = self.next[model]
        self.next[model] = first + count
        return first

    def last_used(self, model):
        """The highest id handed out (or, once shared, reserved) for ``model``."""
        if self._shared is not None:
            return self._shared[model].value - 1
        return self.next[model] - 1

    def sync_sequences(self):
        if connection.vendor != "postgresql":
            return  # SQLite's AUTOINCREMENT follows the largest id inserted
        with connection.cursor() as cursor:
            for model in self.next:
                if (pk := self.last_used(model)) > 0:
                    cursor.execute("SELECT setval(%s, %s)", [self._sequence(model._meta.db_table), pk])

    @staticmethod
    @functools.cache
    def _sequence(table):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            return cursor.fetchone()[0]


def row_writer():
    """The fastest writer the database has."""
    return CopyWriter() if connection.vendor == "postgresql" else BulkCreateWriter()


class RowWriter:
    """Turns row dicts into a model's columns and counts what it wrote, by model."""

    def __init__(self):
        self.counts = {}
        self._columns = {}

    def columns(self, model, row):
        key = (model, tuple(row))
        if key not in self._columns:
            now = timezone.now()
            columns = []
            for field in model._meta.concrete_fields:
                name = field.attname
                if name in row:
                    columns.append((name, None))
                elif field.primary_key:
                    continue
                elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                    columns.append((name, lambda now=now: now))
                elif field.has_default() and callable(field.default):
                    columns.append((name, field.default))  # a fresh value a row (tokens)
                else:
                    columns.append((name, _constant(field.get_default())))
            self._columns[key] = columns
        return self._columns[key]

    def tuples(self, model, rows):
        columns = self.columns(model, rows[0])
        for row in rows:
            yield tuple(row[name] if make is None else make() for name, make in columns)

    def write(self, model, rows):
        if rows:
            self._write(model, [name for name, _ in self.columns(model, rows[0])], rows)
            self.counts[model] = self.counts.get(model, 0) + len(rows)

    def _write(self, model, names, rows):
        raise NotImplementedError


class CopyWriter(RowWriter):
    """PostgreSQL: one ``COPY … FROM STDIN`` per table and batch."""

    def _write(self, model, names, rows):
        buffer = io.StringIO()
        for values in self.tuples(model, rows):
            buffer.write("\t".join(map(_copy_text, values)))
            buffer.write("\n")
        buffer.seek(0)
        sql = f"COPY {model._meta.db_table} ({', '.join(names)}) FROM STDIN"
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if hasattr(raw, "copy_expert"):  # psycopg2
                raw.copy_expert(sql, buffer)
            else:  # psycopg 3
                with raw.copy(sql) as copy:
                    copy.write(buffer.getvalue())


class BulkCreateWriter(RowWriter):
    """SQLite (small N): ``bulk_create`` of the same rows."""

    def _write(self, model, names, rows):
        model.objects.bulk_create(
            (model(**dict(zip(names, values, strict=True))) for values in self.tuples(model, rows)),
            batch_size=500,
        )


def write_side_by_side(make, keys, writer, *, ids=None, done=lambda: None):
    """
    Make the batch of each of ``keys`` (``make(key)`` gives ``{model: rows}``, in an order in
    which references come first; rows refer only to rows of their own batch or already written)
    and write it in a transaction of its own; ``done()`` is called here after each commit, and
    ``writer.counts`` adds up what every batch wrote.

    Two processes do it side by side (``processes``), taking their ids from ``ids`` (shared for
    them): making rows is Python work, one core's worth a process, while the database takes the
    rows of the other. Each holds one batch at a time, so memory stays that of a few batches.
    """
    if ids is not None and forking():
        ids.share()

    def make_and_write(key):
        tables, counted = make(key), type(writer)()  # this batch's counts, to send back
        _write_batch(counted, tables)
        return {model._meta.label: count for model, count in counted.counts.items()}

    for counts in side_by_side(make_and_write, keys):
        for label, count in counts.items():
            model = apps.get_model(label)
            writer.counts[model] = writer.counts.get(model, 0) + count
        done()


def _write_batch(writer, tables):
    with transaction.atomic():
        for model, rows in tables.items():
            writer.write(model, rows)


def _constant(value):
    return lambda: value


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# COPY's text format by the value's type; anything else (int, Decimal, date, datetime) is its str().
_COPY_TEXT = {type(None): lambda value: r"\N", bool: lambda value: "t" if value else "f",
              str: lambda value: value.translate(_ESCAPES)}


def _copy_text(value):
    return _COPY_TEXT.get(type(value), str)(value)
