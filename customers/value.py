"""
A customer's lifetime value: what it has brought so far and what it is projected to bring.

The formula (also on the customer page and in ``docs/LIFETIME_VALUE.md``):

- **annual value** ``A`` = the purchases of the last 365 days (``value_last_12_months``);
  the **monthly average** is ``A / 12``;
- a customer still buying this year is still buying next year with probability ``r``, the annual
  retention rate (``settings.LTV_RETENTION_RATE``, 0.85 unless configured), so year ``k`` from now
  (``k = 0`` is the coming year) is expected to bring ``A × r^k``;
- the **projected value over N years** is the sum over the coming N years:
  ``A × (1 + r + r² + … + r^(N−1))``. With r = 0.85: 1 year = A, 2 years = 1.85 A,
  10 years ≈ 5.35 A.

A churned customer projects nothing until it is won back. No discounting: the numbers are meant to
rank customers and show what is at stake, not to value the business.

It reads only the stored totals on the customer, so it costs no query; ``customer_value_recompute``
in ``customers.services`` keeps those totals up to date.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from .models import Customer

PROJECTION_YEARS = (1, 2, 10)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class LifetimeValue:
    total: Decimal
    last_12_months: Decimal
    monthly_average: Decimal
    retention_rate: Decimal
    projections: dict  # years → projected value over the coming years

    @property
    def projection_rows(self):
        """[(years, value), …] in ascending years, for templates."""
        return sorted(self.projections.items())


def retention_rate():
    return Decimal(str(settings.LTV_RETENTION_RATE))


def projected_value(annual_value, years, rate):
    """``annual_value × Σ rate^k`` for ``k < years``, to the cent."""
    factor = sum((rate**k for k in range(years)), Decimal("0"))
    return (annual_value * factor).quantize(CENT, rounding=ROUND_HALF_UP)


def lifetime_value(customer):
    rate = retention_rate()
    annual = customer.value_last_12_months or Decimal("0")
    if customer.status == Customer.Status.CHURNED:
        projections = {years: Decimal("0.00") for years in PROJECTION_YEARS}
    else:
        projections = {years: projected_value(annual, years, rate) for years in PROJECTION_YEARS}
    return LifetimeValue(
        total=customer.lifetime_value,
        last_12_months=annual,
        monthly_average=(annual / 12).quantize(CENT, rounding=ROUND_HALF_UP),
        retention_rate=rate,
        projections=projections,
    )
