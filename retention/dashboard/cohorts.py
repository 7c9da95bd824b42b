"""
Cohort retention: the scope's customers grouped by the month they became customers, and the share
of each cohort still a customer (not churned) at the end of each month after — a triangle, since
younger cohorts have fewer months behind them.

The counts come from the nightly tally (``retention.health.flows.book_cohorts``: per book, each
cohort's size and in which month after joining its lost customers churned); this adds up the
scope's books and builds the triangle from those few cells.
"""

from ..health.flows import COHORT_MONTHS, month_index, month_of


def merged_cohorts(rows):
    """{month index: {"size": n, "lost": {k: n}}} of the ``BookDay`` rows' cohorts added up."""
    cohorts = {}
    for row in rows:
        for month, cell in ((row.get("figures") or {}).get("cohorts") or {}).items():
            year, number = map(int, month.split("-"))
            merged = cohorts.setdefault(year * 12 + number - 1, {"size": 0, "lost": {}})
            merged["size"] += cell["size"]
            for k, n in cell["lost"].items():
                merged["lost"][int(k)] = merged["lost"].get(int(k), 0) + n
    return cohorts


def cohort_table(cohorts, on, months=COHORT_MONTHS):
    """
    ``{"columns": [0 … months-1], "rows": [{"month", "size", "cells": [percent or None]}]}``,
    the newest cohort first: ``cells[k]`` is the share still a customer at the end of the k-th
    month after joining (0: the month they joined), None where that month had not ended by ``on``.
    """
    this_month = month_index(on)
    rows = []
    for cohort in range(this_month, this_month - months, -1):
        cell = cohorts.get(cohort, {"size": 0, "lost": {}})
        size, ended, gone = cell["size"], this_month - cohort, 0
        row = {"month": month_of(cohort), "size": size, "cells": []}
        for k in range(months):
            gone += cell["lost"].get(k, 0)
            row["cells"].append(None if k >= ended or not size else round(100 * (size - gone) / size))
        rows.append(row)
    return {"columns": list(range(months)), "rows": rows}


def cohort_chart(table):
    """Chart data: one line per cohort with members, its shares by month."""
    return {
        "labels": [f"Month {k}" for k in table["columns"]],
        "series": [{"label": row["month"].strftime("%b %Y"), "data": row["cells"]}
                   for row in reversed(table["rows"]) if row["size"]],
    }
