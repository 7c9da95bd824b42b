"""Small helpers the customers tests share: the edit form's data, and counting queries."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def count_queries(action):
    with CaptureQueriesContext(connection) as queries:
        action()
    return len(queries)


def form_data(customer, **overrides):
    data = {
        "name": customer.name,
        "status": customer.status,
        "churn_reason": customer.churn_reason,
        "customer_since": customer.customer_since.isoformat() if customer.customer_since else "",
        "owner": customer.owner_id or "",
        "team": customer.team_id,
        "timezone": customer.timezone,
        "cadence_days": customer.cadence_days,
        "cadence_max_days": customer.cadence_max_days,
        "allow_automated_checkins": "on" if customer.allow_automated_checkins else "",
        "source": customer.source,
        "external_id": customer.external_id or "",
        "needs": customer.needs,
        "interests": customer.interests,
        "tags": "",
        "version": customer.version,
    }
    data.update(overrides)
    return data
