"""
The one function that scores a customer: ``assess(facts, weights)``.

Six factors, each 0–100 or ``None`` when nothing is known about it (a missing factor is left out
of the weighted average, never counted as bad; with none known the score is unknown):

- ``recency``: days since the last contact against the check-in cadence;
- ``survey``: the latest NPS or CSAT answer of the last year, moved by its trend;
- ``complaints``: open complaints by severity, breached targets, recent ones;
- ``promises``: promises overdue, broken or kept late;
- ``purchases``: the last 90 days against the 90 before, and against the customer's own rhythm;
- ``engagement``: inbound touches, survey answers and invitations ignored, unsubscribes.

Each factor says why with *reasons*: small dicts of facts (a code, the numbers and dates, the
points it cost the factor), which ``reasons.py`` puts into words on the page; the reasons are
ranked by the points they cost the total. Integer arithmetic throughout, so a score is the same
wherever it is computed. The numbers are explained in ``docs/HEALTH.md``.
"""

import datetime
from dataclasses import dataclass, field
from types import SimpleNamespace

from customers.models import Customer
from surveys.models import Response, Survey
from touchpoints.selectors import complaint_urgency

from .facts import SURVEY_DAYS

HealthBand = Customer.HealthBand

FACTORS = {
    "recency": "Contact",
    "survey": "Satisfaction",
    "complaints": "Complaints",
    "promises": "Promises",
    "purchases": "Purchases",
    "engagement": "Engagement",
}
SEVERITY_POINTS = {"low": 20, "medium": 30, "high": 45, "critical": 60}
BREACHED_POINTS = 20
RECENT_COMPLAINT_POINTS, RECENT_COMPLAINT_CAP = 5, 20
OVERDUE_PROMISE_POINTS, OVERDUE_PROMISE_DAILY, OVERDUE_PROMISE_CAP = 25, 2, 50
BROKEN_PROMISE_POINTS, LATE_PROMISE_POINTS = 20, 10
ENGAGEMENT_BASE = 60
INBOUND_POINTS, INBOUND_CAP = 10, 30
ANSWER_POINTS, ANSWER_CAP = 10, 20
IGNORED_POINTS, IGNORED_CAP = 10, 30
ALL_UNSUBSCRIBED_POINTS, SOME_UNSUBSCRIBED_POINTS = 40, 20
TOP_REASONS = 5
FACTOR_ORDER = {key: n for n, key in enumerate(FACTORS)}  # ties between reasons: in this order


@dataclass
class Factor:
    key: str
    score: int | None
    reasons: list = field(default_factory=list)
    action: dict | None = None


@dataclass
class Assessment:
    """What ``assess`` found: the stored score (the override's, if any) and how it was made."""

    score: int | None
    band: str
    computed: int | None  # the score of the factors, before any override
    factors: dict  # key → Factor, every factor (score None when unknown)
    reasons: list  # the top reasons, most costly first, each with "impact" (points of the total)
    action: dict | None
    override: dict | None

    def as_json(self, weights):
        """What ``Customer.health_factors`` keeps (dates as ISO strings)."""
        if self.computed is None and self.override is None:
            return {}
        known = {key: getattr(weights, key) for key, f in self.factors.items() if f.score is not None}
        total = sum(known.values())
        return {
            "factors": {
                key: {"score": factor.score, "weight": getattr(weights, key),
                      "share": _percent(known[key], total) if key in known else None}
                for key, factor in self.factors.items()
            },
            "computed": self.computed,
            "reasons": [_jsonable(reason) for reason in self.reasons],
            "action": _jsonable(self.action) if self.action else None,
            "override": _jsonable(self.override) if self.override else None,
        }


