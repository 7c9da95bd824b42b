"""
Inserting an import's many new rows fast. On PostgreSQL ``COPY … FROM STDIN`` (CSV) per batch, from
the objects' attributes as they are: ``bulk_create`` prepares every value of every row in Python
and the server parses a huge ``INSERT``, which at 100,000 customers, contacts and history lines cost
three times as long (see docs/PERFORMANCE.md, "Imports"). Elsewhere (SQLite) ``bulk_create``.

The objects are built as usual (``customer_build``, ``Contact(...)``), so their defaults are the
model's; the ``auto_now`` fields are filled as ``save`` would. With ``with_ids`` the objects get
their primary keys first, taken from the table's sequence (``nextval``, so a concurrent insert never
takes one of them), as after ``bulk_create``.
"""

import io
import json

from django.db import connection


def rows_insert(model, objects, *, with_ids=False):
    """Insert ``objects`` (unsaved instances of ``model``); with ``with_ids``, set their pks."""
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects)
        return
    table = model._meta.db_table
    if with_ids:
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                           [table, model._meta.pk.column, len(objects)])
            for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
                obj.pk = pk
    fields = [field for field in model._meta.concrete_fields if with_ids or not field.primary_key]
    stamped = [field for field in fields
               if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)]
    attnames = [field.attname for field in fields]
    data = io.StringIO()
    for obj in objects:
        for field in stamped:
            field.pre_save(obj, True)
        data.write(",".join([_cell(getattr(obj, name)) for name in attnames]))
        data.write("\n")
        obj._state.adding = False
        obj._state.db = connection.alias
    data.seek(0)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN WITH (FORMAT csv)", data
        )


def _cell(value):
    """A value as COPY's CSV reads it: NULL unquoted and empty, text quoted, JSON as its text."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value)
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    return str(value)
