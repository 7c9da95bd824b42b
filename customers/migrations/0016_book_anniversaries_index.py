"""
``customer_book_anniversaries`` for Today's anniversaries, measured with EXPLAIN ANALYZE on am1's
Today at a million customers (107,876 in the book, 1,454 with an anniversary this week): the
month-and-day index of 0005 found the week's ≈16,000 anniversaries of everyone and intersected
them with the whole book's ids (≈27 ms). This one is (owner_id, month, day) over the customers in
the program, with what a row shows included, so a book's week is a few index-only look-ups.

PostgreSQL only, like 0005 and 0014: SQLite holds small books. On a much larger live table,
create it by hand with CREATE INDEX CONCURRENTLY first and this migration skips it.
"""

from django.db import migrations

IN_PROGRAM = "archived_at IS NULL AND status IN ('active', 'inactive')"
NAME = "customer_book_anniversaries"
DEFINITION = (
    "customers_customer (owner_id, (EXTRACT(MONTH FROM customer_since)), (EXTRACT(DAY FROM customer_since)))"
    f" INCLUDE (id, team_id, customer_since, name, lifetime_value) WHERE {IN_PROGRAM}"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON {DEFINITION}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0015_book_copy")]

    operations = [migrations.RunPython(create, drop)]
