"""
Reading a customer's health for its page: the score with each factor's score and share of the
total, the top reasons and the next action, the override in force, the change over 30 days and
the history of the last months (the snapshot rows, each holding until the next).
"""

import datetime

from django.db.models import Q, Subquery
from django.utils import timezone

from ..models import HealthSnapshot
from .factors import FACTORS
from .overrides import override_in_force

HISTORY_DAYS = 180
TREND_DAYS = 30


def score_history(customer, days=HISTORY_DAYS, today=None):
    """
    [{date, score, band}] of the last ``days``: the row in force at their start (dated then), and
    each change since. One query.
    """
    today = today or timezone.localdate()
    start = today - datetime.timedelta(days=days)
    snapshots = HealthSnapshot.objects.filter(customer=customer)
    in_force = snapshots.filter(date__lte=start).order_by("-date").values("date")[:1]
    rows = list(snapshots.filter(Q(date__gt=start) | Q(date=Subquery(in_force)))
                .order_by("date").values("date", "score", "band"))
    if rows and rows[0]["date"] < start:
        rows[0]["date"] = start
    return rows


def score_on(history, day):
    """The score in force on ``day`` according to ``history`` (None if none yet)."""
    score = None
    for row in history:
        if row["date"] > day:
            break
        score = row["score"]
    return score


def health_panel(customer, today=None):
    """What the customer page's health section shows (a few small queries)."""
    today = today or timezone.localdate()
    stored = customer.health_factors or {}
    weights = {key: value for key, value in (stored.get("factors") or {}).items()}
    known_total = sum(f["weight"] for f in weights.values() if f.get("score") is not None and f.get("weight"))
    factors = []
    for key, label in FACTORS.items():
        factor = weights.get(key) or {}
        score, weight = factor.get("score"), factor.get("weight") or 0
        counted = score is not None and weight and known_total
        factors.append({
            "key": key, "label": label, "score": score, "weight": weight,
            "share": round(100 * weight / known_total) if counted else None,
            "points": round(weight * score / known_total, 1) if counted else None,
        })
    history = score_history(customer, today=today)
    before = score_on(history, today - datetime.timedelta(days=TREND_DAYS))
    change = None if before is None or customer.health_score is None else customer.health_score - before
    # Days since the first row, so the steps fall where they happened on a linear axis.
    first = history[0]["date"] if history else today
    chart = {"start": first.isoformat(),
             "points": [{"x": (row["date"] - first).days, "y": row["score"]} for row in history]
             + [{"x": (today - first).days, "y": customer.health_score}]}
    return {
        "health": {
            "score": customer.health_score, "band": customer.health_band,
            "computed": stored.get("computed"), "factors": factors,
            "reasons": stored.get("reasons") or [], "action": stored.get("action"),
            "override": override_in_force(customer, today) if stored.get("override") else None,
            "change": change, "history": history, "chart": chart,
            "computed_at": customer.health_computed_at,
        },
    }
