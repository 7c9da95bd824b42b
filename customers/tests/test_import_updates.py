"""
Import rows that update existing customers: only what differs changes, with history and one version;
the primary contact is matched by email; the status lifecycle holds; the same file twice changes nothing.
"""

import datetime

import pytest

from customers.models import Customer, Tag
from customers.tests.csv_files import db_state, good_rows, run_command, write_csv
from customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_same_file_twice_changes_nothing(tmp_path, alice, bob, north):
    path = write_csv(tmp_path, good_rows())
    assert run_command(path)[0] == 0
    before = db_state()

    status, out = run_command(path)

    assert status == 0
    assert out == ["Imported 2 row(s): 0 created, 0 updated, 2 unchanged."]
    assert db_state() == before
    assert set(Customer.objects.values_list("version", flat=True)) == {1}


def test_an_update_changes_only_what_differs_and_keeps_history(tmp_path, alice, bob, north):
    customer = CustomerFactory(team=north, owner=alice, external_id="A-1", name="Acme", cadence_days=30,
                               customer_since=datetime.date(2020, 1, 1), source="fair")
    customer.tags.add(Tag.objects.create(name="VIP"))
    primary = ContactFactory(customer=customer, is_primary=True, name="Dana", email="dana@acme.example")
    other = ContactFactory(customer=customer, name="Sam", email="sam@acme.example")
    rows = [["external_id", "name", "owner", "tags", "cadence_days", "contact_name", "contact_email"],
            ["A-1", "Acme Ltd", "bob", "vip; new", "60", "Samuel", "SAM@acme.example"]]

    status, out = run_command(write_csv(tmp_path, rows))

    assert status == 0, out
    customer.refresh_from_db()
    assert (customer.name, customer.owner, customer.cadence_days) == ("Acme Ltd", bob, 60)
    assert customer.version == 2
    assert customer.cadence_max_days == 90  # raised with the cadence, as the constraint requires
    assert customer.source == "fair" and customer.customer_since == datetime.date(2020, 1, 1)
    assert customer.next_checkin_due == datetime.date(2020, 3, 1)
    assert sorted(t.name for t in customer.tags.all()) == ["VIP", "new"]
    changes = {c.field: (c.old_value, c.new_value, c.version) for c in customer.changes.all()}
    assert changes == {
        "name": ("Acme", "Acme Ltd", 2),
        "owner": ("alice", "bob", 2),
        "cadence_days": ("30", "60", 2),
        "cadence_max_days": ("45", "90", 2),
        "tags": ("VIP", "new; vip", 2),
    }
    other.refresh_from_db()
    primary.refresh_from_db()
    assert other.name == "Samuel"  # matched by email, case-insensitively
    assert other.email == "SAM@acme.example"
    assert primary.name == "Dana"


def test_a_contact_without_a_matching_email_updates_the_primary_contact(tmp_path, alice, north):
    customer = CustomerFactory(team=north, owner=alice, external_id="A-1", name="Acme")
    primary = ContactFactory(customer=customer, is_primary=True, name="Dana", email="dana@acme.example")
    rows = [["external_id", "name", "contact_email", "contact_birthday"],
            ["A-1", "Acme", "dana.doe@acme.example", "1980-02-29"]]
    assert run_command(write_csv(tmp_path, rows))[0] == 0
    primary.refresh_from_db()
    assert (primary.name, primary.email, primary.birthday_year) == ("Dana", "dana.doe@acme.example", 1980)
    assert customer.contacts.count() == 1


def test_a_status_change_follows_the_lifecycle(tmp_path, alice, north):
    customer = CustomerFactory(team=north, owner=alice, external_id="A-1", status="churned",
                               churn_reason="Too expensive")
    rows = [["external_id", "name", "status"], ["A-1", customer.name, "active"]]
    assert run_command(write_csv(tmp_path, rows))[0] == 0
    customer.refresh_from_db()
    assert (customer.status, customer.churn_reason) == ("active", "")
    assert customer.changes.get(field="churn_reason").old_value == "Too expensive"

    rows = [["external_id", "name", "status"], ["A-1", customer.name, "churned"]]
    status, out = run_command(write_csv(tmp_path, rows))
    assert status == 1
    assert out == ["row 2: status: a churn needs a reason, which a CSV file cannot give; record the churn "
                   "on the customer's page"]
