"""Customer import: the command, the browser's upload → preview → confirm, and what both refuse."""

import csv
import datetime
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.csv_io.columns import COLUMNS
from customers.csv_io.importer import CsvImport, ImportRefused
from customers.models import Contact, Customer, CustomerChange, CustomerImport, Tag
from customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def imports_dir(settings, tmp_path):
    settings.IMPORTS_DIR = tmp_path / "imports"
    return settings.IMPORTS_DIR


def csv_text(rows, delimiter=","):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue()


def write_csv(tmp_path, rows, *, delimiter=",", bom=False, name="customers.csv"):
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + csv_text(rows, delimiter).encode("utf-8"))
    return path


def run_command(path, *args):
    """(exit status, stdout lines) of ``import_customers``."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_customers", str(path), *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exit:
        status = exit.code
    return status, out.getvalue().splitlines()


def db_state():
    """Everything an import may touch, to show that a refused import changed nothing."""
    return (
        list(Customer.objects.order_by("pk").values()),
        list(Contact.objects.order_by("pk").values()),
        list(Customer.tags.through.objects.order_by("pk").values()),
        list(Tag.objects.order_by("pk").values()),
        CustomerChange.objects.count(),
    )


HEADER = list(COLUMNS)


def good_rows():
    return [
        HEADER,
        ["A-1", "Acme Ltd", "active", "2021-04-01", "alice", "North", "Europe/Berlin", "14",
         "vip; renewal", "A-2", "Dana Doe", "dana@acme.example", "'+49 30 1234", "--03-14"],
        ["A-2", "Beta GmbH", "prospect", "", "bob", "", "UTC", "", "", "", "", "", "", ""],
    ]


# The command ------------------------------------------------------------------------------------

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
    ({"name": ""}, "row 3: name: missing; every customer needs a name"),
    ({"customer_since": "2024-13-01"}, "row 3: customer_since: “2024-13-01” is not a date; use YYYY-MM-DD"),
    ({"customer_since": "01/02/2024"}, "row 3: customer_since: “01/02/2024” is not a date; use YYYY-MM-DD"),
    ({"contact_birthday": "1981-02-29"},
     "row 3: contact_birthday: “1981-02-29”: that is not a date on the calendar"),
    ({"contact_birthday": "14.03."},
     "row 3: contact_birthday: “14.03.”: use YYYY-MM-DD, or --MM-DD when the year is not known"),
    ({"status": "gold"},
     "row 3: status: unknown status “gold”; use one of prospect, active, inactive, churned"),
    ({"owner": "zed"}, "row 3: owner: unknown owner “zed”; use the username of an active user"),
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
    ({"contact_name": "", "contact_email": "new@example.com"},
     "row 3: contact_name: missing; a new contact needs a name"),
]


@pytest.mark.parametrize("bad, line", BAD_ROWS, ids=[line.split(":")[1].strip() for _, line in BAD_ROWS])
def test_a_bad_row_is_reported_and_nothing_is_imported(tmp_path, alice, bob, charlie, maria, north, south,
                                                        bad, line):
    CustomerFactory(team=north, owner=alice, external_id="OLD-1", name="Old Name")
    before = db_state()
    good = dict(zip(HEADER, ["G-1", "Good Ltd", "active", "", "alice", "North", "UTC", "30", "", "OLD-1",
                             "Gil", "gil@example.com", "", ""], strict=True))
    row = dict(zip(HEADER, ["B-1", "Bad Ltd", "active", "", "alice", "North", "UTC", "30", "a; b", "",
                            "Bea", "bea@example.com", "", ""], strict=True))
    row.update(bad)

    status, out = run_command(write_csv(tmp_path, [HEADER, list(good.values()), list(row.values())]))

    assert status == 1
    assert out == [line]
    assert db_state() == before


@pytest.mark.parametrize(
    "header, line",
    [
        (["name", "colour"], "row 1: colour: unknown column; the columns are " + ", ".join(COLUMNS)),
        (["external_id", "status"], "row 1: name: the name column is missing; every customer needs a name"),
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
        "row 2: name: missing; every customer needs a name",
        "row 2: status: unknown status “gold”; use one of prospect, active, inactive, churned",
        "row 2: customer_since: “yesterday” is not a date; use YYYY-MM-DD",
    ]


def test_it_reads_a_file_with_a_bom(tmp_path, alice, north):
    path = write_csv(tmp_path, [["name", "team"], ["Acme", "North"]], bom=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    status, out = run_command(path)
    assert status == 0, out
    assert Customer.objects.get().name == "Acme"


def test_it_reads_the_semicolon_dialect_excel_writes(tmp_path, alice, north):
    # Excel in a German locale: BOM, semicolons, CRLF, a quoted cell with a line break and a quote.
    content = (
        "\ufeffexternal_id;name;team;tags;contact_name;contact_phone\r\n"
        'X-1;"Müller ""&"" Söhne\r\nGmbH";North;a;Jörg;\'+49 30 1234\r\n'
        "X-2;Café Noir;North;;;\r\n"
    )
    path = tmp_path / "excel.csv"
    path.write_bytes(content.encode("utf-8"))
    status, out = run_command(path, "--owner", "alice")
    assert status == 0, out
    first = Customer.objects.get(external_id="X-1")
    assert first.name == 'Müller "&" Söhne\r\nGmbH'
    assert list(first.contacts.values_list("name", "phone")) == [("Jörg", "+49 30 1234")]
    assert Customer.objects.get(external_id="X-2").name == "Café Noir"


def test_a_phone_alone_needs_a_contact_name(tmp_path, alice, north):
    path = write_csv(tmp_path, [["name", "team", "contact_phone"], ["Acme", "North", "+1 555"]])
    status, out = run_command(path)
    assert (status, out) == (1, ["row 2: contact_name: missing; a new contact needs a name"])


def test_it_reads_tab_separated_files(tmp_path, alice, north):
    rows = [["name", "team", "status"], ["Acme, Inc.", "North", "prospect"]]
    path = write_csv(tmp_path, rows, delimiter="\t")
    status, out = run_command(path)
    assert status == 0, out
    assert Customer.objects.get().name == "Acme, Inc."


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


def test_neutralised_cells_lose_their_apostrophe(tmp_path, alice, north):
    rows = [["name", "team", "contact_name", "contact_phone"],
            ["'=cmd|' /C calc'!A0", "North", "'@handle", "'+49 30 1234"],
            ["'-minus", "North", "'tis me", "'\t1"]]
    assert run_command(write_csv(tmp_path, rows))[0] == 0
    assert set(Customer.objects.values_list("name", flat=True)) == {"=cmd|' /C calc'!A0", "-minus"}
    assert set(Contact.objects.values_list("name", "phone")) == {
        ("@handle", "+49 30 1234"), ("'tis me", "\t1"),
    }


def test_a_file_that_is_not_utf8_gives_one_clear_problem(tmp_path, alice, north):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,team\nMüller,North\nBäcker,North\n".encode("latin-1"))
    status, out = run_command(path)
    assert status == 1
    assert out == ["row 1: file: the file is not UTF-8 text (an invalid byte on line 2); save it as "
                   "“CSV UTF-8” and import it again"]
    assert not Customer.objects.exists()


def test_a_file_over_the_size_limit_gives_one_clear_problem(tmp_path, settings, alice, north):
    settings.CUSTOMER_IMPORT_MAX_BYTES = 1024
    path = write_csv(tmp_path, [["name", "team"]] + [[f"Customer {n}", "North"] for n in range(100)])
    status, out = run_command(path)
    assert status == 1
    assert len(out) == 1
    assert out[0].startswith("row 1: file: the file is 1.9\xa0KB, ")
    assert out[0].endswith("more than the 1.0\xa0KB an import may be; split it into smaller files")


def test_an_empty_file_is_a_problem(tmp_path, alice, north):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert run_command(path) == (1, ["row 1: file: the file is empty; its first row must name the columns"])


def test_blank_lines_are_skipped_but_counted(tmp_path, alice, north):
    path = tmp_path / "gaps.csv"
    path.write_text("name,team\nAcme,North\n\n,\nBad,Nowhere\n")
    assert run_command(path) == (1, ["row 5: team: unknown team “Nowhere”; use one of North"])


def test_a_value_outside_the_named_columns_is_a_problem(tmp_path, alice, north):
    path = tmp_path / "extra.csv"
    path.write_text("name,team\nAcme,North,surprise\nBeta,North,\n")
    status, out = run_command(path)
    assert (status, out) == (1, ["row 2: file: a value in column 3, which the header does not name"])


def test_a_row_that_changes_meanwhile_is_checked_again_inside_the_transaction(tmp_path, alice, bob, north):
    path = write_csv(tmp_path, [["name", "owner", "team"], ["Acme", "bob", "North"]])
    importer = CsvImport()
    assert importer.check(path).ok
    bob.is_active = False
    bob.save()
    with pytest.raises(ImportRefused) as refused:
        importer.run(path)
    assert [str(p) for p in refused.value.report.problems] == [
        "row 2: owner: unknown owner “bob”; use the username of an active user"
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


def test_team_names_match_regardless_of_case(tmp_path, alice, north):
    path = write_csv(tmp_path, [["name", "team"], ["Acme", "north"]])
    assert run_command(path)[0] == 0
    assert Customer.objects.get().team == north


# Random files ---------------------------------------------------------------------------------

JUNK = ["", " ", "x", "Name ", "colour", "name\n", "ünïcödé", "=1+1", "'=1+1", "'+49 1", "\"quoted\"",
        "a;b,c\td", "line\nbreak", "\r", "'", "\x00", "2024-02-30", "--02-29", "1990-01-01", "30", "0",
        "alice", "bob", "charlie", "North", "South", "active", "churned", "UTC", "Europe/Berlin",
        "E-1", "E-2", "dana@example.com", "not-an-email", "x" * 300]
any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30)
junk = st.one_of(st.sampled_from(JUNK), any_text)
# Mostly plausible values per column, so that many files are valid and get imported.
PLAUSIBLE = {
    "external_id": st.one_of(st.just(""), st.integers(0, 999).map("E-{}".format)),
    "name": st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=20),
    "status": st.sampled_from(["", "active", "prospect", "Inactive", "churned"]),
    "customer_since": st.one_of(st.just(""), st.dates(datetime.date(1900, 1, 1)).map(str)),
    "owner": st.sampled_from(["", "alice", "bob"]),
    "team": st.sampled_from(["", "North"]),
    "timezone": st.sampled_from(["", "UTC", "Europe/Berlin", "Asia/Tokyo"]),
    "cadence_days": st.one_of(st.just(""), st.integers(1, 366).map(str)),
    "tags": st.lists(st.text("abcXYZé -", min_size=1, max_size=8), max_size=3).map("; ".join),
    "referred_by": st.sampled_from(["", "", "", "E-1"]),
    "contact_name": st.sampled_from(["Dana", "Zoë O'Neil", "'=not a formula", "Sam \"Q\" Lee"]),
    "contact_email": st.sampled_from(["", "dana@example.com", "zoe@example.org"]),
    "contact_phone": st.sampled_from(["", "+49 30 1234", "'+1 555", "-", "'-5"]),
    "contact_birthday": st.sampled_from(["", "--02-29", "1980-01-31"]),
}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), delimiter=st.sampled_from([",", ";", "\t"]), bom=st.booleans())
def test_random_files_never_crash_and_never_half_import(tmp_path_factory, alice, bob, charlie, north, south,
                                                        data, delimiter, bom):
    header = data.draw(st.one_of(
        st.lists(st.sampled_from(COLUMNS), unique=True).flatmap(
            lambda columns: st.permutations(columns if "name" in columns else ["name", *columns])
        ),
        st.lists(st.one_of(st.sampled_from(COLUMNS), junk), min_size=1, max_size=8),
    ), label="header")
    body = data.draw(st.lists(st.tuples(*[
        junk if data.draw(st.integers(0, 19), label="junk?") == 0 else PLAUSIBLE.get(column, junk)
        for column in header
    ]), min_size=1, max_size=6), label="body")
    path = tmp_path_factory.mktemp("random") / "random.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + csv_text([header, *body], delimiter).encode())
    with transaction.atomic():
        before = db_state()
        importer = CsvImport(default_owner=alice)
        checked = importer.check(path)
        assert db_state() == before  # checking writes nothing
        if checked.ok:
            report = importer.run(path)
            assert report.ok
            assert Customer.objects.count() == len(before[0]) + report.created
            assert report.created + report.updated + report.unchanged == report.rows
        else:
            with pytest.raises(ImportRefused):
                importer.run(path)
            assert db_state() == before
            assert all(str(p).startswith("row ") and "\n" not in str(p) for p in checked.problems)
        transaction.set_rollback(True)


# The browser ----------------------------------------------------------------------------------

def upload(client, rows=None, *, content=None, name="customers.csv"):
    content = content if content is not None else csv_text(rows).encode()
    return client.post("/customers/import/", {"file": SimpleUploadedFile(name, content, "text/csv")})


def test_the_import_page_explains_the_columns(client, alice, north):
    client.force_login(alice)
    page = client.get("/customers/import/").content.decode()
    assert all(f"<code>{column}</code>" in page for column in COLUMNS)
    example = client.get("/customers/import/example.csv")
    assert example["Content-Type"].startswith("text/csv")
    assert example.content.decode().splitlines()[0] == ",".join(COLUMNS)


def test_the_example_file_imports_as_it_is(client, alice, north):
    client.force_login(alice)
    example = client.get("/customers/import/example.csv").content
    upload(client, content=example)
    client.post(f"/customers/import/{CustomerImport.objects.get().pk}/confirm/")
    second = Customer.objects.get(external_id="ACME-2")
    assert (second.owner, second.team, second.referred_by.external_id) == (alice, north, "ACME-1")
    assert Contact.objects.get(customer__external_id="ACME-1").phone == "+49 30 1234567"


def test_upload_preview_confirm(client, alice, bob, north, imports_dir, django_capture_on_commit_callbacks):
    client.force_login(alice)
    response = upload(client, good_rows())
    customer_import = CustomerImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/customers/import/{customer_import.pk}/"
    assert (customer_import.status, customer_import.create_count, customer_import.update_count) == (
        "checked", 2, 0
    )
    stored = Path(customer_import.stored_path)
    assert stored.parent == imports_dir and stored.exists() and stored.name != "customers.csv"
    assert not Customer.objects.exists()  # nothing before the confirmation

    preview = client.get(response["Location"])
    assert preview.status_code == 200
    assert b"/confirm/" in preview.content
    assert "create <strong>2</strong>" in preview.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"/customers/import/{customer_import.pk}/confirm/", follow=True)

    assert confirmed.redirect_chain == [("/customers/", 302)]
    assert "Imported customers.csv: 2 created, 0 updated, 0 unchanged." in confirmed.content.decode()
    assert Customer.objects.count() == 2
    assert set(CustomerChange.objects.values_list("user", flat=True)) == {alice.pk}
    customer_import.refresh_from_db()
    assert customer_import.status == "imported" and customer_import.imported_at is not None
    assert not stored.exists()


def test_the_preview_lists_every_problem_and_offers_no_confirmation(client, alice, north):
    client.force_login(alice)
    upload(client, [["name", "status"], ["", "active"], ["Acme", "gold"]])
    customer_import = CustomerImport.objects.get()
    assert customer_import.status == "rejected" and customer_import.stored_path == ""

    page = client.get(f"/customers/import/{customer_import.pk}/").content.decode()

    assert "row 2: name: missing; every customer needs a name" in page
    assert "row 3: status: unknown status “gold”" in page
    assert "/confirm/" not in page
    client.post(f"/customers/import/{customer_import.pk}/confirm/")
    assert not Customer.objects.exists()


def test_a_web_import_uses_only_the_uploaders_teams_and_people(client, alice, charlie, north, south):
    theirs = CustomerFactory(team=south, owner=charlie, external_id="S-1")
    client.force_login(alice)
    upload(client, [["external_id", "name", "team", "owner"],
                    ["N-1", "Ours", "South", ""],
                    ["N-2", "Ours too", "North", "charlie"],
                    ["S-1", "Taken over", "North", "alice"]])
    problems = CustomerImport.objects.get().problems.splitlines()
    assert problems == [
        "row 2: team: unknown team “South”; use one of North",
        "row 3: owner: unknown owner “charlie”; use the username of someone in your teams",
        "row 4: external_id: “S-1” is a customer of a team you do not work with; you cannot update it",
    ]
    theirs.refresh_from_db()
    assert theirs.name != "Taken over"


def test_a_web_import_makes_the_uploader_the_default_owner(client, alice, north):
    client.force_login(alice)
    upload(client, [["name"], ["Acme"]])
    client.post(f"/customers/import/{CustomerImport.objects.get().pk}/confirm/")
    customer = Customer.objects.get()
    assert (customer.owner, customer.team) == (alice, north)


def test_another_users_import_is_404(client, alice, bob, north):
    client.force_login(alice)
    upload(client, [["name"], ["Acme"]])
    customer_import = CustomerImport.objects.get()

    client.force_login(bob)
    assert client.get(f"/customers/import/{customer_import.pk}/").status_code == 404
    assert client.post(f"/customers/import/{customer_import.pk}/confirm/").status_code == 404
    assert not Customer.objects.exists()


def test_confirming_twice_imports_once(client, alice, north):
    client.force_login(alice)
    upload(client, [["name"], ["Acme"], ["Beta"]])
    url = f"/customers/import/{CustomerImport.objects.get().pk}/confirm/"

    client.post(url)
    second = client.post(url, follow=True)

    assert Customer.objects.count() == 2
    assert CustomerChange.objects.count() == 2
    assert "was imported already" in second.content.decode()


def test_confirm_needs_a_post(client, alice, north):
    client.force_login(alice)
    upload(client, [["name"], ["Acme"]])
    assert client.get(f"/customers/import/{CustomerImport.objects.get().pk}/confirm/").status_code == 405
    assert not Customer.objects.exists()


def test_data_changed_since_the_preview_rejects_the_import(client, alice, bob, north):
    client.force_login(alice)
    upload(client, [["name", "owner"], ["Acme", "bob"]])
    customer_import = CustomerImport.objects.get()
    north.members.remove(bob)

    response = client.post(f"/customers/import/{customer_import.pk}/confirm/", follow=True)

    assert "Nothing was imported" in response.content.decode()
    assert "row 2: owner: unknown owner “bob”" in response.content.decode()
    assert not Customer.objects.exists()
    customer_import.refresh_from_db()
    assert customer_import.status == "rejected"


def test_a_too_large_upload_is_refused_with_a_clear_message(client, settings, alice, north, imports_dir):
    settings.CUSTOMER_IMPORT_MAX_BYTES = 100
    client.force_login(alice)
    response = upload(client, [["name"]] + [[f"Customer number {n}"] for n in range(20)])
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The file is larger than 100\xa0bytes, the most an import may be. Split it into smaller files "
        "and import them one after another."
    ]
    assert not CustomerImport.objects.exists()
    assert not imports_dir.exists() or not any(imports_dir.iterdir())


def test_a_non_utf8_upload_is_refused_clearly(client, alice, north):
    client.force_login(alice)
    upload(client, content="name\nMüller\n".encode("cp1252"))
    customer_import = CustomerImport.objects.get()
    assert customer_import.status == "rejected"
    assert customer_import.problems == (
        "row 1: file: the file is not UTF-8 text (an invalid byte on line 2); save it as “CSV UTF-8” "
        "and import it again"
    )


def test_the_upload_is_csrf_protected(alice, north):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = upload(client, [["name"], ["Acme"]])
    assert response.status_code == 403
    assert not CustomerImport.objects.exists()


def test_a_large_import_runs_on_a_worker_and_the_preview_follows_it(
    client, alice, north, imports_dir, settings, django_capture_on_commit_callbacks
):
    settings.CUSTOMER_IMPORT_INLINE_ROWS = 1
    client.force_login(alice)
    upload(client, good_rows())
    customer_import = CustomerImport.objects.get()
    url = f"/customers/import/{customer_import.pk}/"

    # The worker is not reached yet: the confirmation only queues, and the page says so.
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(url + "confirm/", follow=True)
        again = client.post(url + "confirm/")
    assert response.redirect_chain == [(url, 302)] and again["Location"] == url
    assert len(queued) == 1  # a second click queues nothing
    assert "in the background" in response.content.decode()
    assert 'hx-trigger="every 3s"' in response.content.decode()
    assert not Customer.objects.exists()

    queued[0]()  # the task runs (eagerly, as on a worker)

    customer_import.refresh_from_db()
    assert customer_import.status == "imported" and Customer.objects.count() == 2
    page = client.get(url).content.decode()
    assert "2 created" in page and "every 3s" not in page


def test_unconfirmed_uploads_are_removed_after_two_days(client, alice, north, imports_dir, time_machine):
    from django.core.management import call_command

    time_machine.move_to(datetime.datetime(2026, 5, 4, 10, 0, tzinfo=datetime.UTC), tick=False)
    client.force_login(alice)
    upload(client, good_rows())
    customer_import = CustomerImport.objects.get()
    stored = Path(customer_import.stored_path)

    call_command("run_daily_jobs")
    assert stored.exists()

    time_machine.shift(datetime.timedelta(days=3))
    call_command("run_daily_jobs")

    customer_import.refresh_from_db()
    assert not stored.exists() and customer_import.stored_path == ""
    assert customer_import.status == "rejected" and "not confirmed" in customer_import.problems
    assert client.post(f"/customers/import/{customer_import.pk}/confirm/").status_code == 302
    assert not Customer.objects.exists()
