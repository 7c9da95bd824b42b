"""
Which customer a row is: by external id, else by a contact's email regardless of case, else, when
asked, by the website's domain; rows of one file that are the same customer; and the same file
imported twice, with or without external ids, changes nothing.
"""

import pytest

from customers.csv_io.importer import CsvImport, ImportRefused
from customers.csv_io.reading import FileOptions
from customers.models import Contact, Customer, CustomerChange
from customers.services import contact_save, customer_create
from customers.tests.csv_files import db_state, run_command, write_csv
from customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(alice, north):
    customer = customer_create(user=alice, team=north, name="Acme", owner=alice, website="acme.example")
    contact_save(contact=Contact(customer=customer, name="Dana Doe", email="Dana@Acme.example"),
                 make_primary=True)
    return customer


def outcomes(report):
    return [(number, outcome.kind, outcome.detail) for number, outcome in report.rows_in_order()]


def test_a_row_without_external_id_finds_its_customer_by_email_in_any_case(tmp_path, alice, acme):
    path = write_csv(tmp_path, [["name", "contact_name", "contact_email", "tags"],
                                ["Acme Ltd", "Dana Doe", "dana@ACME.example", "vip"]])

    report = CsvImport(default_owner=alice).run(path)

    assert outcomes(report) == [
        (2, "updated", "Customer name (company): “Acme” → “Acme Ltd”; Tags: “” → “vip”; "
                       "Contact email: “Dana@Acme.example” → “dana@ACME.example”")
    ]
    acme.refresh_from_db()
    assert (acme.name, acme.version, Customer.objects.count()) == ("Acme Ltd", 2, 1)
    assert acme.contacts.get().email == "dana@ACME.example"  # the same contact, written as the file has it


def test_a_new_external_id_finds_a_customer_without_one_by_email_and_gives_it(tmp_path, alice, acme):
    path = write_csv(tmp_path, [["external_id", "name", "contact_email"],
                                ["HS-9", "Acme", "dana@acme.example"]])
    assert run_command(path)[0] == 0
    acme.refresh_from_db()
    assert acme.external_id == "HS-9" and Customer.objects.count() == 1
    assert CustomerChange.objects.filter(customer=acme, field="external_id").get().new_value == "HS-9"


def test_an_email_never_finds_a_customer_that_has_another_external_id(tmp_path, alice, north):
    other = CustomerFactory(team=north, owner=alice, external_id="X-1", name="Other")
    ContactFactory(customer=other, email="shared@acme.example", is_primary=True)
    path = write_csv(tmp_path, [["external_id", "name", "team", "contact_name", "contact_email"],
                                ["Y-1", "Second", "North", "Sam", "shared@acme.example"]])
    assert run_command(path)[0] == 0
    assert Customer.objects.count() == 2


def test_an_email_of_two_customers_is_a_problem(tmp_path, alice, north):
    for name in ("First", "Second"):
        ContactFactory(customer=CustomerFactory(team=north, name=name), email="info@both.example")
    path = write_csv(tmp_path, [["name", "team", "contact_name", "contact_email"],
                                ["Which", "North", "Info", "info@both.example"]])
    before = db_state()
    assert run_command(path) == (1, [
        "row 2: contact_email: “info@both.example” belongs to 2 customers (First, Second); add an "
        "external_id to say which"
    ])
    assert db_state() == before


def test_the_website_domain_finds_a_customer_only_when_asked(tmp_path, alice, acme):
    path = write_csv(tmp_path, [["name", "website", "team"],
                                ["ACME Corp", "https://www.ACME.example/en", "North"]])

    checked = CsvImport(default_owner=alice).check(path)
    assert (checked.created, checked.updated) == (1, 0)

    report = CsvImport(default_owner=alice, options=FileOptions(match_website=True)).run(path)
    assert outcomes(report) == [
        (2, "updated", "Customer name (company): “Acme” → “ACME Corp”; Website: “acme.example” → "
                       "“https://www.ACME.example/en”")
    ]
    acme.refresh_from_db()
    assert (acme.website_domain, Customer.objects.count()) == ("acme.example", 1)


def test_rows_of_one_file_that_are_the_same_customer_are_shown_and_left_out(tmp_path, alice, north):
    path = write_csv(tmp_path, [
        ["external_id", "name", "team", "contact_name", "contact_email", "website"],
        ["", "Acme", "North", "Dana", "dana@acme.example", "acme.example"],
        ["", "Acme again", "North", "Dana D.", "DANA@acme.example", ""],  # same email
        ["", "Acme web", "North", "Sam", "sam@acme.example", "www.acme.example"],  # same domain
        ["B-1", "Beta", "North", "Info", "info@beta.example", ""],
        ["B-2", "Beta two", "North", "Info", "info@beta.example", ""],  # two ids: two customers
        ["", "Beta shop", "North", "Info", "info@beta.example", ""],  # repeats row 5
    ])

    report = CsvImport(default_owner=alice, options=FileOptions(match_website=True)).run(path)

    assert [(n, kind) for n, kind, _ in outcomes(report)] == [
        (2, "created"), (3, "duplicate"), (4, "duplicate"), (5, "created"), (6, "created"),
        (7, "duplicate"),
    ]
    assert report.outcomes[3].detail == "the same customer as row 2; left out"
    assert report.outcomes[7].detail == "the same customer as row 5; left out"
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["Acme", "Beta", "Beta two"]
    # Imported again: each row finds its customer, and the duplicates are left out again.
    again = CsvImport(default_owner=alice, options=FileOptions(match_website=True)).run(path)
    assert (again.created, again.updated, again.unchanged, again.duplicated) == (0, 0, 3, 3)


def test_the_same_file_without_external_ids_twice_changes_nothing(tmp_path, alice, north):
    rows = [["name", "team", "tags", "contact_first_name", "contact_last_name", "contact_email", "notes"],
            ["Acme", "North", "vip", "Dana", "Doe", "dana@acme.example", "Met at a fair"],
            ["", "North", "", "Sam", "Lee", "Sam@Lee.example", ""]]
    path = write_csv(tmp_path, rows)
    assert run_command(path) == (0, ["Imported 2 row(s): 2 created, 0 updated, 0 unchanged."])
    before = db_state()

    assert run_command(path) == (0, ["Imported 2 row(s): 0 created, 0 updated, 2 unchanged."])
    assert db_state() == before


def test_a_refused_import_keeps_no_note_of_its_rows(tmp_path, alice, north):
    from touchpoints.models import Touchpoint

    path = write_csv(tmp_path, [["name", "team", "notes"], ["Acme", "North", "Met at a fair"],
                                ["Beta", "Nowhere", "Called twice"]])
    # One row a batch: the first row and its note are written before the second is read.
    with pytest.raises(ImportRefused):
        CsvImport(batch_size=1).run(path)
    assert not Customer.objects.exists() and not Touchpoint.objects.exists()

    report = CsvImport(batch_size=1).run(path, skip_invalid=True)
    assert (report.created, report.skipped) == (1, 1)
    assert list(Touchpoint.objects.values_list("customer__name", "kind", "summary")) == [
        ("Acme", "note", "Met at a fair")
    ]
