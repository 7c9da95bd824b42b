"""
The import engine: ``CsvImport`` validates a customers CSV and imports it, all rows or none.

Import works in two passes over the file, each a stream read in batches of ``batch_size`` rows, so
memory stays flat whatever the file's length: only the external ids seen so far and the pending
``referred_by`` references are kept for the whole file.

- ``CsvImport.check(path)`` validates and counts, and writes nothing (the preview, ``--dry-run``).
- ``CsvImport.run(path)`` validates everything again inside one transaction and writes as it goes;
  any problem, found in any row, rolls the whole transaction back (``ImportRefused``).

Each row is read (``reading``), parsed (``rows``), checked here against the database (the customer
it updates, owner and team, access, the status lifecycle of ``customers.changes``) and, in a run,
written (``writing``).
"""

import functools
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.utils import timezone

from ..changes import status_change_problems
from ..history import actor
from ..models import Contact, Customer, Team
from ..selectors import assignable_users
from .reading import KEEP_PROBLEMS, Report, data_rows, show
from .rows import Row, RowParser
from .writing import ImportWriter

BATCH_SIZE = 1000


class ImportRefused(Exception):
    def __init__(self, report):
        super().__init__(f"{report.problem_count} problem(s); nothing was imported")
        self.report = report


@dataclass(slots=True)
class Plan:
    """A row checked against the database: what to create or which customer to update."""

    row: Row
    customer: Customer | None
    owner: object | None  # the User who owns the customer after the row
    team: Team | None


