"""
Files as other tools export them (``export_shapes``) import as they come: uploaded, mapped as the
mapping step suggests, checked and imported, or, where rows are truly bad, imported without them
with the rows left out given back. Each is imported twice: the second time changes nothing.
"""

import csv
import datetime
import io

import pytest

from customers.models import Contact, Customer, CustomerImport
from customers.tests import export_shapes
from customers.tests.csv_files import db_state, upload_and_map
from touchpoints.models import Touchpoint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("imports_dir")]


def import_shape(client, shape, *, skip_invalid=False, **fields):
    """Upload, map as suggested, import; the CustomerImport."""
    customer_import = upload_and_map(client, content=getattr(export_shapes, shape)(),
                                     name=f"{shape}.csv", **fields)
    data = {"skip_invalid": "1"} if skip_invalid else {}
    client.post(f"/customers/import/{customer_import.pk}/confirm/", data)
    customer_import.refresh_from_db()
    return customer_import


def mapping_of(customer_import):
    return {header: target for header, target in zip(customer_import.headers, customer_import.mapping,
                                                     strict=True) if target}


def test_a_hubspot_export_with_separate_names_and_short_us_dates(client, alice, bob, north):
    client.force_login(alice)
    customer_import = import_shape(client, "hubspot_contacts")

    assert mapping_of(customer_import) == {
        "Record ID": "external_id", "First Name": "contact_first_name", "Last Name": "contact_last_name",
        "Email": "contact_email", "Phone Number": "contact_phone", "Company Name": "name",
        "Contact owner": "owner", "Lifecycle Stage": "status", "Create Date": "customer_since",
    }
    assert customer_import.options["date_order"] == "mdy"  # 2/15/24 can only be month-first
    assert (customer_import.status, customer_import.create_count) == ("imported", 4)
    brightfern = Customer.objects.get(external_id="51")
    assert (brightfern.name, brightfern.owner, brightfern.status, brightfern.customer_since) == (
        "Brightfern Labs", alice, "active", datetime.date(2024, 2, 5)
    )
    assert brightfern.contacts.get().name == "Odalys Fernwright"
    person = Customer.objects.get(external_id="52")  # no company: the customer is the person
    assert (person.name, person.owner, person.status, person.customer_since) == (
        "Tavish Quillon", bob, "prospect", datetime.date(2024, 2, 15)
    )
    assert Customer.objects.get(external_id="53").owner == alice  # "alice archer": any case


def test_a_salesforce_export_in_windows_1252_with_iso_timestamps(client, alice, bob, north):
    client.force_login(alice)
    customer_import = import_shape(client, "salesforce_accounts")

    assert customer_import.options["encoding"] == "windows-1252"
    assert customer_import.status == "imported" and customer_import.create_count == 3
    cafe = Customer.objects.get(external_id="0015g00000AbCdE")
    assert (cafe.name, cafe.customer_since, cafe.owner, cafe.website, cafe.website_domain) == (
        "Café Lumière", datetime.date(2006, 4, 15), alice, "www.cafe-lumiere.example",
        "cafe-lumiere.example",
    )
    # The account's phone is the company's own line: a contact named as the customer.
    assert list(cafe.contacts.values_list("name", "phone")) == [("Café Lumière", "+33 1 55 55 01 23")]
    # 23:59:59 UTC keeps its date, whatever the time zone.
    assert Customer.objects.get(name="O’Rourke Maritime").customer_since == datetime.date(2019, 7, 31)
    note = Touchpoint.objects.get(customer__name="O’Rourke Maritime")
    assert (note.kind, note.summary, note.author) == ("note", "Met at the “Harbour Days” fair", alice)


def test_a_mailchimp_export_with_bad_time_zones_imports_the_good_rows(client, alice, north):
    client.force_login(alice)
    checked = upload_and_map(client, content=export_shapes.mailchimp_audience(), name="audience.csv")
    assert checked.problems.splitlines() == [
        "row 4: timezone: “Eastern Time (US & Canada)” is not a known time zone; use an IANA name "
        "such as Europe/Berlin",
        "row 6: timezone: “[UNKNOWN]” is not a known time zone; use an IANA name such as Europe/Berlin",
    ]
    before = db_state()
    client.post(f"/customers/import/{checked.pk}/confirm/")  # all or nothing: nothing
    assert db_state() == before

    rejects_before = client.get(f"/customers/import/{checked.pk}/not-imported.csv")
    response = client.post(f"/customers/import/{checked.pk}/confirm/", {"skip_invalid": "1"}, follow=True)

    assert "4 created, 0 updated, 0 unchanged; 2 rows with problems skipped" in response.content.decode()
    customer_import = CustomerImport.objects.get(pk=checked.pk)
    assert (customer_import.status, customer_import.skip_invalid, customer_import.skipped_count) == (
        "imported", True, 2
    )
    assert set(Customer.objects.values_list("name", flat=True)) == {
        "Wren Halloway", "Ilse Vantreck", "Mireille Aubade", "Petra Nightjar"
    }
    wren = Customer.objects.get(name="Wren Halloway")
    assert wren.timezone == "America/New_York"  # matched regardless of case
    assert (wren.contacts.get().birthday_month, wren.contacts.get().birthday_day) == (3, 14)
    assert sorted(Customer.objects.get(name="Ilse Vantreck").tags.values_list("name", flat=True)) == [
        "Early adopter", "Newsletter"
    ]
    # The rows left out, as the file had them plus why: the same before and after the import.
    rejects = client.get(f"/customers/import/{checked.pk}/not-imported.csv")
    body = b"".join(rejects.streaming_content).decode("utf-8-sig")
    assert body == b"".join(rejects_before.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][-1] == "problem" and rows[0][:-1] == customer_import.headers
    assert [(row[1], row[-1]) for row in rows[1:]] == [
        ("Corvin", "timezone: “Eastern Time (US & Canada)” is not a known time zone; use an IANA name "
                   "such as Europe/Berlin"),
        ("Sol", "timezone: “[UNKNOWN]” is not a known time zone; use an IANA name such as Europe/Berlin"),
    ]


