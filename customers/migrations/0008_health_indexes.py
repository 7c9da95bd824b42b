"""
Indexes for the health score at 100,000 customers (docs/PERFORMANCE.md, "Customer health"):

- ``customer_value_at_risk``: the dashboard's customers at risk, most value at stake first
  (``retention.health.risk.value_at_risk_expression``), over the customers at risk in the program.
  The page walks it in order and stops after a page (110 → 6 ms for a manager's two teams), and
  the count and total above the list read it alone (an index-only scan: 30 → 4 ms). The expression
  must stay the one Django writes for the ordering, or the planner cannot use it.
- ``customer_health_asc`` / ``customer_health_desc``: the customer list sorted by health, weakest
  or strongest first (unknown scores last either way), with the list's visibility columns, so a
  page and a deep page's ids come from the index: 220 → 3 ms.

PostgreSQL only, like 0003–0005: SQLite holds small books and needs none of them.
"""

from django.db import migrations

AT_RISK_IN_PROGRAM = ("health_band = 'at_risk' AND archived_at IS NULL "
                      "AND status IN ('active', 'inactive')")

INDEXES = [
    ("customer_value_at_risk", "customers_customer "
     "((((value_last_12_months * (100 - health_score)) / 100)) DESC NULLS LAST, health_score, id) "
     f"INCLUDE (team_id, owner_id, value_last_12_months) WHERE {AT_RISK_IN_PROGRAM}"),
    ("customer_health_asc", "customers_customer (health_score ASC NULLS LAST, id ASC) "
     "INCLUDE (team_id, archived_at)"),
    ("customer_health_desc", "customers_customer (health_score DESC NULLS LAST, id DESC) "
     "INCLUDE (team_id, archived_at)"),
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
    dependencies = [("customers", "0007_customer_survey_and_health_fields")]

    operations = [migrations.RunPython(create, drop)]
