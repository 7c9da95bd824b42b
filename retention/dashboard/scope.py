"""
Whose customers the dashboard shows: a manager the teams they manage, an admin every team, an
account manager their own book — narrowed by the URL to one team, one account manager and a
period (the last 30, 90 or 365 days, compared with the same length before it). Unknown or
forbidden choices in the URL are ignored, as on the customer list.
"""

import datetime
from dataclasses import dataclass, field

from django.http import QueryDict
from django.utils import timezone

from customers.access import is_manager, managed_members
from customers.models import Customer, Team, visible_team_ids

PERIODS = {30: "Last 30 days", 90: "Last 90 days", 365: "Last 12 months"}
DEFAULT_PERIOD = 30


@dataclass
class Scope:
    user: object
    managing: bool  # a manager or an admin (else: an account manager's own book)
    teams: list = field(default_factory=list)  # the teams to choose from
    members: list = field(default_factory=list)  # the account managers to choose from
    team: Team | None = None
    owner: object = None
    days: int = DEFAULT_PERIOD
    today: datetime.date = None

    @property
    def start(self):
        return self.today - datetime.timedelta(days=self.days)

    @property
    def previous_start(self):
        return self.start - datetime.timedelta(days=self.days)

    @property
    def team_ids(self):
        return [self.team.pk] if self.team else [team.pk for team in self.teams]

    def customers(self):
        """The customers of the scope (archived ones too: callers narrow further)."""
        if not self.managing:
            return Customer.objects.visible_to(self.user).filter(owner=self.user)
        customers = Customer.objects.all()
        if not self.user.is_superuser or self.team:
            customers = customers.filter(team_id__in=self.team_ids)
        if self.owner is not None:
            customers = customers.filter(owner=self.owner)
        return customers

    def of_customers(self, queryset, path="customer"):
        """
        ``queryset`` of a model that belongs to a customer, cut to the scope's customers: by the
        customer at ``path``, or by the row's own copy of its book with ``path=""``
        (``customers/books.py``).
        """
        prefix = f"{path}__" if path else ""
        if not self.managing:
            return queryset.filter(**{f"{prefix}team_id__in": _visible_team_ids(self.user),
                                      f"{prefix}owner": self.user})
        if not self.user.is_superuser or self.team:
            queryset = queryset.filter(**{f"{prefix}team_id__in": self.team_ids})
        if self.owner is not None:
            queryset = queryset.filter(**{f"{prefix}owner": self.owner})
        return queryset

    def of_books(self, queryset):
        """``BookDay`` rows of the scope."""
        if not self.managing:
            return queryset.filter(team_id__in=_visible_team_ids(self.user), owner=self.user)
        if not self.user.is_superuser or self.team:
            queryset = queryset.filter(team_id__in=self.team_ids)
        if self.owner is not None:
            queryset = queryset.filter(owner=self.owner)
        return queryset

    def query(self, **changes):
        """The scope's URL parameters (with ``changes``), for links and exports."""
        params = QueryDict(mutable=True)
        values = {"team": self.team.pk if self.team else "", "owner": self.owner.pk if self.owner else "",
                  "period": self.days if self.days != DEFAULT_PERIOD else ""}
        values.update(changes)
        for key, value in values.items():
            if value not in ("", None):
                params[key] = str(value)
        return params.urlencode()

    @property
    def label(self):
        if not self.managing:
            return "Your book"
        parts = [self.team.name if self.team else ("All teams" if self.user.is_superuser else "Your teams")]
        if self.owner is not None:
            parts.append(self.owner.get_full_name() or self.owner.username)
        return " · ".join(parts)


def _visible_team_ids(user):
    """An account manager's own book is within the teams they see (the visibility rule's ids)."""
    return visible_team_ids(user) if user.is_authenticated and user.is_active else []


def dashboard_scope(user, params=None, today=None):
    """The scope of ``user``'s dashboard from the URL's ``params`` (team, owner, period)."""
    params = params or {}
    today = today or timezone.localdate()
    days = int(params.get("period")) if str(params.get("period", "")).isdigit() else DEFAULT_PERIOD
    days = days if days in PERIODS else DEFAULT_PERIOD
    if not is_manager(user):
        return Scope(user=user, managing=False, members=[user], owner=user, days=days, today=today)
    teams = list(Team.objects.managed_by(user).order_by("name"))
    members = list(managed_members(user))
    scope = Scope(user=user, managing=True, teams=teams, members=members, days=days, today=today)
    team = str(params.get("team", ""))
    if team.isdigit():
        scope.team = next((t for t in teams if t.pk == int(team)), None)
    owner = str(params.get("owner", ""))
    if owner.isdigit():
        scope.owner = next((m for m in members if m.pk == int(owner)), None)
    return scope
