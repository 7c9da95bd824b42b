"""
Trigram indexes for the customer search (``icontains`` on names, emails and phones).

PostgreSQL only: SQLite, the embedded default, has no pg_trgm and needs none at its sizes.
pg_trgm is a trusted extension, so the database owner may create it.
"""

from django.db import migrations

INDEXES = [
    ("customer_name_trgm", "customers_customer", "name"),
    ("contact_name_trgm", "customers_contact", "name"),
    ("contact_email_trgm", "customers_contact", "email"),
    ("contact_phone_trgm", "customers_contact", "phone"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_imports_and_exports")]

    operations = [migrations.RunPython(create, drop)]
