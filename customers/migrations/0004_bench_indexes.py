"""
Indexes the benchmark (bench/pages.py at 100,000 customers, docs/PERFORMANCE.md) showed missing.

- ``customer_name_pk`` (name, id) INCLUDE (team_id, archived_at): the list's default order is
  ``name, pk``. Without it every list page — first, deep, filtered by status or due — read and
  sorted all the visible customers (≈190 ms at 100,000); with it the page walks the index in
  order and stops after 51 rows. The included columns let the visibility rule (team) and the
  archive filter be checked in the index, so the ids of a deep page come from an index-only scan.
- ``customer_program_team_due`` (team_id, next_checkin_due) over the customers in the program
  (not archived, active or inactive): the dashboard's coverage per team counts these, by an
  index-only scan instead of a scan of the whole table.

PostgreSQL only, like 0003: SQLite holds small books and needs neither. A plain CREATE INDEX takes
about a second at 100,000 customers (writes to customers wait that long); on a much larger live
table, create them by hand with CREATE INDEX CONCURRENTLY first and this migration skips them.
"""

from django.db import migrations

INDEXES = [
    ("customer_name_pk", "customers_customer (name, id) INCLUDE (team_id, archived_at)"),
    ("customer_program_team_due", "customers_customer (team_id, next_checkin_due) "
     "WHERE archived_at IS NULL AND status IN ('active', 'inactive')"),
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
    dependencies = [("customers", "0003_search_indexes")]

    operations = [migrations.RunPython(create, drop)]
