"""
The survey results, read for the results page, a campaign's page and the CSV export.

Who sees what: admins every answer, managers those of the teams they see, account managers their
own book's (the customers they own). Every figure is an aggregate in the database, grouped once:
the page costs the same dozen queries at a hundred answers or a hundred thousand.

The arithmetic: NPS is the share of promoters (9–10) minus the share of detractors (0–6), in
percent, −100…100 (no answers: no NPS, not 0). CSAT is the share of satisfied answers (4–5).
"""

import dataclasses
import datetime

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, ExpressionWrapper, F, IntegerField, Q, Sum, Value
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils import timezone

from customers.access import is_manager
from customers.models import Team, filter_visible

from .models import AnswerTally, Campaign, Invitation, InvitationTally, Response, Survey

MONTHS = 12
COMMENTS_SHOWN = 20


def nps(promoters, passives, detractors):
    """% promoters − % detractors, rounded, or None without answers."""
    total = promoters + passives + detractors
    if not total:
        return None
    return round(100 * (promoters - detractors) / total)


def csat(satisfied, total):
    """% of answers that are satisfied (4–5), or None without answers."""
    return round(100 * satisfied / total) if total else None


def scoped(queryset, user, *, manager=None):
    """
    ``queryset`` (invitations or responses) cut to what ``user`` may read of the results: the rule
    of ``filter_visible`` and an account manager's own book, on the customer's team and account
    manager as each row carries them (``customers/books.py``), without joining the customers.
    ``manager``: whether ``user`` is one, when the caller knows it already.
    """
    queryset = filter_visible(queryset, user, customer="")
    if not (is_manager(user) if manager is None else manager):
        queryset = queryset.filter(owner=user)
    return queryset