def assess(facts, weights):
    """Score one customer from its ``facts`` (``facts.Facts``) with ``weights`` (``HealthWeights``)."""
    if not facts.in_program:
        return Assessment(score=None, band="", computed=None, factors={}, reasons=[], action=None,
                          override=None)
    factors = {
        "recency": recency(facts), "survey": survey(facts), "complaints": complaints(facts),
        "promises": promises(facts), "purchases": purchases(facts), "engagement": engagement(facts),
    }
    computed = weighted_score({key: f.score for key, f in factors.items()}, weights)
    reasons = _ranked_reasons(factors, weights)
    action = next((factors[r["factor"]].action for r in reasons if factors[r["factor"]].action), None)
    override = facts.override
    score = override["score"] if override else computed
    return Assessment(score=score, band=band_of(score, weights), computed=computed, factors=factors,
                      reasons=reasons, action=action, override=override)


def weighted_score(scores, weights):
    """
    The weighted average of the known factor ``scores`` ({key: score or None}), rounded half up;
    None when no factor with a weight is known. (``weights.rescored`` is the same as SQL.)
    """
    points = total = 0
    for key, score in scores.items():
        weight = getattr(weights, key)
        if score is not None and weight:
            points += weight * score
            total += weight
    if not total:
        return None
    return (2 * points + total) // (2 * total)


def band_of(score, weights):
    if score is None:
        return ""
    if score >= weights.healthy_from:
        return HealthBand.HEALTHY
    if score >= weights.watch_from:
        return HealthBand.WATCH
    return HealthBand.AT_RISK


