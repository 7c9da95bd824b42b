"""
``customer_checkins`` for Today's check-ins due, measured with EXPLAIN ANALYZE on am1's Today at
100,000 customers (3,075 of the 10,000-customer book due): (owner_id, next_checkin_due) over the
customers in the program, with what a row shows included (``retention.today.CHECKIN_ROW``).
The list counts every row due (``COUNT(*) OVER ()``) before it keeps the first few, so without it
each due customer was read from the table (≈17 ms, 8,400 pages); with it the rows come from an
index-only scan: ≈1 ms.

PostgreSQL only, like 0005: SQLite holds small books. About a second to build at 100,000
customers; on a much larger live table, create it by hand with CREATE INDEX CONCURRENTLY first
and this migration skips it.
"""

from django.db import migrations

IN_PROGRAM = "archived_at IS NULL AND status IN ('active', 'inactive')"
NAME = "customer_checkins"
DEFINITION = (
    "customers_customer (owner_id, next_checkin_due) INCLUDE (id, team_id, lifetime_value, name,"
    f" last_contacted_at, cadence_days, cadence_max_days) WHERE {IN_PROGRAM}"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON {DEFINITION}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0013_purchase_external_id")]

    operations = [migrations.RunPython(create, drop)]
