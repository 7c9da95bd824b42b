"""
Who may own a team's customers has one rule — whoever sees the team (a member, a manager or an
admin) — and the edit form, the bulk reassignment and the CSV import apply it alike.
"""

import csv

import pytest
from django.core.exceptions import ValidationError

from customers.csv_io.importer import CsvImport
from customers.models import Customer
from customers.services import customers_reassign
from customers.tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(north, south, maria):
    return {
        "member": _member(north),
        "manager only": _manager(north),
        "outsider": _member(south),
    }


def _member(team):
    user = UserFactory()
    team.members.add(user)
    return user


def _manager(team):
    user = UserFactory()
    team.managers.add(user)
    return user


def _by_form(client, admin_user, customer, owner):
    client.force_login(admin_user)
    response = client.post(f"/customers/{customer.pk}/edit/", {
        "name": customer.name, "status": customer.status, "owner": owner.pk, "team": customer.team_id,
        "timezone": customer.timezone, "cadence_days": customer.cadence_days,
        "cadence_max_days": customer.cadence_max_days, "version": customer.version,
    })
    customer.refresh_from_db()
    return response.status_code == 302 and customer.owner_id == owner.pk


def _by_reassign(maria, customer, owner):
    try:
        customers_reassign(user=maria, customer_ids=[customer.pk], owner=owner)
    except ValidationError:
        return False
    return Customer.objects.get(pk=customer.pk).owner_id == owner.pk


def _by_import(tmp_path, customer, owner):
    path = tmp_path / f"owner-{owner.pk}.csv"
    with open(path, "w", newline="") as out:
        csv.writer(out).writerows([["external_id", "name", "owner"],
                                   [customer.external_id, customer.name, owner.username]])
    report = CsvImport().check(path)
    assert {p.column for p in report.problems} <= {"owner"}, report.problem_lines()
    return report.ok


@pytest.mark.parametrize("who, allowed", [("member", True), ("manager only", True), ("outsider", False)])
def test_the_form_the_reassignment_and_the_import_agree_on_who_may_own(
    client, admin_user, maria, north, people, tmp_path, who, allowed
):
    owner = people[who]
    for path in ("form", "reassign", "import"):
        customer = CustomerFactory(team=north, external_id=f"OWN-{who}-{path}")
        if path == "form":
            result = _by_form(client, admin_user, customer, owner)
        elif path == "reassign":
            result = _by_reassign(maria, customer, owner)
        else:
            result = _by_import(tmp_path, customer, owner)
        assert result == allowed, f"{path} for a {who}"