@dataclasses.dataclass
class Tally:
    """Answers of one kind in one group, by category."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    FIELDS = {"promoter": "promoters", "passive": "passives", "detractor": "detractors"}

    def add(self, category, n):
        field = self.FIELDS[category]
        setattr(self, field, getattr(self, field) + n)

    @property
    def total(self):
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self):
        return nps(self.promoters, self.passives, self.detractors)

    @property
    def csat(self):
        return csat(self.promoters, self.total)

    def _share(self, n):
        return round(100 * n / self.total) if self.total else 0

    @property
    def promoter_share(self):
        return self._share(self.promoters)

    @property
    def passive_share(self):
        return self._share(self.passives)

    @property
    def detractor_share(self):
        return self._share(self.detractors)


def survey_results(*, user, campaign=None, today=None):
    """
    Everything the results page shows, for ``user``, overall or for one campaign.

    The answers are counted in the database by each grouping the page shows, in one query
    (``_answer_counts``: a few hundred rows at most); the invitations once, per campaign. On
    PostgreSQL both add up the tallies the database keeps (``surveys/tallies.py``), so the page
    costs the same handful of small queries however many answers there are.
    """
    today = today or timezone.localdate()
    manager = is_manager(user)
    responses = scoped(Response.objects.all(), user, manager=manager)
    if campaign is not None:
        responses = responses.filter(campaign=campaign)

    per_campaign = _invitation_counts(user, campaign, manager)
    funnel = {key: sum(row[key] for row in per_campaign) for key in ("sent", "opened", "answered")}
    funnel["rate"] = round(100 * funnel["answered"] / funnel["sent"]) if funnel["sent"] else None

    start = (today.replace(day=1) - datetime.timedelta(days=31 * (MONTHS - 1))).replace(day=1)
    months = _month_starts(start, today)
    by_kind = {kind: Tally() for kind in Survey.Kind.values}
    distribution = {
        kind: dict.fromkeys(range(0, 11) if kind == "nps" else range(1, 6), 0) for kind in Survey.Kind.values
    }
    monthly, by_team, by_owner, by_campaign = {}, {}, {}, {}
    counts = _answer_counts(user, campaign, manager)
    for grouping, kind, category, score, month, of_campaign, team, owner, n in counts:
        if grouping == "score":
            by_kind[kind].add(category, n)
            distribution[kind][score] += n
        elif grouping == "month":
            month = datetime.date(int(month) // 100, int(month) % 100, 1)
            if month >= start:
                monthly.setdefault((month, kind), Tally()).add(category, n)
        elif grouping == "campaign":
            by_campaign.setdefault((of_campaign, kind), Tally()).add(category, n)
        else:  # an account manager's book in a team: both tallies
            by_team.setdefault((team, kind), Tally()).add(category, n)
            by_owner.setdefault((owner, kind), Tally()).add(category, n)

    teams = dict(Team.objects.filter(pk__in={team for team, _ in by_team}).values_list("pk", "name"))
    owners = get_user_model().objects.in_bulk([owner for owner, _ in by_owner if owner])
    return {
        "funnel": funnel,
        "by_kind": by_kind,
        "distribution": distribution,
        "months": [
            {"month": m, **{kind: monthly.get((m, kind), Tally()) for kind in Survey.Kind.values}}
            for m in months
        ],
        "groups": [
            (
                "By team",
                sorted(
                    ((teams.get(t, "—"), tallies) for t, tallies in _groups(by_team)),
                    key=lambda item: item[0],
                ),
            ),
            ("By account manager", [(owners.get(owner), tallies) for owner, tallies in _groups(by_owner)]),
        ],
        "comments": list(
            responses.exclude(comment="")
            .select_related("customer", "survey")
            .order_by("-created_at", "-pk")[:COMMENTS_SHOWN]
        ),
        "campaigns": campaign_table(per_campaign, by_campaign) if campaign is None else [],
    }


def tallied():
    """
    Whether PostgreSQL keeps the counts (``surveys/tallies.py``), so the page adds up a few
    thousand tally rows instead of counting every row: on SQLite the rows are counted.
    """
    return connection.vendor == "postgresql"


def _invitation_counts(user, campaign, manager):
    """[{campaign (None for none), sent, opened, answered}] of the invitations ``user`` may see."""
    if tallied():
        invitations = scoped(InvitationTally.objects.all(), user, manager=manager)
        counts = {"sent": Sum("sent"), "opened": Sum("opened"), "answered": Sum("answered")}
    else:
        invitations = scoped(Invitation.objects.all(), user, manager=manager)
        counts = {
            "sent": Count("pk"),
            "opened": Count("pk", filter=Q(opened_at__isnull=False) | Q(answered_at__isnull=False)),
            "answered": Count("pk", filter=Q(answered_at__isnull=False)),
        }
    if campaign is not None:
        invitations = invitations.filter(campaign=campaign)
    rows = list(invitations.order_by().values("campaign").annotate(**counts))
    for row in rows:
        row["campaign"] = row["campaign"] or None  # a tally's 0: none
    return rows


# The answers counted four ways from one read: by score (the distribution and the totals), by month,
# by campaign, and by book (team and account manager). PostgreSQL does it in one pass (grouping
# sets); SQLite, which has none, counts a common table expression four times.
_GROUPED = {
    "postgresql": """
        SELECT CASE GROUPING(score, month, campaign, team)
                 WHEN 7 THEN 'score' WHEN 11 THEN 'month' WHEN 13 THEN 'campaign' ELSE 'book' END,
               kind, category, score, month, campaign, team, owner, SUM(n)
        FROM ({answers}) AS answers (month, kind, category, score, campaign, team, owner, n)
        GROUP BY GROUPING SETS ((kind, category, score), (kind, category, month),
                                (kind, category, campaign), (kind, category, team, owner))
    """,
    "sqlite": """
        WITH answers (month, kind, category, score, campaign, team, owner, n) AS ({answers})
        SELECT 'score', kind, category, score, NULL, NULL, NULL, NULL, SUM(n)
          FROM answers GROUP BY kind, category, score
        UNION ALL SELECT 'month', kind, category, NULL, month, NULL, NULL, NULL, SUM(n)
          FROM answers GROUP BY kind, category, month
        UNION ALL SELECT 'campaign', kind, category, NULL, NULL, campaign, NULL, NULL, SUM(n)
          FROM answers GROUP BY kind, category, campaign
        UNION ALL SELECT 'book', kind, category, NULL, NULL, NULL, team, owner, SUM(n)
          FROM answers GROUP BY kind, category, team, owner
    """,
}


def _answer_counts(user, campaign, manager):
    """
    The answers ``user`` may see (of ``campaign``, if given) counted by kind and category in each
    grouping the page shows, in one query: ``(grouping, kind, category, score, month, campaign,
    team, owner, n)`` rows, where grouping names the columns that count ("score"; "month", as
    year × 100 + month; "campaign"; "book", the team and the account manager) and the others
    are None. From the tallies (each row a count) on PostgreSQL, else from the answers (each one).
    """
    if tallied():
        answers, month, n = scoped(AnswerTally.objects.all(), user, manager=manager), "month", F("answers")
    else:
        answers, month, n = scoped(Response.objects.all(), user, manager=manager), "created_at", Value(1)
    if campaign is not None:
        answers = answers.filter(campaign=campaign)
    answers = answers.order_by().values_list(
        ExpressionWrapper(ExtractYear(month) * 100 + ExtractMonth(month), IntegerField()),
        "kind", "category", "score", "campaign_id", "team_id", "owner_id", n,
    )
    sql, params = answers.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_GROUPED[connection.vendor].format(answers=sql), params)
        # A tally's 0 is none: no campaign, team or account manager.
        return [(*row[:5], row[5] or None, row[6] or None, row[7] or None, row[8])
                for row in cursor.fetchall()]


def _month_starts(start, today):
    months, month = [], start
    while month <= today:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


def _groups(tallies):
    groups = {}
    for (group, kind), tally in tallies.items():
        groups.setdefault(group, {kind: Tally() for kind in Survey.Kind.values})[kind] = tally
    return sorted(groups.items(), key=lambda item: (item[0] is None, str(item[0])))


def campaign_table(per_campaign, tallies, limit=50):
    """Per campaign (the latest ``limit`` with invitations): sent, answered, rate, NPS or CSAT."""
    sent = {row["campaign"]: row for row in per_campaign if row["campaign"] is not None}
    campaigns = (
        Campaign.objects.filter(pk__in=list(sent)).select_related("survey").order_by("-scheduled_for", "-pk")
    )
    rows = []
    for campaign in campaigns[:limit]:
        counts = sent[campaign.pk]
        rows.append(
            {
                "campaign": campaign,
                "sent": counts["sent"],
                "answered": counts["answered"],
                "rate": round(100 * counts["answered"] / counts["sent"]) if counts["sent"] else None,
                "tally": tallies.get((campaign.pk, campaign.survey.kind), Tally()),
            }
        )
    return rows


def chart_data(results):
    """What the charts draw, for ``json_script``: NPS and CSAT by month, the distributions."""
    return {
        "months": [row["month"].strftime("%b %Y") for row in results["months"]],
        "nps": [row["nps"].nps for row in results["months"]],
        "csat": [row["csat"].csat for row in results["months"]],
        "distribution": {
            kind: {"labels": [str(s) for s in scores], "counts": list(scores.values())}
            for kind, scores in results["distribution"].items()
        },
    }
