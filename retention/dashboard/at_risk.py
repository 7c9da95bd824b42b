"""
The customers at risk, most valuable first: ordered by value at risk (``retention.health.risk``),
with their owner, score, the change of the score over 30 days and the top reason. One query a
page (the score of 30 days ago is a subquery on the snapshots' (customer, date) index).
"""

import datetime

from django.db.models import Count, F, OuterRef, Subquery, Sum

from customers.models import Customer

from ..health.risk import CENT, value_at_risk_expression
from ..models import HealthSnapshot
from ..pagination import paginate

TREND_DAYS = 30
PER_PAGE = 10


def score_days_ago(today, days=TREND_DAYS):
    """Each customer's score ``days`` ago: its latest snapshot on or before that day."""
    return Subquery(
        HealthSnapshot.objects.filter(customer=OuterRef("pk"),
                                      date__lte=today - datetime.timedelta(days=days))
        .order_by("-date").values("score")[:1]
    )


def at_risk_customers(scope):
    return (
        scope.customers().in_program().filter(health_band=Customer.HealthBand.AT_RISK)
        .annotate(value_at_risk=value_at_risk_expression(), score_before=score_days_ago(scope.today))
        .select_related("owner", "team")
        .order_by(F("value_at_risk").desc(nulls_last=True), "health_score", "pk")
    )


def at_risk_summary(scope):
    """How many customers of the scope are at risk, and their value at risk (one query)."""
    return (scope.customers().in_program().filter(health_band=Customer.HealthBand.AT_RISK).order_by()
            .aggregate(count=Count("pk"), value=Sum(value_at_risk_expression(), default=0)))


def at_risk_page(scope, page_param):
    page = paginate(at_risk_customers(scope), page_param, per_page=PER_PAGE)
    for customer in page:
        decorate(customer)
    return page


def decorate(customer):
    """The row's trend over 30 days and its top reason and next action, from the stored factors."""
    if getattr(customer, "value_at_risk", None) is not None:
        customer.value_at_risk = customer.value_at_risk.quantize(CENT)
    before = getattr(customer, "score_before", None)
    score = customer.health_score
    customer.trend = None if before is None or score is None else score - before
    factors = customer.health_factors or {}
    reasons = factors.get("reasons") or []
    customer.top_reason = reasons[0] if reasons else None
    customer.next_action = factors.get("action")
    customer.overridden = bool(factors.get("override"))
    return customer