def test_the_skipped_rows_corrected_import_with_the_same_mapping(client, alice, north):
    client.force_login(alice)
    first = upload_and_map(client, content=export_shapes.mailchimp_audience(), name="audience.csv",
                           save_as="Mailchimp audience")
    client.post(f"/customers/import/{first.pk}/confirm/", {"skip_invalid": "1"})
    rejects = b"".join(client.get(f"/customers/import/{first.pk}/not-imported.csv").streaming_content)
    corrected = rejects.replace(b"Eastern Time (US & Canada)", b"America/New_York").replace(
        b"[UNKNOWN]", b"")

    second = upload_and_map(client, content=corrected, name="corrected.csv")

    assert second.options.get("mapping_name") == "Mailchimp audience"  # the problem column aside
    assert (second.create_count, second.invalid_count) == (2, 0)
    client.post(f"/customers/import/{second.pk}/confirm/")
    assert Customer.objects.count() == 6
    assert Customer.objects.get(name="Corvin Dusk").timezone == "America/New_York"


def test_a_german_outlook_export_semicolons_crlf_windows_1252(client, alice, north):
    client.force_login(alice)
    customer_import = import_shape(client, "outlook_contacts_german")

    assert {key: customer_import.options[key] for key in ("encoding", "delimiter", "date_order")} == {
        "encoding": "windows-1252", "delimiter": ";", "date_order": "dmy"
    }
    assert mapping_of(customer_import) == {
        "Vorname": "contact_first_name", "Nachname": "contact_last_name", "Firma": "name",
        "Telefon geschäftlich": "contact_phone", "E-Mail-Adresse": "contact_email",
        "Geburtstag": "contact_birthday", "Kategorien": "tags", "Notizen": "notes", "Webseite": "website",
    }
    assert customer_import.status == "imported" and customer_import.create_count == 3
    baeckerei = Customer.objects.get(name="Bäckerei Bäckerling")
    contact = baeckerei.contacts.get()
    assert (contact.name, contact.email, contact.birthday_display) == (
        "Jörg Bäckerling", "joerg@baeckerling.example", "1971-03-14"
    )
    assert sorted(baeckerei.tags.values_list("name", flat=True)) == ["Kunden", "Stammkunde"]
    note = Touchpoint.objects.get(customer=baeckerei)
    assert (note.summary, note.notes) == (
        "Bestellt jeden Montag.", "Bestellt jeden Montag.\r\nRückruf bevorzugt vormittags."
    )
    kaethe = Contact.objects.get(name="Käthe Übelacker")
    assert kaethe.customer.name == "Käthe Übelacker" and kaethe.birthday_month is None  # "0.0.00"


@pytest.mark.parametrize("shape", ["hubspot_contacts", "salesforce_accounts", "outlook_contacts_german",
                                   "google_contacts", "odoo_contacts", "excel_unicode_text"])
def test_the_same_export_twice_changes_nothing(client, alice, bob, north, shape):
    client.force_login(alice)
    first = import_shape(client, shape)
    assert first.status == "imported" and first.create_count > 0 and not first.invalid_count
    before = db_state()
    touchpoints = Touchpoint.objects.count()

    second = import_shape(client, shape)

    assert (second.status, second.create_count, second.update_count, second.unchanged_count) == (
        "imported", 0, 0, first.create_count
    )
    assert db_state() == before and Touchpoint.objects.count() == touchpoints


def test_google_contacts_labels_and_birthdays_without_a_year(client, alice, north):
    client.force_login(alice)
    import_shape(client, "google_contacts")
    velloso = Customer.objects.get(name="Velloso Tiles")
    assert list(velloso.tags.values_list("name", flat=True)) == ["Customers"]  # not "* myContacts"
    assert velloso.contacts.get().email == "amaranta@vellosotiles.example"  # E-mail 1, not 2
    theo = Contact.objects.get(name="Theo Brackwater")
    assert (theo.birthday_year, theo.birthday_month, theo.birthday_day) == (None, 11, 5)


def test_odoo_contacts_owners_by_name_or_email(client, alice, bob, north):
    client.force_login(alice)
    customer_import = import_shape(client, "odoo_contacts")
    assert mapping_of(customer_import)["Name"] == "contact_name"  # beside a company column
    assert mapping_of(customer_import)["Related Company"] == "name"
    idris = Contact.objects.get(name="Idris Kalloway").customer
    assert (idris.name, idris.owner, idris.customer_since) == (
        "Lumen Orchard", bob, datetime.date(2022, 3, 8)
    )
    saoirse = Customer.objects.get(name="Saoirse Penhallow")
    assert saoirse.owner == alice and not saoirse.tags.exists()


def test_excel_unicode_text_is_utf16_and_tab_separated(client, alice, north):
    client.force_login(alice)
    customer_import = import_shape(client, "excel_unicode_text")
    assert (customer_import.options["encoding"], customer_import.options["delimiter"]) == ("utf-16", "\t")
    assert Contact.objects.get(email="lukasz@zabka.example").name == "Łukasz Żak"
