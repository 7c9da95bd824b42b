"""
A bulk load into tables without their secondary indexes and foreign keys, which are then built
once: PostgreSQL builds an index from sorted rows in one pass and checks a foreign key with one
join, where keeping them up to date row by row costs each COPY a random write per index (the
trigram indexes most of all) and a trigger call per reference.

Primary keys and unique constraints stay, so a load cannot write a duplicate. If the process is
killed outright (not interrupted: an exception or Ctrl-C builds them back), the tables are left
without those indexes: drop the database and seed again.
"""

import contextlib
import time

from django.db import connection

BUILD_MEMORY = "256MB"  # maintenance_work_mem while building: sorts in memory, not on disk


@contextlib.contextmanager
def indexes_deferred(models, *, say=lambda line: None):
    """
    Drop the non-unique indexes and the foreign keys of ``models``' tables for the ``with``
    block, and build them again after it (PostgreSQL, outside a transaction; elsewhere nothing).
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2", [tables])
        foreign_keys = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid = ANY(%s::regclass[]) AND NOT indisunique AND NOT indisprimary"
            " ORDER BY 1", [tables])
        indexes = cursor.fetchall()
        for table, name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    try:
        yield
    finally:
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('maintenance_work_mem')")
            memory = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [BUILD_MEMORY])
            for _name, definition in indexes:
                cursor.execute(definition)
            for table, name, definition in foreign_keys:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT "
                               f"{connection.ops.quote_name(name)} {definition}")
            cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [memory])
        say(f"  {len(indexes)} indexes and {len(foreign_keys)} foreign keys built: "
            f"{time.monotonic() - started:.1f} s")
