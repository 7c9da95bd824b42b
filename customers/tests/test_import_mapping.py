"""
Mapping a file's columns: what the mapping step suggests, combining columns, skipping the others,
the command line's ``--map``, ``--mapping``, ``--encoding``, ``--delimiter``, ``--date-order`` and
``--skip-invalid --rejects``, and mappings saved by name and offered again.
"""

import csv
import datetime

import pytest
from django.core.management.base import CommandError

from customers.csv_io.mapping import import_mapping_save, targets_guess
from customers.csv_io.reading import Sample
from customers.csv_io.report import Report
from customers.models import Contact, Customer, CustomerImport, ImportMapping
from customers.tests import export_shapes
from customers.tests.csv_files import (
    db_state,
    map_columns,
    run_command,
    run_command_with_notes,
    upload,
    upload_and_map,
    write_csv,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("imports_dir")]


def guess(header, *columns):
    values = list(columns) + [[] for _ in range(len(header) - len(columns))]
    sample = Sample(header=header, rows=[], values=values, delimiter=",", report=Report())
    return [g.target for g in targets_guess(sample, today=datetime.date(2026, 1, 1))]


@pytest.mark.parametrize("header, target", [
    ("Company", "name"), ("Account Name", "name"), ("Firma", "name"), ("Organization 1 - Name", "name"),
    ("E-mail Address", "contact_email"), ("E-Mail-Adresse", "contact_email"), ("EMAIL", "contact_email"),
    ("Birthday", "contact_birthday"), ("Geburtstag", "contact_birthday"),
    ("Vorname", "contact_first_name"), ("Surname", "contact_last_name"), ("Mobiltelefon", "contact_phone"),
    ("Kategorien", "tags"), ("Webseite", "website"), ("Notizen", "notes"), ("Contact owner", "owner"),
    ("Zeitzone", "timezone"), ("Kunde seit", "customer_since"), ("Record ID", "external_id"),
    ("Favourite colour", ""),
])
def test_a_field_is_suggested_from_the_header_in_other_spellings(header, target):
    assert guess([header]) == [target]


def test_a_field_is_suggested_from_the_values_when_the_header_says_nothing():
    header = ["A", "B", "C", "D", "E", "F", "G", "H"]
    assert guess(
        header,
        ["dana@acme.example", "SAM@beta.example"],
        ["+49 30 1234567", "(415) 555-0188"],
        ["https://acme.example", "www.beta.example"],
        ["Europe/Berlin", "utc"],
        ["3/14/1980", "1975-02-01"],  # long ago: dates of birth
        ["2024-02-05", "1/9/24"],
        ["203.0.113.5", "198.51.100.7"],  # addresses, not phones
        ["1234567", "7654321"],  # ids, not phones
    ) == ["contact_email", "contact_phone", "website", "timezone", "contact_birthday",
          "customer_since", "", ""]


def test_each_field_is_suggested_once_and_our_own_column_names_first():
    assert guess(["Email", "contact_email", "E-mail 2"]) == ["", "contact_email", ""]
    assert guess(["name", "contact_name", "Company"]) == ["name", "contact_name", ""]
    # Beside a company column, a plain "Name" is the person's.
    assert guess(["Name", "Company"]) == ["contact_name", "name"]


def test_the_mapping_step_combines_two_name_columns_and_skips_a_column(client, alice, north):
    client.force_login(alice)
    rows = [["Given", "Family", "Mail", "Fax"], ["Dana", "Doe", "dana@doe.example", "+1 555 0100"]]
    upload(client, rows)
    customer_import = CustomerImport.objects.get()
    assert customer_import.mapping == ["", "", "contact_email", "contact_phone"]

    response = map_columns(client, customer_import, {"Given": "contact_name", "Family": "contact_name",
                                                     "Fax": ""})

    assert response.status_code == 302
    customer_import.refresh_from_db()
    client.post(f"/customers/import/{customer_import.pk}/confirm/")
    contact = Contact.objects.get()
    assert (contact.name, contact.email, contact.phone, contact.customer.name) == (
        "Dana Doe", "dana@doe.example", "", "Dana Doe"
    )


def test_the_mapping_step_needs_a_name(client, alice, north):
    client.force_login(alice)
    upload(client, [["Mail"], ["dana@doe.example"]])
    customer_import = CustomerImport.objects.get()
    response = map_columns(client, customer_import)
    assert response.status_code == 200
    assert "Map a column to the customer name" in response.content.decode()
    customer_import.refresh_from_db()
    assert customer_import.status == "uploaded" and not customer_import.rows.exists()


def test_changing_the_encoding_reads_the_file_again(client, alice, north):
    client.force_login(alice)
    upload(client, content="Firma;Notizen\nBäckerei Süß;\n".encode("cp1252"))
    customer_import = CustomerImport.objects.get()
    assert customer_import.options["encoding"] == "windows-1252"

    response = map_columns(client, customer_import, encoding="latin-1")

    assert response.status_code == 200 and "read again" in response.content.decode()
    customer_import.refresh_from_db()
    assert customer_import.options["encoding"] == "latin-1" and customer_import.status == "uploaded"
    map_columns(client, customer_import)
    client.post(f"/customers/import/{customer_import.pk}/confirm/")
    assert Customer.objects.get().name == "Bäckerei Süß"


