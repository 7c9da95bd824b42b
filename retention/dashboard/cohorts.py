"""
Cohort retention: the scope's customers grouped by the month they became customers
(``customer_since``), and the share of each cohort still a customer (not churned) at the end of
each month after — a triangle, since younger cohorts have fewer months behind them.

A churned customer counts as lost from the month of its churn (``status_changed_at``); one won
back counts as kept, as it is a customer again. Prospects and archived customers are left out.
One grouped query (cohort month × months to churn); the triangle is built from those few cells.
"""

import datetime

from django.db.models import Case, Count, IntegerField, Value, When
from django.db.models.functions import ExtractMonth, ExtractYear

from customers.models import Customer

COHORT_MONTHS = 12


def _month_index(year, month):
    return year * 12 + month - 1


def _month(index):
    return datetime.date(index // 12, index % 12 + 1, 1)


def cohort_table(scope, months=COHORT_MONTHS):
    """
    ``{"columns": [0 … months-1], "rows": [{"month", "size", "cells": [percent or None]}]}``,
    the newest cohort first: ``cells[k]`` is the share still a customer at the end of the k-th
    month after joining (0: the month they joined), None where that month has not ended.
    """
    today = scope.today
    this_month = _month_index(today.year, today.month)
    first = _month(this_month - months + 1)
    since = ExtractYear("customer_since") * 12 + ExtractMonth("customer_since") - 1
    churned_in = ExtractYear("status_changed_at") * 12 + ExtractMonth("status_changed_at") - 1
    cells = (
        scope.customers().filter(archived_at__isnull=True, customer_since__gte=first,
                                 customer_since__lte=today)
        .exclude(status=Customer.Status.PROSPECT).order_by()
        .values(cohort=since, lost=Case(When(status=Customer.Status.CHURNED, then=churned_in - since),
                                        default=Value(None), output_field=IntegerField()))
        .annotate(n=Count("pk"))
    )
    sizes, lost = {}, {}
    for cell in cells:
        sizes[cell["cohort"]] = sizes.get(cell["cohort"], 0) + cell["n"]
        if cell["lost"] is not None:
            lost.setdefault(cell["cohort"], {})
            key = max(cell["lost"], 0)
            lost[cell["cohort"]][key] = lost[cell["cohort"]].get(key, 0) + cell["n"]
    rows = []
    for cohort in range(this_month, this_month - months, -1):
        size = sizes.get(cohort, 0)
        ended = this_month - cohort  # months that have ended since the cohort's month began
        row = {"month": _month(cohort), "size": size, "cells": []}
        gone = 0
        for k in range(months):
            gone += lost.get(cohort, {}).get(k, 0)
            if k >= ended or not size:
                row["cells"].append(None)
            else:
                row["cells"].append(round(100 * (size - gone) / size))
        rows.append(row)
    return {"columns": list(range(months)), "rows": rows}


def cohort_chart(table):
    """Chart data: one line per cohort with members, its shares by month."""
    return {
        "labels": [f"Month {k}" for k in table["columns"]],
        "series": [{"label": row["month"].strftime("%b %Y"), "data": row["cells"]}
                   for row in reversed(table["rows"]) if row["size"]],
    }
