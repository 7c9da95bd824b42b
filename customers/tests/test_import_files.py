"""
Reading an import file: BOM, the delimiters spreadsheets write, encodings, size, blank lines, values
outside the named columns, neutralised formulas, and random files that must never crash an import
or half import it.
"""

import datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.csv_io.columns import COLUMNS
from customers.csv_io.importer import CsvImport, ImportRefused
from customers.models import Contact, Customer
from customers.tests.csv_files import csv_text, db_state, run_command, write_csv

pytestmark = pytest.mark.django_db


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


def test_it_reads_tab_separated_files(tmp_path, alice, north):
    rows = [["name", "team", "status"], ["Acme, Inc.", "North", "prospect"]]
    path = write_csv(tmp_path, rows, delimiter="\t")
    status, out = run_command(path)
    assert status == 0, out
    assert Customer.objects.get().name == "Acme, Inc."


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
            # A later row that is the same customer as an earlier one is left out, and said so.
            assert report.created + report.updated + report.unchanged + report.duplicated == report.rows
        else:
            with pytest.raises(ImportRefused):
                importer.run(path)
            assert db_state() == before
            assert all(str(p).startswith("row ") and "\n" not in str(p) for p in checked.problems)
        transaction.set_rollback(True)
