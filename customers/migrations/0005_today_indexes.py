"""
Indexes for Today at 100,000 customers (bench/pages.py, docs/PERFORMANCE.md), measured with
EXPLAIN ANALYZE on am1's Today (10,883 customers in the book, 35,872 visible):

- ``customer_book`` (owner_id, team_id) INCLUDE (id, name), over the customers in the program:
  the book of one account manager as the visibility rule and Today filter it. The week's
  birthdays join their customer to it and read only the customer's name, so the book comes from
  an index-only scan (≈2 ms) instead of the table (≈20 ms): 31 → 14 ms. The anniversary and
  new-customer lists intersect it.
- ``customer_id_team`` (id) INCLUDE (team_id): the visibility rule seen from a row that belongs
  to a customer (a promise, a touchpoint, …) is a look-up of that customer's team; with this it is
  an index-only probe, so the planner probes the few rows' customers instead of hashing every
  visible one (the promise rate: 47 → 13 ms).
- ``customer_since_month_day``: anniversaries are found by the month and day of
  ``customer_since`` (Today's week and the daily scan), which no plain index serves; with it a
  week's anniversaries are a few index look-ups (17 → 1.5 ms).
- ``customer_status_changed`` (status_changed_at): customers who became active lately (Today's
  "not yet thanked", the hourly thank-you scan): 9 → 1 ms.

PostgreSQL only, like 0003 and 0004: SQLite holds small books and needs none of them. Each takes
about a second to build at 100,000 customers; on a much larger live table, create them by hand
with CREATE INDEX CONCURRENTLY first and this migration skips them.
"""

from django.db import migrations

IN_PROGRAM = "archived_at IS NULL AND status IN ('active', 'inactive')"

INDEXES = [
    ("customer_book", f"customers_customer (owner_id, team_id) INCLUDE (id, name) WHERE {IN_PROGRAM}"),
    ("customer_id_team", "customers_customer (id) INCLUDE (team_id)"),
    ("customer_since_month_day", "customers_customer "
     "((EXTRACT(MONTH FROM customer_since)), (EXTRACT(DAY FROM customer_since)))"),
    ("customer_status_changed", "customers_customer (status_changed_at)"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_bench_indexes")]

    operations = [migrations.RunPython(create, drop)]
