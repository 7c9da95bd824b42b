"""
Any mapping over any file: the import brings in exactly the rows its check found valid, each whole
(the customer, its contact, its history line), or nothing at all; and choosing to skip the rows with
problems brings in exactly the others. Generated with hypothesis: headers in other tools' words,
any field (or none) for each column, several columns to one field, values plausible or junk, both
date orders, with and without matching by website.
"""

import datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.csv_io.columns import TARGETS
from customers.csv_io.importer import CsvImport, ImportRefused
from customers.csv_io.reading import FileOptions
from customers.models import Contact, Customer, CustomerChange
from customers.tests.csv_files import csv_text, db_state
from customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

HEADERS = ["Company", "First Name", "Last Name", "E-mail", "Phone", "Owner", "Created", "Time zone",
           "Labels", "Notes", "Website", "Record ID", "Referrer", "Fax", "", "name"]
JUNK = ["", " ", "x", "=1+1", "'=1+1", "2024-02-30", "31/12/2024", "12/31/2024", "14.03.", "0.0.00",
        "--02-29", "not-an-email", "Mars/Base", "europe/berlin", "ALICE", "Alice Archer",
        "bob@example.com", "nobody", "www.", "http://", "acme.example", "\x00", "a" * 260]
VALUES = {
    "external_id": st.sampled_from(["", "E-1", "E-2", "E-3", "N-1", "N-2"]),
    "name": st.sampled_from(["", "Acme", "Beta GmbH", "Café Noir", "Zoë & Co"]),
    "status": st.sampled_from(["", "active", "Lead", "customer", "gold"]),
    "customer_since": st.one_of(st.dates(datetime.date(1990, 1, 1), datetime.date(2025, 12, 31)).map(
        lambda d: d.strftime(["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%y %H:%M", "%d.%m.%Y"][d.day % 4])
    ), st.just("")),
    "owner": st.sampled_from(["", "alice", "Alice Archer", "bob@example.com", "ghost"]),
    "team": st.sampled_from(["", "North", "north"]),
    "timezone": st.sampled_from(["", "UTC", "europe/berlin", "[UNKNOWN]"]),
    "cadence_days": st.sampled_from(["", "14", "30", "0"]),
    "tags": st.sampled_from(["", "vip", "a; b", "* myContacts ::: Friends", '"VIP","News"']),
    "referred_by": st.sampled_from(["", "", "E-1", "N-1", "NOPE"]),
    "website": st.sampled_from(["", "acme.example", "https://www.beta.example/de", "www."]),
    "notes": st.sampled_from(["", "Met at a fair", "Line one\nline two"]),
    "contact_name": st.sampled_from(["", "Dana Doe", "Sam"]),
    "contact_first_name": st.sampled_from(["", "Dana", "Ömer"]),
    "contact_last_name": st.sampled_from(["", "Doe", "Straßburger"]),
    "contact_email": st.sampled_from(["", "dana@example.com", "DANA@example.com", "sam@example.org"]),
    "contact_phone": st.sampled_from(["", "+49 30 1234", "'+1 555"]),
    "contact_birthday": st.sampled_from(["", "--02-29", "1980-01-31", "14.03.1971", "03/14", "0.0.00"]),
}
IMPORTED = ("created", "updated", "unchanged")


@pytest.fixture
def book(alice, bob, charlie, north, south):
    first = CustomerFactory(team=north, owner=alice, external_id="E-1", name="Existing one")
    ContactFactory(customer=first, name="Dana Doe", email="dana@example.com", is_primary=True)
    CustomerFactory(team=north, owner=bob, external_id="E-2", name="Existing two", website="beta.example",
                    website_domain="beta.example")
    CustomerFactory(team=south, owner=charlie, external_id="E-3", name="Theirs")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), delimiter=st.sampled_from([",", ";", "\t"]), encoding=st.sampled_from(
    ["utf-8", "utf-16"]), date_order=st.sampled_from(["dmy", "mdy"]), match_website=st.booleans(),
    skip_invalid=st.booleans())
def test_any_mapping_imports_exactly_the_valid_rows_or_nothing(tmp_path_factory, alice, book, data,
                                                               delimiter, encoding, date_order,
                                                               match_website, skip_invalid):
    header = data.draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=7), label="header")
    targets = data.draw(st.lists(st.sampled_from([*TARGETS, "", ""]), min_size=len(header),
                                 max_size=len(header)), label="targets")
    body = data.draw(st.lists(st.tuples(*[
        st.sampled_from(JUNK) if data.draw(st.integers(0, 9), label="junk?") == 0
        else VALUES.get(target, st.sampled_from(JUNK))
        for target in targets
    ]), min_size=1, max_size=6), label="body")
    path = tmp_path_factory.mktemp("mapped") / "mapped.csv"
    path.write_bytes(csv_text([header, *body], delimiter).encode(encoding))
    options = FileOptions(encoding=encoding, delimiter=delimiter, date_order=date_order,
                          match_website=match_website)

    with transaction.atomic():
        before = db_state()
        customers_before = set(Customer.objects.values_list("pk", flat=True))
        importer = CsvImport(default_owner=alice, options=options, targets=targets)
        checked = importer.check(path)
        assert db_state() == before  # checking writes nothing
        valid = {n: o for n, o in checked.outcomes.items() if o.kind in IMPORTED}
        assert all(str(p).startswith("row ") and "\n" not in str(p) for p in checked.problems)

        if checked.ok or (skip_invalid and not checked.file_problems):
            report = importer.run(path, skip_invalid=skip_invalid)
            imported = {n: o for n, o in report.outcomes.items() if o.kind in IMPORTED}
            assert {n: o.kind for n, o in imported.items()} == {n: o.kind for n, o in valid.items()}
            assert report.skipped == (len(checked.invalid) if skip_invalid else 0)
            created = {o.customer_id for o in imported.values() if o.kind == "created"}
            assert set(Customer.objects.values_list("pk", flat=True)) - customers_before == created
            for number, outcome in imported.items():
                if outcome.kind != "created":
                    continue
                # The whole row: its history line, and its contact when the row has one.
                history = CustomerChange.objects.filter(customer_id=outcome.customer_id, field="created")
                assert history.count() == 1
                has_contact = "contact “" in valid[number].detail
                assert Contact.objects.filter(customer_id=outcome.customer_id).count() == int(has_contact)
        else:
            with pytest.raises(ImportRefused):
                importer.run(path, skip_invalid=skip_invalid)
            assert db_state() == before
        transaction.set_rollback(True)