def test_a_wrong_date_order_is_reported_with_a_hint(client, alice, north):
    client.force_login(alice)
    customer_import = upload_and_map(client, [["Company", "Created"], ["Acme", "14/02/2024"]],
                                     date_order="mdy")
    assert customer_import.problems == (
        "row 2: customer_since: “14/02/2024” is not a date; use a date such as 12/31/2024 or 2024-12-31 "
        "(read day before month, it would be a date: is that the file's date order?)"
    )


def test_a_saved_mapping_is_offered_again_for_the_same_headers(client, alice, bob, north):
    client.force_login(alice)
    rows = [["Given", "Family", "Mail"], ["Dana", "Doe", "dana@doe.example"]]
    upload_and_map(client, rows, changes={"Given": "contact_first_name", "Family": "contact_last_name"},
                   save_as="Newsletter tool")
    saved = ImportMapping.objects.get()
    assert (saved.name, saved.targets, saved.created_by) == (
        "Newsletter tool", ["contact_first_name", "contact_last_name", "contact_email"], alice
    )

    client.force_login(bob)
    upload(client, [["given", " Family ", "Mail"], ["Sam", "Lee", "sam@lee.example"]], name="next.csv")
    second = CustomerImport.objects.get(filename="next.csv")
    assert second.mapping == saved.targets and second.options["mapping_name"] == "Newsletter tool"
    assert "Newsletter tool" in client.get(f"/customers/import/{second.pk}/map/").content.decode()


def test_a_mapping_of_someone_elses_name_is_not_overwritten(client, alice, bob, north):
    import_mapping_save(name="Shared", header=["A"], targets=["name"], user=alice)
    client.force_login(bob)
    upload(client, [["Company"], ["Acme"]])
    response = map_columns(client, CustomerImport.objects.get(), save_as="shared")
    assert response.status_code == 200
    assert "saved by someone else" in response.content.decode()
    assert ImportMapping.objects.get().targets == ["name"] and not Customer.objects.exists()


def test_only_its_author_or_an_admin_deletes_a_mapping(client, alice, bob, admin_user, north):
    mapping, _ = import_mapping_save(name="From Alice", header=["A"], targets=["name"], user=alice)
    client.force_login(bob)
    assert "From Alice" in client.get("/customers/import/mappings/").content.decode()
    assert client.post(f"/customers/import/mappings/{mapping.pk}/delete/").status_code == 404
    client.force_login(admin_user)
    assert client.post(f"/customers/import/mappings/{mapping.pk}/delete/").status_code == 302
    assert not ImportMapping.objects.exists()


# The command line.


def hubspot_file(tmp_path):
    path = tmp_path / "hubspot.csv"
    path.write_bytes(export_shapes.hubspot_contacts())
    return path


HUBSPOT_MAP = ["--map", "Record ID=external_id", "--map", "First Name+Last Name=contact_name",
               "--map", "Email=contact_email", "--map", "Company Name=name", "--map", "Contact owner=owner",
               "--map", "Create Date=customer_since"]


def test_map_combines_columns_and_skips_the_others(tmp_path, alice, bob, north):
    status, out, err = run_command_with_notes(hubspot_file(tmp_path), *HUBSPOT_MAP)

    assert status == 0, out
    assert out == ["Imported 4 row(s): 4 created, 0 updated, 0 unchanged."]
    assert err == ["Dates read month first (found 2/15/24 13:07 in Create Date).",
                   "Not imported (no field mapped): Phone Number, Lifecycle Stage, Last Activity Date, "
                   "Marketing contact status."]
    person = Customer.objects.get(external_id="52")
    assert (person.name, person.owner, person.customer_since) == (
        "Tavish Quillon", bob, datetime.date(2024, 2, 15)
    )
    assert person.contacts.get().name == "Tavish Quillon"
    log = CustomerImport.objects.get()
    assert (log.source, log.status, log.create_count, log.user) == ("command", "imported", 4, None)


def test_date_order_given_on_the_command_line_wins(tmp_path, alice, bob, north):
    status, out = run_command(hubspot_file(tmp_path), *HUBSPOT_MAP, "--date-order", "dmy")
    assert status == 1
    assert "row 3: customer_since: “2/15/24 13:07” is not a date" in out[0]
    assert not Customer.objects.exists()


def test_a_saved_mapping_by_name(tmp_path, alice, bob, north):
    header = ["Record ID", "First Name", "Last Name", "Email", "Company Name"]
    import_mapping_save(name="HubSpot contacts", header=header,
                        targets=["external_id", "contact_first_name", "contact_last_name", "contact_email",
                                 "name"], user=alice, date_order="mdy")
    status, out = run_command(hubspot_file(tmp_path), "--mapping", "hubspot CONTACTS", "--owner", "bob",
                              "--map", "Lifecycle Stage=status")
    assert status == 0, out
    assert Customer.objects.get(external_id="51").owner == bob
    assert Customer.objects.get(external_id="52").status == "prospect"


