"""
The ``import_customers`` command: a good file is imported, every bad row and header is reported one
line a problem with nothing imported, dry runs, ``--owner``, and all or nothing inside the run.
"""

import datetime

import pytest
from django.core.management.base import CommandError

from customers.csv_io.columns import TARGETS
from customers.csv_io.importer import CsvImport, ImportRefused
from customers.models import Customer
from customers.tests.csv_files import HEADER, db_state, good_rows, run_command, write_csv
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_it_imports_a_good_file(tmp_path, alice, bob, north):
    status, out = run_command(write_csv(tmp_path, good_rows()))

    assert status == 0, out
    assert out == ["Imported 2 row(s): 2 created, 0 updated, 0 unchanged."]
    acme = Customer.objects.get(external_id="A-1")
    beta = Customer.objects.get(external_id="A-2")
    assert (acme.name, acme.status, acme.customer_since, acme.owner, acme.team) == (
        "Acme Ltd", "active", datetime.date(2021, 4, 1), alice, north
    )
    # "Overdue after" is one and a half cadences, as for a customer added in the browser.
    assert (acme.timezone, acme.cadence_days, acme.cadence_max_days) == ("Europe/Berlin", 14, 21)
    assert acme.next_checkin_due == datetime.date(2021, 4, 15)
    assert sorted(t.name for t in acme.tags.all()) == ["renewal", "vip"]
    assert acme.referred_by == beta  # a row further down the same file
    contact = acme.contacts.get()
    assert (contact.name, contact.email, contact.phone, contact.is_primary) == (
        "Dana Doe", "dana@acme.example", "+49 30 1234", True
    )
    assert (contact.birthday_year, contact.birthday_month, contact.birthday_day) == (None, 3, 14)
    # Team defaults to the owner's one team; status and cadence to the model's defaults.
    assert (beta.team, beta.owner, beta.status, beta.cadence_days) == (north, bob, "prospect", 30)
    assert not beta.contacts.exists()
    assert list(acme.changes.values_list("field", "new_value", "user")) == [("created", "Acme Ltd", None)]


BAD_ROWS = [
    ({"name": "", "contact_name": "", "contact_email": ""},
     "row 3: name: missing; every customer needs a name, or a contact's name when the customer is a person"),
    ({"customer_since": "2024-13-01"}, "row 3: customer_since: “2024-13-01” is not a date; use YYYY-MM-DD"),
    ({"customer_since": "01/02/2024"}, "row 3: customer_since: “01/02/2024” is not a date; use YYYY-MM-DD"),
    ({"contact_birthday": "1981-02-29"},
     "row 3: contact_birthday: “1981-02-29”: that is not a date on the calendar"),
    ({"contact_birthday": "14.03."},
     "row 3: contact_birthday: “14.03.”: use YYYY-MM-DD, or --MM-DD when the year is not known"),
    ({"status": "gold"},
     "row 3: status: unknown status “gold”; use one of prospect, active, inactive, churned"),
    ({"owner": "zed"},
     "row 3: owner: unknown owner “zed”; use the username, email or full name of an active user"),
    ({"team": "West"}, "row 3: team: unknown team “West”; use one of North, South"),
    ({"owner": "charlie", "team": "North"}, "row 3: owner: charlie is not in the team North"),
    ({"owner": "maria", "team": ""},
     "row 3: team: missing, and maria is in 2 of the teams you may use, not exactly one; name the team"),
    ({"owner": "", "team": ""}, "row 3: team: missing; name a team, or an owner who is in exactly one team"),
    ({"contact_email": "dana@"}, "row 3: contact_email: “dana@” is not an email address"),
    ({"timezone": "Mars/Base"},
     "row 3: timezone: “Mars/Base” is not a known time zone; use an IANA name such as Europe/Berlin"),
    ({"cadence_days": "0"}, "row 3: cadence_days: “0” is not a whole number of days from 1 to 366"),
    ({"cadence_days": "367"}, "row 3: cadence_days: “367” is not a whole number of days from 1 to 366"),
    ({"cadence_days": "2 weeks"},
     "row 3: cadence_days: “2 weeks” is not a whole number of days from 1 to 366"),
    ({"external_id": "G-1"}, "row 3: external_id: “G-1” appears twice in the file (also row 2)"),
    ({"referred_by": "NOPE"},
     "row 3: referred_by: no customer has the external id “NOPE”, neither in the database nor in this file"),
    ({"referred_by": "B-1"}, "row 3: referred_by: a customer cannot refer itself"),
    ({"name": "=HYPERLINK(\"http://evil\")"},
     "row 3: name: is a spreadsheet formula (it starts with “=”); put the value itself in the cell, "
     "or start it with ' to keep it as text"),
    ({"contact_phone": "=1+1"},
     "row 3: contact_phone: is a spreadsheet formula (it starts with “=”); put the value itself in the "
     "cell, or start it with ' to keep it as text"),
    ({"name": "x" * 201}, "row 3: name: 201 characters, more than the 200 that fit"),
    ({"external_id": "e" * 101}, "row 3: external_id: 101 characters, more than the 100 that fit"),
    ({"contact_phone": "1" * 51}, "row 3: contact_phone: 51 characters, more than the 50 that fit"),
    ({"tags": "ok; " + "t" * 51},
     f"row 3: tags: the tag “{'t' * 51}” is longer than the 50 characters that fit"),
]


