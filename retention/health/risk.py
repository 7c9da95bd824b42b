"""
Value at risk: what a customer is worth over the coming year times the chance of losing it.

- the **projected 1-year value** is ``customers.value.projected_value(A, 1, r)``, which for one
  year is the annual value ``A`` itself (the purchases of the last 365 days,
  ``Customer.value_last_12_months``; a churned customer projects nothing and has no score);
- the **risk** is ``(100 − health score) / 100``: a score of 30 puts 70 % of it at risk;
- a customer with an unknown score has no value at risk.

``value_at_risk`` computes it for one customer, ``value_at_risk_expression`` as SQL for lists
that sort by it; the dashboard counts it over the customers at risk (``band == at_risk``).
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Value

CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=16, decimal_places=2)


def value_at_risk(annual_value, score):
    if score is None:
        return None
    return (Decimal(annual_value or 0) * (100 - score) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def value_at_risk_expression(annual="value_last_12_months", score="health_score"):
    """``value_at_risk`` of each row as an expression (NULL when the score is unknown)."""
    return ExpressionWrapper(F(annual) * (Value(100) - F(score)) / Value(100), output_field=MONEY)
