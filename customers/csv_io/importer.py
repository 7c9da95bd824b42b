"""
The import engine: ``CsvImport`` checks a customers CSV and imports it, all rows or none, or, when
the user chose so, the valid rows without the ones that have problems.

Each pass is a stream over the file read in batches of ``batch_size`` rows, so memory stays flat
whatever the file's length: only the external ids, emails and domains seen so far, the pending
``referred_by`` references and each row's outcome are kept for the whole file.

- ``CsvImport.check(path)`` checks every row and tells what it would do (created, updated with what
  changes, unchanged, a duplicate of an earlier row, or its problems); it writes nothing (the
  preview, ``--dry-run``).
- ``CsvImport.run(path)`` checks everything again inside one transaction and writes as it goes;
  any problem, found in any row, rolls the whole transaction back (``ImportRefused``).
- ``CsvImport.run(path, skip_invalid=True)`` checks the file inside the transaction, then imports
  every row but those with problems; a row that turns out to have one only then (the data changed
  meanwhile), or rows with problems other than the preview's ones (``expect_invalid``), refuse it
  all. A row whose ``referred_by`` names a row with problems has a problem too.

Each row is read (``reading``), parsed (``rows``), found in the database (``matching``), checked
here (owner and team through ``owners``, access, the status lifecycle of ``customers.changes``)
and, in a run, written (``writing``).
"""

import functools
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.utils import timezone

from ..changes import status_change_problems
from ..history import actor
from ..models import Customer, Team
from ..selectors import assignable_users
from .matching import Matcher
from .owners import People
from .reading import FileOptions, data_rows
from .report import KEEP_PROBLEMS, Outcome, Report, show
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
    name: str  # the customer's name after the row


