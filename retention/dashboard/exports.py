"""
Each table of the dashboard as CSV, for the same scope as the page (the URL's team, owner and
period): the customers at risk (all of them, streamed), the figures, coverage per account
manager, customers by band over the period, and the cohort triangle. Cells a spreadsheet would
run as a formula are neutralised as in the customer export.
"""

import csv

from customers.csv_io.columns import neutralise

from ..health.reasons import reason_text
from .at_risk import at_risk_customers, decorate
from .kpis import dashboard_figures

EXPORTS = {
    "at-risk": "Customers at risk",
    "figures": "Figures",
    "coverage": "Coverage by account manager",
    "bands": "Customers by band",
    "cohorts": "Cohort retention",
}


class _Echo:
    def write(self, value):
        return value


def _lines(header, rows):
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([neutralise("" if cell is None else str(cell)) for cell in row])


def export_lines(name, scope):
    """The CSV text of export ``name`` (a key of ``EXPORTS``) for ``scope``, in pieces."""
    if name == "at-risk":
        def rows():
            for customer in at_risk_customers(scope).iterator(chunk_size=500):
                decorate(customer)
                yield [customer.pk, customer.name, customer.team.name,
                       customer.owner.get_username() if customer.owner else "", customer.health_score,
                       customer.trend, customer.value_last_12_months, customer.value_at_risk,
                       reason_text(customer.top_reason, scope.today) if customer.top_reason else ""]
        return _lines(["id", "name", "team", "owner", "score", "change_30_days", "annual_value",
                       "value_at_risk", "top_reason"], rows())
    figures = dashboard_figures(scope)
    if name == "cohorts":
        table = figures["cohorts"]
        return _lines(["cohort", "customers", *[f"month_{k}" for k in table["columns"]]],
                      ([row["month"].strftime("%Y-%m"), row["size"], *row["cells"]] for row in table["rows"]))
    if name == "coverage":
        return _lines(["owner", "customers", "within_cadence", "due", "overdue", "coverage_percent",
                       "coverage_percent_at_start"],
                      ([row["owner"].get_username() if row["owner"] else "", row["customers"],
                        row["covered"], row["due"], row["overdue"], row["coverage"],
                        row["coverage_before"]] for row in figures["coverage_rows"]))
    if name == "bands":
        return _lines(["date", "healthy", "watch", "at_risk", "unknown", "value_at_risk"],
                      ([row["date"].isoformat(), row["healthy"], row["watch"], row["at_risk"],
                        row["unknown"], row["value_at_risk"]] for row in figures["history"]))
    kpis = figures["kpis"]
    flat = [*kpis["bands"], *(kpi for key, kpi in kpis.items() if key != "bands")]
    return _lines(["figure", "value", "previous", "unit", "period_days"],
                  ([kpi.label, kpi.value, kpi.previous, kpi.unit.strip(), scope.days] for kpi in flat))
