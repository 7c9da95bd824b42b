"""
Partial indexes for Today, measured with EXPLAIN ANALYZE on am1's Today at a million customers
(107,876 in the book):

- ``customer_book_outside`` (owner_id, id) over the customers outside the program: the week's
  birthdays (≈4,600 contacts) set aside those of the book's prospects, churned and archived
  customers by their ids, one hashed look-up each, instead of fetching each contact's customer
  to test it (≈60 ms → 12 ms).
- ``customer_book_new`` (owner_id, status_changed_at) over the active customers: the book's new
  customers not yet thanked, a short index range, instead of intersecting the week's status
  changes of everyone with the whole book's 107,876 ids (≈14 ms).
- ``keydate_yearly_day`` (month, day) over the yearly key dates and ``keydate_once_date`` (date)
  over the one-off ones: the week's key dates, instead of reading every key date to test its month
  and day (≈13 ms).

PostgreSQL only, like 0005, 0014 and 0016: SQLite holds small books. On a much larger live table,
create them by hand with CREATE INDEX CONCURRENTLY first and this migration skips them.
"""

from django.db import migrations

INDEXES = {
    "customer_book_outside": "customers_customer (owner_id, id)"
                             " WHERE archived_at IS NOT NULL OR status NOT IN ('active', 'inactive')",
    "customer_book_new": "customers_customer (owner_id, status_changed_at)"
                         " WHERE status = 'active' AND archived_at IS NULL",
    "keydate_yearly_day": "customers_keydate ((EXTRACT(MONTH FROM date)), (EXTRACT(DAY FROM date)))"
                          " WHERE recurrence = 'yearly'",
    "keydate_once_date": "customers_keydate (date) WHERE recurrence = 'once'",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0016_book_anniversaries_index")]

    operations = [migrations.RunPython(create, drop)]
