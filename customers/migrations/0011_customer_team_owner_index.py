"""
``customer_team_owner``: each customer's team and owner beside its id, for the reports that join
many rows to their customers to group them by team and account manager. The survey results page
joins every answer (44,000 at 100,000 customers) to its customer: with this index the join reads
3 MB of index instead of the 115 MB customer table, 193 → 139 ms for the page (docs/PERFORMANCE.md,
"Surveys").

PostgreSQL only, like 0003–0005 and 0008: SQLite holds small books and needs none of it.
"""

from django.db import migrations

NAME = "customer_team_owner"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON customers_customer (id) INCLUDE (team_id, owner_id)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0010_audit_log")]

    operations = [migrations.RunPython(create, drop)]