@pytest.mark.parametrize("args, message", [
    (["--map", "Nope=name"], "--map 'Nope=name': the file has no column 'Nope'"),
    (["--map", "Email=colour"], "--map 'Email=colour': 'colour' is not a field"),
    (["--map", "Email"], "--map 'Email': write it as \"Header=field\""),
    (["--mapping", "Unknown"], "no mapping is saved as 'Unknown'"),
    (["--encoding", "ebcdic"], "--encoding ebcdic: use utf-8, utf-16, windows-1252 or latin-1"),
    (["--delimiter", "::"], "--delimiter '::': use , ; tab (or comma, semicolon, tab)"),
    (["--rejects", "out.csv"], "--rejects goes with --skip-invalid"),
])
def test_bad_options_are_refused_before_anything_is_read(tmp_path, alice, north, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_command(hubspot_file(tmp_path), *args)
    assert not Customer.objects.exists()


def test_encoding_and_delimiter_options(tmp_path, alice, north):
    path = tmp_path / "outlook.csv"
    path.write_bytes(export_shapes.outlook_contacts_german())
    args = ["--owner", "alice", "--map", "Vorname+Nachname=contact_name", "--map", "Firma=name",
            "--map", "E-Mail-Adresse=contact_email", "--map", "Geburtstag=contact_birthday"]
    assert run_command(path, *args, "--encoding", "utf-8")[0] == 1  # not UTF-8: refused clearly
    status, out = run_command(path, *args, "--encoding", "cp1252", "--delimiter", "semicolon")
    assert status == 0, out
    assert Contact.objects.get(email="joerg@baeckerling.example").birthday_display == "1971-03-14"


def test_skip_invalid_imports_the_valid_rows_and_writes_the_rest(tmp_path, alice, north):
    path = tmp_path / "audience.csv"
    path.write_bytes(export_shapes.mailchimp_audience())
    rejects = tmp_path / "rejects.csv"
    args = ["--owner", "alice", "--map", "Email Address=contact_email",
            "--map", "First Name+Last Name=contact_name", "--map", "TIMEZONE=timezone"]
    before = db_state()
    assert run_command(path, *args)[0] == 1 and db_state() == before

    status, out = run_command(path, *args, "--skip-invalid", "--rejects", str(rejects))

    assert status == 0
    assert out[:2] == [
        "row 4: timezone: “Eastern Time (US & Canada)” is not a known time zone; use an IANA name such "
        "as Europe/Berlin",
        "row 6: timezone: “[UNKNOWN]” is not a known time zone; use an IANA name such as Europe/Berlin",
    ]
    assert out[2] == "Imported 4 row(s): 4 created, 0 updated, 0 unchanged; 2 with problems skipped."
    with open(rejects, encoding="utf-8-sig", newline="") as stored:
        rows = list(csv.reader(stored))
    assert [row[0] for row in rows] == ["Email Address", "corvin.dusk@post.example",
                                        "sol.brightwater@post.example"]
    assert rows[0][-1] == "problem" and rows[2][-1].startswith("timezone: “[UNKNOWN]”")
    log = CustomerImport.objects.get()
    assert (log.skip_invalid, log.skipped_count, log.invalid_count) == (True, 2, 2)

    # The file of rows left out, corrected, imports with the same options.
    rejects.write_text(rejects.read_text(encoding="utf-8-sig").replace("[UNKNOWN]", "UTC")
                       .replace("Eastern Time (US & Canada)", "US/Eastern"), encoding="utf-8")
    status, out = run_command(rejects, *args)
    assert (status, out) == (0, ["Imported 2 row(s): 2 created, 0 updated, 0 unchanged."])


def test_skip_invalid_does_not_import_a_file_whose_header_is_wrong(tmp_path, alice, north):
    path = write_csv(tmp_path, [["name", "colour"], ["Acme", "red"]])
    status, out = run_command(path, "--skip-invalid")
    assert status == 1 and out[0].startswith("row 1: colour: unknown column")
    assert not Customer.objects.exists()


def test_skip_invalid_leaves_out_a_row_naming_a_referrer_with_problems(tmp_path, alice, north):
    path = write_csv(tmp_path, [["external_id", "name", "team", "referred_by"],
                                ["A", "Referrer", "Nowhere", ""],
                                ["B", "Referred", "North", "A"],
                                ["C", "Referred by B", "North", "B"],
                                ["D", "Fine", "North", ""]])
    status, out = run_command(path, "--skip-invalid")
    assert status == 0, out
    assert out == [
        "row 2: team: unknown team “Nowhere”; use one of North",
        "row 3: referred_by: “A” is row 2, which has problems, so it is not imported",
        "row 4: referred_by: “B” is row 3, which has problems, so it is not imported",
        "Imported 1 row(s): 1 created, 0 updated, 0 unchanged; 3 with problems skipped.",
    ]
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["D"]
