"""
The people an import may name as a customer's owner, read once for the whole file: a cell names a
user by username, by email or by full name ("Dana Doe"), regardless of case, tried in that order.
Each user comes with whether the import may make them an owner (active, and for a web import one of
the people its user may assign) and the teams they work in, for the rule of who may own a team's
customers (``Team.objects.visible_to``: member, manager or admin).
"""

from django.contrib.auth import get_user_model

from ..models import Team
from ..parsing import full_name


class People:
    def __init__(self, *, assignable=None):
        """``assignable``: the pks of the users a web import's user may assign, or None (any)."""
        self.assignable = assignable
        self.by_pk = {}
        self.teams = {}  # user pk → ids of the teams the user works in
        self.superusers = set()
        self._lookups = ({}, {}, {})  # username, email, full name (lower case) → [users]
        users = get_user_model().objects.only(
            "pk", "username", "email", "first_name", "last_name", "is_active", "is_superuser"
        ).order_by("pk")
        for user in users:
            self.by_pk[user.pk] = user
            self.teams[user.pk] = set()
            if user.is_superuser:
                self.superusers.add(user.pk)
            keys = (user.username, user.email, full_name(user.first_name, user.last_name))
            for lookup, key in zip(self._lookups, keys, strict=True):
                if key:
                    lookup.setdefault(key.lower(), []).append(user)
        for through in (Team.members.through, Team.managers.through):
            for user_id, team_id in through.objects.values_list("user_id", "team_id"):
                self.teams.setdefault(user_id, set()).add(team_id)

    def find(self, value):
        """``(user, others)``: the one user ``value`` names (or None), else those it could be."""
        key = value.strip().lower()
        for lookup in self._lookups:
            users = lookup.get(key, [])
            if len(users) == 1:
                return users[0], []
            if users:
                return None, users
        return None, []

    def usable(self, user):
        return user.is_active and (self.assignable is None or user.pk in self.assignable)

    def may_own(self, user, team):
        """Whoever sees the team may own its customers: a member, a manager, an admin."""
        return user.pk in self.superusers or team.pk in self.teams.get(user.pk, ())

    def of(self, pk):
        return self.by_pk.get(pk)

