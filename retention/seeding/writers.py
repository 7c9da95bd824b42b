"""
Writing many rows fast: explicit primary keys, so rows of one batch can point at each other
before any is written, and one writer per database: ``COPY … FROM STDIN`` on PostgreSQL,
``bulk_create`` elsewhere (SQLite, small loads only). ``write_behind`` writes batches on a second
connection while the next is generated, so the database and Python work at the same time.

Rows are dicts keyed by column (``attname``); keys a model does not have are dropped and missing
columns get the field's default, so a writer keeps working when a model gains a field.
"""

import functools
import io
import queue
import threading

from django.db import connection, transaction
from django.utils import timezone


class IdAllocator:
    """
    Explicit primary keys past the current maximum (and the sequence); the sequences are moved
    past them after each batch with ``sync_sequences``. Run on a quiet database: a concurrent
    insert could take an id handed out here.
    """

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

    def take(self, model):
        pk = self.next[model]
        self.next[model] = pk + 1
        return pk

    def last_used(self, model):
        return self.next[model] - 1

    def sync_sequences(self):
        if connection.vendor != "postgresql":
            return  # SQLite's AUTOINCREMENT follows the largest id inserted
        with connection.cursor() as cursor:
            for model, pk in self.next.items():
                if pk > 1:
                    cursor.execute("SELECT setval(%s, %s)",
                                   [self._sequence(model._meta.db_table), pk - 1])

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


def write_behind(batches, writer, *, done=lambda: None):
    """
    Write each batch of ``batches`` (``{model: rows}``, in an order in which references come
    first) in a transaction of its own, on a thread with its own connection, while the next batch
    is generated; ``done()`` is called on that thread after each commit. At most one batch waits,
    so memory stays that of two. Inline where the caller holds a transaction (tests): another
    connection could not see its rows.
    """
    if connection.in_atomic_block:
        for tables in batches:
            _write_batch(writer, tables)
            done()
        return
    waiting, failed = queue.Queue(maxsize=1), []

    def drain():
        try:
            while (tables := waiting.get()) is not None:
                _write_batch(writer, tables)
                done()
        except BaseException as error:  # handed to the generating thread, which raises it
            failed.append(error)
            while waiting.get() is not None:
                pass
        finally:
            connection.close()

    thread = threading.Thread(target=drain, name="write-behind")
    thread.start()
    try:
        for tables in batches:
            if failed:
                break
            waiting.put(tables)
    finally:
        waiting.put(None)
        thread.join()
    if failed:
        raise failed[0]


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