def _ranked_reasons(factors, weights):
    """Every reason with its cost to the total score, most costly first; the top few kept."""
    total = sum(getattr(weights, key) for key, f in factors.items() if f.score is not None)
    ranked = []
    for key, factor in factors.items():
        weight = getattr(weights, key)
        for reason in factor.reasons:
            impact = (reason["points"] * weight * 10 // total) if total and factor.score is not None else 0
            ranked.append({**reason, "factor": key, "impact": impact / 10})
    ranked.sort(key=lambda r: (-r["impact"], -r["points"], FACTOR_ORDER[r["factor"]]))
    costly = [reason for reason in ranked if reason["points"] > 0]
    return (costly or ranked)[:TOP_REASONS]


# The factors ------------------------------------------------------------------------------------


def recency(facts):
    """
    100 within the cadence; down to 50 at "overdue after"; down to 0 at twice "overdue after".
    Counted from the last contact, or from becoming a customer when never contacted; unknown when
    neither is known.
    """
    start = facts.last_contact_on or facts.customer_since
    if start is None:
        return Factor("recency", None)
    days = max((facts.today - start).days, 0)
    cadence, maximum = facts.cadence_days, max(facts.cadence_max_days, facts.cadence_days)
    if days <= cadence:
        return Factor("recency", 100)
    if days <= maximum:
        score = 100 - 50 * (days - cadence) // (maximum - cadence)
    else:
        score = max(0, 50 - 50 * (days - maximum) // maximum)
    code = "no_contact" if facts.last_contact_on else "never_contacted"
    return Factor("recency", score,
                  [{"code": code, "points": 100 - score, "days": days, "cadence": cadence,
                    "since": start}],
                  {"kind": "log_call"})


def normalised(kind, score):
    """An answer on 0–100: NPS 0–10 × 10, CSAT 1–5 → 0, 25, …, 100."""
    if kind == Survey.Kind.CSAT:
        return max(0, min(100, (score - 1) * 25))
    return max(0, min(100, score * 10))


def survey(facts):
    """
    The latest answer of the last year on 0–100, moved by a quarter of its change from the answer
    before it (of the same kind): a 9 after a 5 scores 90 + 10; a 5 after a 9, 50 − 10.
    """
    answers = facts.responses
    latest = answers[0] if answers else None
    stored = facts.last_survey
    recent = stored and stored["at"] >= facts.now - datetime.timedelta(days=SURVEY_DAYS)
    if recent and (latest is None or stored["at"] > latest["at"]):
        latest = stored
    if latest is None:
        return Factor("survey", None)
    kind, value = latest["kind"], normalised(latest["kind"], latest["score"])
    previous = next((a for a in answers if a["kind"] == kind and a["at"] < latest["at"]), None)
    comment = latest.get("comment") or next(
        (a["comment"] for a in answers if a["at"] == latest["at"] and a["kind"] == kind), "")
    score = value
    reasons = []
    category = Response.categorize(kind, latest["score"])
    if category != Response.Category.PROMOTER:
        reasons.append({"code": category, "points": 100 - value, "kind": kind,
                        "score": latest["score"], "on": latest["at"], "comment": comment[:140]})
    if previous is not None:
        change = value - normalised(kind, previous["score"])
        step = change // 4 if change >= 0 else -((-change) // 4)
        score = max(0, min(100, value + step))
        if step < 0:
            reasons.append({"code": "survey_down", "points": -step, "kind": kind,
                            "score": latest["score"], "from": previous["score"], "since": previous["at"]})
    if not reasons:
        reasons.append({"code": "promoter", "points": 0, "kind": kind, "score": latest["score"],
                        "on": latest["at"]})
    action = {"kind": "log_call"} if category == Response.Category.DETRACTOR else None
    return Factor("survey", score, reasons, action)


def complaints(facts):
    """
    100 less, for each open complaint, its severity's points (20–60) and 20 more if it is past
    its target; 5 for each complaint of the last year now resolved (20 at most). Unknown when the
    customer has complained of nothing in a year.
    """
    if not facts.open_complaints and not facts.resolved_complaints:
        return Factor("complaints", None)
    reasons, lost = [], 0
    worst = None
    for complaint in facts.open_complaints:
        breached = complaint_urgency(SimpleNamespace(**complaint), facts.now) == "breached"
        points = SEVERITY_POINTS.get(complaint["severity"], SEVERITY_POINTS["medium"])
        points += BREACHED_POINTS if breached else 0
        lost += points
        reasons.append({"code": "complaint_open", "points": points, "summary": complaint["summary"],
                        "severity": complaint["severity"], "opened": complaint["opened_at"],
                        "breached": breached, "id": complaint["pk"]})
        if worst is None or points > worst[0]:
            worst = (points, complaint)
    if facts.resolved_complaints:
        points = min(RECENT_COMPLAINT_CAP, RECENT_COMPLAINT_POINTS * facts.resolved_complaints)
        lost += points
        reasons.append({"code": "complaints_resolved", "points": points,
                        "count": facts.resolved_complaints})
    action = None
    if worst is not None:
        action = {"kind": "resolve_complaint", "id": worst[1]["pk"], "summary": worst[1]["summary"],
                  "status": worst[1]["status"]}
    return Factor("complaints", max(0, 100 - lost), reasons, action)


def promises(facts):
    """
    100 less 25 for each open promise past its date (and 2 a day overdue, 50 at most each), 20
    for each broken and 10 for each kept late in the last 180 days. Unknown without promises.
    """
    if not facts.open_promises and not facts.broken_promises and not facts.late_promises:
        return Factor("promises", None)
    reasons, lost, worst = [], 0, None
    for promise in facts.open_promises:
        days = (facts.today - promise["due_on"]).days
        if days <= 0:
            continue
        points = min(OVERDUE_PROMISE_CAP, OVERDUE_PROMISE_POINTS + OVERDUE_PROMISE_DAILY * days)
        lost += points
        reasons.append({"code": "promise_overdue", "points": points, "description": promise["description"],
                        "days": days, "due": promise["due_on"], "id": promise["pk"]})
        if worst is None or points > worst[0]:
            worst = (points, promise)
    if facts.broken_promises:
        points = BROKEN_PROMISE_POINTS * facts.broken_promises
        lost += points
        reasons.append({"code": "promises_broken", "points": points, "count": facts.broken_promises})
    if facts.late_promises:
        points = LATE_PROMISE_POINTS * facts.late_promises
        lost += points
        reasons.append({"code": "promises_late", "points": points, "count": facts.late_promises})
    action = None
    if worst is not None:
        action = {"kind": "keep_promise", "id": worst[1]["pk"], "description": worst[1]["description"]}
    return Factor("promises", max(0, 100 - lost), reasons, action)


def purchases(facts):
    """
    The mean of two parts, each when it can be told: the trend, the last 90 days' purchases as a
    share of the 90 days' before (100 at or above them); and the rhythm, 100 while the time since
    the last purchase is within the customer's usual gap between purchases (over two years), down
    to 0 at three gaps. Unknown without purchases in two years.
    """
    if not facts.purchase_count:
        return Factor("purchases", None)
    parts, reasons = [], []
    recent, before = facts.purchases_recent, facts.purchases_before
    if before:
        trend = min(100, recent * 100 // before)
        parts.append(trend)
        if trend < 100:
            reasons.append({"code": "purchases_down", "points": 100 - trend, "percent": 100 - trend,
                            "recent": recent, "before": before})
    elif recent:
        parts.append(100)
    if facts.purchase_count >= 2:
        gap = max(1, (facts.last_purchase_on - facts.first_purchase_on).days // (facts.purchase_count - 1))
        since = max(0, (facts.today - facts.last_purchase_on).days)
        rhythm = 100 if since <= gap else max(0, 100 - 50 * (since - gap) // gap)
        parts.append(rhythm)
        if rhythm < 100:
            reasons.append({"code": "purchase_overdue", "points": 100 - rhythm, "days": since,
                            "gap": gap, "last": facts.last_purchase_on})
    if not parts:
        return Factor("purchases", None)
    return Factor("purchases", sum(parts) // len(parts), reasons,
                  {"kind": "log_call"} if reasons else None)


def engagement(facts):
    """
    60, plus 10 for each inbound touch in 90 days (30 at most) and each survey answered in a year
    (20 at most), less 10 for each invitation ignored (30 at most), 40 when every contact with an
    email address has unsubscribed or 20 when some have. Unknown without any of these signals.
    """
    if not (facts.inbound_touches or facts.invitations or facts.contacts_unsubscribed):
        return Factor("engagement", None)
    score, reasons = ENGAGEMENT_BASE, []
    if facts.inbound_touches:
        score += min(INBOUND_CAP, INBOUND_POINTS * facts.inbound_touches)
        reasons.append({"code": "inbound", "points": 0, "count": facts.inbound_touches})
    if facts.invitations_answered:
        score += min(ANSWER_CAP, ANSWER_POINTS * facts.invitations_answered)
    if facts.invitations_ignored:
        points = min(IGNORED_CAP, IGNORED_POINTS * facts.invitations_ignored)
        score -= points
        reasons.append({"code": "surveys_ignored", "points": points, "count": facts.invitations_ignored})
    action = None
    if facts.contacts_unsubscribed:
        every = facts.contacts_unsubscribed >= facts.contacts_with_email
        points = ALL_UNSUBSCRIBED_POINTS if every else SOME_UNSUBSCRIBED_POINTS
        score -= points
        reasons.append({"code": "all_unsubscribed" if every else "some_unsubscribed", "points": points,
                        "count": facts.contacts_unsubscribed, "of": facts.contacts_with_email,
                        "on": facts.last_unsubscribed_on})
        if every:
            action = {"kind": "log_call"}
    score = max(0, min(100, score))
    return Factor("engagement", score, reasons, action)


# Helpers ----------------------------------------------------------------------------------------


def _percent(part, whole):
    return round(100 * part / whole) if whole else None


_PLAIN = frozenset({str, int, float, bool, type(None)})  # JSON as they are


def _jsonable(value):
    """``value`` with its dates and times as ISO strings: what JSON keeps (and the database returns)."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, dict):
        return {key: item if type(item) in _PLAIN else _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