class CsvImport:
    """
    Checks and imports a customers CSV.

    ``user`` is recorded in the history (None for the command). ``default_owner`` owns new rows that
    name no owner. With ``restrict``, ``user`` may only name the teams and owners the browser would
    offer them (``Team.objects.visible_to``, ``assignable_users``), update the customers they see,
    and find by email or domain only those. ``options`` (a ``FileOptions``) says how to read the
    file, ``targets`` how its columns map to fields (None: by the header's names).
    """

    def __init__(self, *, user=None, default_owner=None, restrict=False, on_problem=None,
                 keep_problems=KEEP_PROBLEMS, batch_size=BATCH_SIZE, options=None, targets=None):
        self.user = actor(user)
        self.default_owner = default_owner
        self.restrict = restrict
        self.batch_size = batch_size
        self.options = options or FileOptions()
        self.targets = targets
        self._on_problem = on_problem
        self._keep = keep_problems

    # The passes.

    def check(self, path):
        """Check the whole file and tell what each row would do; write nothing."""
        self._start(dry=True)
        self._pass(path)
        return self.report

    def run(self, path, *, skip_invalid=False, expect_invalid=None):
        """
        Check again and import in one transaction; ``ImportRefused`` when anything is wrong. With
        ``skip_invalid``, the rows with problems are left out instead (``report.skipped``), unless
        the file itself has a problem or the rows with problems are not ``expect_invalid``.
        """
        try:
            with transaction.atomic():
                skip = {}
                if skip_invalid:
                    checked = self.check(path)
                    expected = expect_invalid is None or set(expect_invalid) == set(checked.invalid)
                    if checked.file_problems or not expected:
                        raise ImportRefused(checked)
                    skip = checked.invalid
                self._start(dry=False)
                self._pass(path, skip=skip)
                if self._blocked:
                    raise ImportRefused(self.report)
                self.report.skipped = len(skip)
        except DatabaseError as error:
            # A concurrent change the checks could not see (e.g. the same external id created
            # meanwhile). Nothing was written: the transaction rolled back.
            self.report.add(1, "file", f"the database refused the import ({error}); nothing was "
                                       "imported, try again")
            raise ImportRefused(self.report.finish()) from error
        return self.report

    def _start(self, *, dry):
        self.dry = dry
        self._blocked = False  # a problem outside the rows to skip: nothing more is written
        self._duplicates = {}  # row number → the earlier row it repeats
        self.report = Report(on_problem=self._on_problem, keep=self._keep)
        self._parser = RowParser(self.report, date_order=self.options.date_order)
        self._writer = ImportWriter(user=self.user, now=timezone.now(), report=self.report,
                                    batch_size=self.batch_size, dry=dry)
        teams = Team.objects.visible_to(self.user) if self.restrict else Team.objects.all()
        self._teams = {team.name: team for team in teams}
        self._teams_by_lower_name = {name.lower(): team for name, team in self._teams.items()}
        self._teams_by_pk = {team.pk: team for team in self._teams.values()}
        assignable = (
            set(assignable_users(self.user).values_list("pk", flat=True)) if self.restrict else None
        )
        self._people = People(assignable=assignable)
        self._matcher = Matcher(match_website=self.options.match_website,
                                team_ids=set(self._teams_by_pk) if self.restrict else None)

    def _pass(self, path, *, skip=None):
        skip = skip or {}
        batch = []
        for number, cells in data_rows(path, self.report, self.options, self.targets):
            row = self._parser.parse(number, cells)
            self.report.names[number] = row.display_name
            batch.append(row)
            if len(batch) >= self.batch_size:
                self._batch(batch, skip)
                batch = []
        if batch:
            self._batch(batch, skip)
        if self.report.file_problems:
            self._blocked = True
        imported = {
            ext: number for ext, number in self._parser.rows_by_external_id.items()
            if self.report.outcomes.get(number) is not None
            and self.report.outcomes[number].kind != "duplicate" and number not in skip
            and number not in self.report.invalid
        }
        if self.dry:
            self._reference_cascade(imported)
            self._writer.references_apply(in_file=imported)
        elif not self._blocked:
            self._writer.references_apply(in_file=imported)
            self._blocked = any(number not in skip for number in self.report.invalid)
        for number, lines in skip.items():  # rows left out that meanwhile lost their problems
            self.report.invalid.setdefault(number, lines)
        self.report.finish()

    # Checking against the database.

    def _batch(self, rows, skip):
        customers = self._matcher.customers(rows, lock=not self.dry)
        for customer in customers.values():
            # Owner and team from those read for the whole file, not a query each.
            customer.owner = self._people.of(customer.owner_id) if customer.owner_id else None
            if customer.team_id in self._teams_by_pk:
                customer.team = self._teams_by_pk[customer.team_id]
        plans = []
        for row in rows:
            customer = customers.get(row.number)
            invalid = row.number in self.report.invalid or row.number in skip
            earlier = None if invalid else self._matcher.duplicate_of(row, customer)
            ambiguous = self._matcher.ambiguous.pop(row.number, None)
            if ambiguous is not None and earlier is None:
                self.report.add(row.number, *ambiguous)
            if earlier is not None:
                self._duplicates[row.number] = earlier
                self.report.outcomes[row.number] = Outcome(
                    "duplicate", row.display_name, customer.pk if customer else None,
                    f"the same customer as row {earlier}; left out",
                )
                continue
            plan = self._plan(row, customer)
            if plan is not None and row.number not in self.report.invalid and row.number not in skip:
                self._matcher.claim(row, customer)
                plans.append(plan)
            elif row.number in self.report.invalid and row.number not in skip:
                self._blocked = True
        self._writer.write(plans, dry=self.dry or self._blocked)

    def _plan(self, row, customer):
        """Decide name, owner and team for a row; report what cannot be resolved."""
        add = functools.partial(self.report.add, row.number)
        if customer is not None and self.restrict and customer.team_id not in self._teams_by_pk:
            add("external_id", f"{show(row.external_id or '')} is a customer of a team you do not "
                               "work with; you cannot update it")
            return None
        ok = True
        name = row.fields.get("name") or (customer.name if customer is not None else row.person_name)

        status = row.fields.get("status")
        if customer is not None and status is not None and status != customer.status:
            problem = _status_problem(customer, status)
            if problem is not None:
                add("status", problem)
                ok = False

        owner, ok = self._owner(row, customer, ok)

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
            candidates = self._people.teams.get(owner.pk, set()) & self._teams_by_pk.keys()
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
            if moved and not self._people.may_own(owner, team):
                add("owner", f"{owner.username} is not in the team {team.name}")
                ok = False

        if row.contact is not None and not row.contact.get("name"):
            if customer is None or not customer.import_contacts:
                # A phone or email with no person to it: the customer's own line, named as it.
                row.contact["name"] = name

        return Plan(row, customer, owner, team, name) if ok else None

    def _owner(self, row, customer, ok):
        """The owner after the row, by username, email or full name; and whether that is fine."""
        if row.owner is None:
            return (customer.owner if customer is not None else self.default_owner), ok
        owner, others = self._people.find(row.owner)
        if others:
            names = ", ".join(user.username for user in others[:5])
            self.report.add(row.number, "owner", f"{show(row.owner)} could be {len(others)} people "
                                                 f"({names}); use the username")
            return None, False
        unchanged = customer is not None and owner is not None and owner.pk == customer.owner_id
        if owner is None or not (self._people.usable(owner) or unchanged):
            whose = "someone in your teams" if self.restrict else "an active user"
            self.report.add(row.number, "owner", f"unknown owner {show(row.owner)}; use the username, "
                                                 f"email or full name of {whose}")
            return None, False
        return owner, ok

    def _reference_cascade(self, imported):
        """
        A ``referred_by`` must name a customer in the database or a row of the file that is
        imported: one naming a row with problems (or a duplicate) has a problem too, and so, in
        turn, has a row naming that one.
        """
        rows = self._parser.rows_by_external_id
        references = self._writer.pending_references()
        exts = sorted({ext for _, ext in references})
        on_file = set()
        for start in range(0, len(exts), self.batch_size):
            on_file.update(Customer.objects.filter(external_id__in=exts[start:start + self.batch_size])
                           .values_list("external_id", flat=True))
        referrers = {}
        for number, ext in references:
            if ext not in on_file:
                referrers.setdefault(ext, []).append(number)
        ext_of = {number: ext for ext, number in rows.items()}
        queue = [ext for ext in referrers if ext not in imported]
        while queue:
            ext = queue.pop()
            target = rows.get(ext)
            if target is None:
                why = f"no customer has the external id {show(ext)}, neither in the database nor in this file"
            elif target in self.report.invalid:
                why = f"{show(ext)} is row {target}, which has problems, so it is not imported"
            else:
                why = (f"{show(ext)} is row {target}, which repeats row {self._duplicates.get(target)}, "
                       "so it is not imported")
            for number in referrers.get(ext, ()):
                if number in self.report.invalid:
                    continue
                self.report.add(number, "referred_by", why)
                own = ext_of.get(number)
                if own is not None and imported.pop(own, None) is not None:
                    queue.append(own)


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
