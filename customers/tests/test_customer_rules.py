"""
One rule, every path: the same change made in the browser (the form and ``customer_update``) and
made by a CSV import gives the same customer row and the same history, because both go through
``customers.changes`` and ``customers.history``. Each test here fails if one path gets a rule of
its own again: the status lifecycle and churn reason, the check-in clock and "overdue after", tags,
and what a new customer gets.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError

from customers.checkin import default_cadence_max
from customers.csv_io.importer import CsvImport
from customers.models import Customer, Tag
from customers.services import customer_create, customer_update
from customers.tests.csv_files import write_csv
from customers.tests.factories import CustomerFactory
from customers.tests.helpers import form_data

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)
STATUSES = ["prospect", "active", "inactive", "churned"]


@pytest.fixture(autouse=True)
def frozen(time_machine):
    """Both paths stamp the same moment, so their rows and histories compare field by field."""
    time_machine.move_to(NOW, tick=False)


def twins(north, alice, **fields):
    """Two identical customers: one to change in the browser, one by a CSV file."""
    values = {"team": north, "owner": alice, "name": "Acme", "customer_since": datetime.date(2025, 1, 1),
              "timezone": "UTC", "cadence_days": 30, "cadence_max_days": 45, **fields}
    return CustomerFactory(external_id="BROWSER", **values), CustomerFactory(external_id="CSV", **values)


def csv_file(tmp_path, **cells):
    """A file that changes the CSV twin: its external id and name, then ``cells``."""
    return write_csv(tmp_path, [["external_id", "name", *cells], ["CSV", "Acme", *cells.values()]])


def run_import(path, user):
    return CsvImport(user=user).run(path)


def row_of(customer):
    """The stored customer, every column but its identity, with its tags."""
    customer.refresh_from_db()
    columns = {
        field.attname: getattr(customer, field.attname) for field in Customer._meta.concrete_fields
        if field.attname not in {"id", "external_id"}
    }
    return columns, sorted(tag.name for tag in customer.tags.all())


def history_of(customer):
    return sorted(
        (c.field, c.old_value, c.new_value, c.version, c.user_id, c.changed_at)
        for c in customer.changes.all()
    )


def assert_same(browser, csv):
    assert row_of(browser) == row_of(csv)
    assert history_of(browser) == history_of(csv)


def test_a_win_back_and_a_new_owner_read_the_same_from_the_edit_page_and_from_a_file(
    client, tmp_path, alice, bob, north
):
    browser, csv = twins(north, alice, status="churned", churn_reason="Too expensive")
    client.force_login(alice)
    response = client.post(f"/customers/{browser.pk}/edit/",
                           form_data(browser, status="active", owner=bob.pk))
    assert response.status_code == 302

    run_import(csv_file(tmp_path, status="active", owner="bob"), alice)

    assert_same(browser, csv)
    assert (csv.status, csv.churn_reason, csv.owner, csv.version) == ("active", "", bob, 2)
    assert csv.status_changed_at == NOW
    assert {entry[:3] for entry in history_of(csv)} == {
        ("status", "churned", "active"), ("churn_reason", "Too expensive", ""), ("owner", "alice", "bob"),
    }


@pytest.mark.parametrize("old", STATUSES)
@pytest.mark.parametrize("new", STATUSES)
def test_the_service_and_the_import_allow_and_refuse_the_same_status_changes(
    tmp_path, alice, north, old, new
):
    browser, csv = twins(north, alice, status=old, churn_reason="Price" if old == "churned" else "")
    try:
        customer_update(customer=browser, user=alice, data={"status": new}, version=1)
        service_refusal = None
    except ValidationError as error:
        service_refusal = error.message_dict

    path = csv_file(tmp_path, status=new)
    report = CsvImport(user=alice).check(path)

    problems = [str(problem) for problem in report.problems]
    if service_refusal is None:
        assert problems == []
        run_import(path, alice)
        assert_same(browser, csv)
    elif "status" in service_refusal:
        message = service_refusal["status"][0]
        assert problems == [f"row 2: status: {message[0].lower()}{message[1:].rstrip('.')}"]
    else:  # a churn without a reason, which a file cannot give
        assert service_refusal == {"churn_reason": ["Say why the customer churned."]}
        assert problems == ["row 2: status: a churn needs a reason, which a CSV file cannot give; record "
                            "the churn on the customer's page"]


def test_a_new_cadence_moves_the_clock_and_raises_overdue_after_alike(tmp_path, alice, north):
    browser, csv = twins(north, alice)

    customer_update(customer=browser, user=alice, data={"cadence_days": 60}, version=1)
    run_import(csv_file(tmp_path, cadence_days="60"), alice)

    assert_same(browser, csv)
    assert (csv.cadence_days, csv.cadence_max_days) == (60, default_cadence_max(60))
    assert csv.next_checkin_due == datetime.date(2025, 1, 1) + datetime.timedelta(days=60)
    assert {entry[:3] for entry in history_of(csv)} == {
        ("cadence_days", "30", "60"), ("cadence_max_days", "45", "90"),
    }


def test_an_overdue_after_chosen_with_the_cadence_is_kept_alike(tmp_path, alice, north):
    browser, csv = twins(north, alice)

    customer_update(customer=browser, user=alice, data={"cadence_days": 10}, version=1)
    run_import(csv_file(tmp_path, cadence_days="10"), alice)

    assert_same(browser, csv)
    assert (csv.cadence_days, csv.cadence_max_days) == (10, 45)  # still above the cadence: kept


def test_tags_that_differ_only_in_case_change_nothing_on_either_path(tmp_path, alice, north):
    browser, csv = twins(north, alice)
    for customer in (browser, csv):
        customer.tags.set([Tag.objects.get_or_create(name=name)[0] for name in ("VIP", "new")])

    customer_update(customer=browser, user=alice, data={"tags": ["vip", "New"]}, version=1)
    run_import(csv_file(tmp_path, tags="vip; New"), alice)

    assert_same(browser, csv)
    assert csv.version == 1 and history_of(csv) == []


def test_new_tags_are_matched_and_recorded_alike(tmp_path, alice, north):
    browser, csv = twins(north, alice)
    for customer in (browser, csv):
        customer.tags.set([Tag.objects.get_or_create(name="VIP")[0]])

    customer_update(customer=browser, user=alice, data={"tags": ["vip", "Renewal"]}, version=1)
    run_import(csv_file(tmp_path, tags="vip; Renewal"), alice)

    assert_same(browser, csv)
    assert row_of(csv)[1] == ["Renewal", "VIP"]  # an existing tag is matched whatever its case
    assert [entry[:3] for entry in history_of(csv)] == [("tags", "VIP", "Renewal; vip")]


def test_a_new_customer_gets_the_same_defaults_from_the_service_and_a_file(tmp_path, alice, north):
    created = customer_create(user=alice, team=north, name="Newco", owner=alice, cadence_days=14,
                              customer_since=datetime.date(2025, 6, 1), timezone="Europe/Berlin",
                              external_id="BROWSER")
    path = write_csv(tmp_path, [
        ["external_id", "name", "owner", "team", "cadence_days", "customer_since", "timezone"],
        ["CSV", "Newco", "alice", "North", "14", "2025-06-01", "Europe/Berlin"],
    ])
    run_import(path, alice)
    imported = Customer.objects.get(external_id="CSV")

    assert_same(created, imported)
    assert imported.cadence_max_days == default_cadence_max(14) == 21
    assert imported.next_checkin_due == datetime.date(2025, 6, 15)
    assert [entry[:3] for entry in history_of(imported)] == [("created", "", "Newco")]