@pytest.mark.parametrize("bad, line", BAD_ROWS, ids=[line.split(":")[1].strip() for _, line in BAD_ROWS])
def test_a_bad_row_is_reported_and_nothing_is_imported(tmp_path, alice, bob, charlie, maria, north, south,
                                                        bad, line):
    CustomerFactory(team=north, owner=alice, external_id="OLD-1", name="Old Name")
    before = db_state()
    good = dict(zip(HEADER, ["G-1", "Good Ltd", "active", "", "alice", "North", "UTC", "30", "", "OLD-1",
                             "Gil", "gil@example.com", "", "", ""], strict=True))
    row = dict(zip(HEADER, ["B-1", "Bad Ltd", "active", "", "alice", "North", "UTC", "30", "a; b", "",
                            "Bea", "bea@example.com", "", "", ""], strict=True))
    row.update(bad)

    status, out = run_command(write_csv(tmp_path, [HEADER, list(good.values()), list(row.values())]))

    assert status == 1
    assert out == [line]
    assert db_state() == before


@pytest.mark.parametrize(
    "header, line",
    [
        (["name", "colour"], "row 1: colour: unknown column; the columns are " + ", ".join(TARGETS)),
        (["external_id", "status"], "row 1: name: the name column is missing; every customer needs a "
                                    "name (a contact's name will do for a customer who is a person)"),
        (["name", "Name"], "row 1: name: the column appears twice"),
    ],
)
def test_a_bad_header_is_reported(tmp_path, alice, north, header, line):
    path = write_csv(tmp_path, [header, ["Acme", "x"]])
    status, out = run_command(path, "--owner", "alice")
    assert status == 1
    assert line in out
    assert not Customer.objects.exists()


def test_every_problem_is_reported_one_per_line(tmp_path, alice, north):
    rows = [["name", "status", "customer_since"], ["", "gold", "yesterday"], ["Fine", "active", ""]]
    status, out = run_command(write_csv(tmp_path, rows), "--owner", "alice")
    assert status == 1
    assert out == [
        "row 2: name: missing; every customer needs a name, or a contact's name when the customer is a "
        "person",
        "row 2: status: unknown status “gold”; use one of prospect, active, inactive, churned",
        "row 2: customer_since: “yesterday” is not a date; use YYYY-MM-DD",
    ]


def test_a_phone_alone_makes_a_contact_named_as_the_customer(tmp_path, alice, north):
    path = write_csv(tmp_path, [["name", "team", "contact_phone"], ["Acme", "North", "+1 555"]])
    status, out = run_command(path)
    assert status == 0, out
    assert list(Customer.objects.get().contacts.values_list("name", "phone", "is_primary")) == [
        ("Acme", "+1 555", True)
    ]


def test_team_names_match_regardless_of_case(tmp_path, alice, north):
    path = write_csv(tmp_path, [["name", "team"], ["Acme", "north"]])
    assert run_command(path)[0] == 0
    assert Customer.objects.get().team == north


def test_a_dry_run_writes_nothing(tmp_path, alice, bob, north):
    CustomerFactory(team=north, owner=alice, external_id="A-2", name="Beta", status="prospect")
    before = db_state()

    status, out = run_command(write_csv(tmp_path, good_rows()), "--dry-run")

    assert status == 0, out
    assert out == ["2 row(s) valid: 1 to create, 1 to update. Dry run: nothing was written."]
    assert db_state() == before


def test_a_dry_run_of_a_bad_file_exits_1(tmp_path, alice, north):
    status, out = run_command(write_csv(tmp_path, [["name", "team"], ["Acme", "Nowhere"]]), "--dry-run")
    assert status == 1
    assert out == ["row 2: team: unknown team “Nowhere”; use one of North"]


def test_owner_option_owns_the_rows_that_name_none(tmp_path, alice, bob, north):
    rows = [["name", "owner"], ["Mine", ""], ["Alice's", "alice"]]
    assert run_command(write_csv(tmp_path, rows), "--owner", "bob")[0] == 0
    assert Customer.objects.get(name="Mine").owner == bob
    assert Customer.objects.get(name="Mine").team == north
    assert Customer.objects.get(name="Alice's").owner == alice


def test_an_unknown_owner_option_is_refused(tmp_path, alice, north):
    with pytest.raises(CommandError, match="--owner ghost: no active user"):
        run_command(write_csv(tmp_path, [["name"], ["Acme"]]), "--owner", "ghost")
    assert not Customer.objects.exists()


def test_a_row_that_changes_meanwhile_is_checked_again_inside_the_transaction(tmp_path, alice, bob, north):
    path = write_csv(tmp_path, [["name", "owner", "team"], ["Acme", "bob", "North"]])
    importer = CsvImport()
    assert importer.check(path).ok
    bob.is_active = False
    bob.save()
    with pytest.raises(ImportRefused) as refused:
        importer.run(path)
    assert [str(p) for p in refused.value.report.problems] == [
        "row 2: owner: unknown owner “bob”; use the username, email or full name of an active user"
    ]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("bad", [["Bad", "Nowhere", ""], ["Bad", "North", "NOPE"]], ids=["row", "reference"])
def test_a_problem_late_in_the_file_rolls_back_the_rows_already_written(tmp_path, alice, north, bad):
    path = write_csv(tmp_path, [["name", "team", "referred_by"], ["One", "North", ""], ["Two", "North", ""],
                                bad])
    before = db_state()
    with pytest.raises(ImportRefused) as refused:
        # One row a batch: each row is written before the next is read. No check first: the run's
        # own checks must undo its writes.
        CsvImport(batch_size=1).run(path)
    assert len(refused.value.report.problems) == 1
    assert db_state() == before