class CsvImport:
    """
    Validates and imports a customers CSV.

    ``user`` is recorded in the history (None for the command). ``default_owner`` owns new rows that
    name no owner. With ``restrict``, ``user`` may only name the teams and owners the browser would
    offer them (``Team.objects.visible_to``, ``assignable_users``) and update the customers they see.
    """

    def __init__(self, *, user=None, default_owner=None, restrict=False, on_problem=None,
                 keep_problems=KEEP_PROBLEMS, batch_size=BATCH_SIZE):
        self.user = actor(user)
        self.default_owner = default_owner
        self.restrict = restrict
        self.batch_size = batch_size
        self._on_problem = on_problem
        self._keep = keep_problems

    # The two passes.

    def check(self, path):
        """Validate the whole file and count what it would do; write nothing."""
        self._start()
        self._pass(path, write=False)
        return self.report

    def run(self, path):
        """Validate again and import in one transaction; ``ImportRefused`` when anything is wrong."""
        self._start()
        try:
            with transaction.atomic():
                self._pass(path, write=True)
                if not self.report.ok:
                    raise ImportRefused(self.report)
        except DatabaseError as error:
            # A concurrent change the checks could not see (e.g. the same external id created
            # meanwhile). Nothing was written: the transaction rolled back.
            self.report.add(1, "file", f"the database refused the import ({error}); nothing was "
                                       "imported, try again")
            raise ImportRefused(self.report) from error
        return self.report

    def _start(self):
        self.report = Report(on_problem=self._on_problem, keep=self._keep)
        self._parser = RowParser(self.report)
        self._writer = ImportWriter(user=self.user, now=timezone.now(), report=self.report,
                                    batch_size=self.batch_size)
        self._references = []  # (row number, external id): checked at the end of the check pass
        teams = Team.objects.visible_to(self.user) if self.restrict else Team.objects.all()
        self._teams = {team.name: team for team in teams}
        self._teams_by_lower_name = {name.lower(): team for name, team in self._teams.items()}
        self._teams_by_pk = {team.pk: team for team in self._teams.values()}
        self._assignable = (
            set(assignable_users(self.user).values_list("pk", flat=True)) if self.restrict else None
        )
        self._users = {}  # username → (User, usable), or None when nobody has it
        self._users_by_pk = {}
        self._user_teams = {}  # user pk → ids of the teams the user works in
        self._superusers = set()
        if self.default_owner is not None:
            self._load_users([self.default_owner.username])

    def _pass(self, path, *, write):
        batch = []
        for number, cells in data_rows(path, self.report):
            batch.append(self._parser.parse(number, cells))
            if len(batch) >= self.batch_size:
                self._batch(batch, write=write)
                batch = []
        if batch:
            self._batch(batch, write=write)
        if not write:
            self._check_references()
        elif self.report.ok:
            self._writer.references_apply()

    # Checking against the database.

    def _batch(self, rows, *, write):
        customers = self._existing([row.external_id for row in rows if row.external_id], lock=write)
        self._load_users({row.owner for row in rows if row.owner}
                         | {c.owner_id for c in customers.values() if c.owner_id})
        plans = []
        for row in rows:
            plan = self._plan(row, customers.get(row.external_id))
            if plan is not None:
                plans.append(plan)
        if not write:
            for plan in plans:
                if plan.customer is None:
                    self.report.created += 1
                else:
                    self.report.updated += 1
                if plan.row.referred_by:
                    self._references.append((plan.row.number, plan.row.referred_by))
        elif self.report.ok:
            self._writer.write(plans)

    def _existing(self, external_ids, *, lock):
        """
        The batch's existing customers, with owner and team, each with ``import_tags`` (names) and
        ``import_contacts`` (primary first): read with two plain queries, as prefetch_related is
        slow at this scale.
        """
        if not external_ids:
            return {}
        customers = Customer.objects.filter(external_id__in=external_ids).select_related(
            "owner", "team"
        ).order_by()
        if lock:
            customers = customers.select_for_update(of=("self",))
        by_pk = {customer.pk: customer for customer in customers}
        for customer in by_pk.values():
            customer.import_tags, customer.import_contacts = [], []
        for customer_id, name in Customer.tags.through.objects.filter(
            customer_id__in=by_pk
        ).values_list("customer_id", "tag__name"):
            by_pk[customer_id].import_tags.append(name)
        for contact in Contact.objects.filter(customer_id__in=by_pk).order_by(
            "customer_id", "-is_primary", "name", "pk"
        ):
            by_pk[contact.customer_id].import_contacts.append(contact)
        return {customer.external_id: customer for customer in by_pk.values()}

    def _load_users(self, names_or_ids):
        names = {n for n in names_or_ids if isinstance(n, str) and n not in self._users and len(n) <= 150}
        ids = {n for n in names_or_ids if isinstance(n, int) and n not in self._users_by_pk}
        if not names and not ids:
            return
        User = get_user_model()
        found = User.objects.filter(username__in=names) | User.objects.filter(pk__in=ids)
        new_ids = []
        for user in found.only("pk", "username", "is_active", "is_superuser"):
            usable = user.is_active and (self._assignable is None or user.pk in self._assignable)
            self._users[user.username] = (user, usable)
            self._users_by_pk[user.pk] = user
            self._user_teams.setdefault(user.pk, set())
            if user.is_superuser:
                self._superusers.add(user.pk)
            new_ids.append(user.pk)
        for name in names:
            self._users.setdefault(name, None)
        for through in (Team.members.through, Team.managers.through):
            for user_id, team_id in through.objects.filter(user_id__in=new_ids).values_list(
                "user_id", "team_id"
            ):
                self._user_teams[user_id].add(team_id)

    def _plan(self, row, customer):
        """Decide owner and team for a row; report what cannot be resolved."""
        add = functools.partial(self.report.add, row.number)
        if customer is not None and self.restrict and customer.team_id not in self._teams_by_pk:
            add("external_id", f"{show(row.external_id)} is a customer of a team you do not work "
                               "with; you cannot update it")
            return None
        ok = True

        status = row.fields.get("status")
        if customer is not None and status is not None and status != customer.status:
            problem = _status_problem(customer, status)
            if problem is not None:
                add("status", problem)
                ok = False

        if row.owner is None:
            owner = customer.owner if customer is not None else self.default_owner
        else:
            found = self._users.get(row.owner)
            owner = found[0] if found else None
            unchanged = customer is not None and owner is not None and owner.pk == customer.owner_id
            if not found or not (found[1] or unchanged):
                add("owner", f"unknown owner {show(row.owner)}; use the username of "
                             + ("someone in your teams" if self.restrict else "an active user"))
                ok = False

        if row.team is not None:
            team = self._teams.get(row.team) or self._teams_by_lower_name.get(row.team.lower())
            if team is None:
                choices = sorted(self._teams)
                hint = f"; use one of {', '.join(choices)}" if 0 < len(choices) <= 10 else ""
                add("team", f"unknown team {show(row.team)}{hint}")
                ok = False
        elif customer is not None:
            team = customer.team
        elif owner is not None and ok:
            candidates = self._user_teams.get(owner.pk, set()) & self._teams_by_pk.keys()
            team = self._teams_by_pk[next(iter(candidates))] if len(candidates) == 1 else None
            if team is None:
                add("team", f"missing, and {owner.username} is in {len(candidates)} of the teams you "
                            "may use, not exactly one; name the team")
                ok = False
        else:
            team = None
            if ok:
                add("team", "missing; name a team, or an owner who is in exactly one team")
                ok = False

        if ok and owner is not None and team is not None:
            moved = customer is None or owner.pk != customer.owner_id or team.pk != customer.team_id
            # Who may own a team's customers is whoever sees the team (``Team.objects.visible_to``:
            # member, manager or admin), read here in bulk for the whole file.
            in_team = owner.pk in self._superusers or team.pk in self._user_teams.get(owner.pk, ())
            if moved and not in_team:
                add("owner", f"{owner.username} is not in the team {team.name}")
                ok = False

        if row.contact is not None and not row.contact.get("name"):
            has_contact = customer is not None and len(customer.import_contacts) > 0
            if not has_contact:
                add("contact_name", "missing; a new contact needs a name")
                ok = False

        return Plan(row, customer, owner, team) if ok else None

    def _check_references(self):
        """``referred_by`` must name a customer in the database or in the file."""
        in_file = self._parser.rows_by_external_id
        unknown = [(n, ext) for n, ext in self._references if ext not in in_file]
        for start in range(0, len(unknown), self.batch_size):
            chunk = unknown[start:start + self.batch_size]
            known = set(Customer.objects.filter(external_id__in={ext for _, ext in chunk})
                        .values_list("external_id", flat=True))
            for number, ext in chunk:
                if ext not in known:
                    self.report.add(number, "referred_by", f"no customer has the external id {show(ext)}, "
                                                           "neither in the database nor in this file")


def _status_problem(customer, status):
    """The lifecycle's objection to ``customer`` taking ``status`` from a file, or None."""
    problems = status_change_problems(old=customer.status, new=status,
                                      churn_reason=customer.churn_reason)
    if "status" in problems:
        return problems["status"][0].lower() + problems["status"][1:].rstrip(".")
    if problems:  # a file has no column for the reason
        return ("a churn needs a reason, which a CSV file cannot give; record the churn on the "
                "customer's page")
    return None
