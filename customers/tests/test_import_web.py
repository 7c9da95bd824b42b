"""
The browser's import: upload, map, preview, confirm once (inline or on a worker), what a web import
may name, refused uploads, and the clean-up of uploads nobody confirmed.
"""

import datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from customers.csv_io.columns import TARGETS
from customers.models import Contact, Customer, CustomerChange, CustomerImport
from customers.tests.csv_files import good_rows, map_columns, upload, upload_and_map
from customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("imports_dir")]


def test_the_import_page_explains_the_columns(client, alice, north):
    client.force_login(alice)
    page = client.get("/customers/import/").content.decode()
    assert all(f"<code>{column}</code>" in page for column in TARGETS)
    example = client.get("/customers/import/example.csv")
    assert example["Content-Type"].startswith("text/csv")
    assert example.content.decode().splitlines()[0].split(",")[:14] == list(TARGETS[:14])


def test_the_example_file_imports_as_it_is(client, alice, north):
    client.force_login(alice)
    example = client.get("/customers/import/example.csv").content
    customer_import = upload_and_map(client, content=example)
    client.post(f"/customers/import/{customer_import.pk}/confirm/")
    second = Customer.objects.get(external_id="ACME-2")
    assert (second.owner, second.team, second.referred_by.external_id) == (alice, north, "ACME-1")
    contact = Contact.objects.get(customer__external_id="ACME-1")
    assert (contact.phone, contact.birthday_display) == ("+49 30 1234567", "--03-14")
    assert Customer.objects.get(external_id="ACME-1").website_domain == "acme.example"
    # Nothing in it that a spreadsheet would run as a formula (neutralised as export does).
    cells = [cell for line in example.decode().splitlines()[1:] for cell in line.split(",")]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))]


def test_upload_map_preview_confirm(client, alice, bob, north, imports_dir,
                                    django_capture_on_commit_callbacks):
    client.force_login(alice)
    response = upload(client, good_rows())
    customer_import = CustomerImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/customers/import/{customer_import.pk}/map/"
    assert customer_import.status == "uploaded"
    assert customer_import.mapping == list(good_rows()[0])  # our own columns map themselves
    stored = Path(customer_import.stored_path)
    assert stored.parent == imports_dir and stored.exists() and stored.name != "customers.csv"

    page = client.get(response["Location"]).content.decode()
    assert "Map the columns of customers.csv" in page and "Dana Doe" in page  # a sample value

    mapped = map_columns(client, customer_import)
    assert mapped["Location"] == f"/customers/import/{customer_import.pk}/"
    customer_import.refresh_from_db()
    assert (customer_import.status, customer_import.create_count, customer_import.update_count) == (
        "checked", 2, 0
    )
    assert not Customer.objects.exists()  # nothing before the confirmation

    preview = client.get(mapped["Location"]).content.decode()
    assert "/confirm/" in preview and "creates <strong>2</strong>" in preview
    assert list(customer_import.rows.values_list("number", "outcome")) == [(2, "created"), (3, "created")]

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"/customers/import/{customer_import.pk}/confirm/", follow=True)

    assert confirmed.redirect_chain == [("/customers/", 302)]
    assert "Imported customers.csv: 2 created, 0 updated, 0 unchanged." in confirmed.content.decode()
    assert Customer.objects.count() == 2
    assert set(CustomerChange.objects.values_list("user", flat=True)) == {alice.pk}
    customer_import.refresh_from_db()
    assert customer_import.status == "imported" and customer_import.imported_at is not None
    assert not customer_import.skip_invalid
    assert not stored.exists()


def test_the_preview_lists_every_problem_and_offers_no_full_import(client, alice, north):
    client.force_login(alice)
    customer_import = upload_and_map(client, [["name", "status"], ["", "active"], ["Acme", "gold"]])
    assert customer_import.status == "checked" and customer_import.invalid_count == 2

    page = client.get(f"/customers/import/{customer_import.pk}/").content.decode()

    assert "row 2: name: missing; every customer needs a name" in page
    assert "row 3: status: unknown status “gold”" in page
    assert "Import 0 rows" not in page and "valid row" not in page  # none is valid: nothing to skip to
    client.post(f"/customers/import/{customer_import.pk}/confirm/")
    client.post(f"/customers/import/{customer_import.pk}/confirm/", {"skip_invalid": "1"})
    assert not Customer.objects.exists()


def test_a_web_import_uses_only_the_uploaders_teams_and_people(client, alice, charlie, north, south):
    theirs = CustomerFactory(team=south, owner=charlie, external_id="S-1")
    client.force_login(alice)
    customer_import = upload_and_map(client, [["external_id", "name", "team", "owner"],
                                              ["N-1", "Ours", "South", ""],
                                              ["N-2", "Ours too", "North", "charlie"],
                                              ["S-1", "Taken over", "North", "alice"]])
    assert customer_import.problems.splitlines() == [
        "row 2: team: unknown team “South”; use one of North",
        "row 3: owner: unknown owner “charlie”; use the username, email or full name of someone in "
        "your teams",
        "row 4: external_id: “S-1” is a customer of a team you do not work with; you cannot update it",
    ]
    theirs.refresh_from_db()
    assert theirs.name != "Taken over"


def test_a_web_import_finds_by_email_only_the_customers_the_uploader_sees(client, alice, charlie,
                                                                          north, south):
    theirs = CustomerFactory(team=south, owner=charlie, name="South Co")
    Contact.objects.create(customer=theirs, name="Dana", email="dana@shared.example", is_primary=True)
    client.force_login(alice)
    customer_import = upload_and_map(client, [["name", "contact_name", "contact_email"],
                                              ["North Co", "Dana", "DANA@shared.example"]])
    assert customer_import.create_count == 1 and customer_import.update_count == 0
    client.post(f"/customers/import/{customer_import.pk}/confirm/")
    assert Customer.objects.get(name="North Co").team == north
    theirs.refresh_from_db()
    assert theirs.name == "South Co" and theirs.version == 1


def test_a_web_import_makes_the_uploader_the_default_owner(client, alice, north):
    client.force_login(alice)
    customer_import = upload_and_map(client, [["name"], ["Acme"]])
    client.post(f"/customers/import/{customer_import.pk}/confirm/")
    customer = Customer.objects.get()
    assert (customer.owner, customer.team) == (alice, north)


def test_another_users_import_is_404(client, alice, bob, north):
    client.force_login(alice)
    customer_import = upload_and_map(client, [["name"], ["Acme"]])

    client.force_login(bob)
    for url in ("", "map/", "not-imported.csv"):
        assert client.get(f"/customers/import/{customer_import.pk}/{url}").status_code == 404
    assert client.post(f"/customers/import/{customer_import.pk}/map/", {}).status_code == 404
    assert client.post(f"/customers/import/{customer_import.pk}/confirm/").status_code == 404
    assert not Customer.objects.exists()
    customer_import.refresh_from_db()
    assert customer_import.status == "checked" and Path(customer_import.stored_path).exists()


def test_confirming_twice_imports_once(client, alice, north):
    client.force_login(alice)
    customer_import = upload_and_map(client, [["name"], ["Acme"], ["Beta"]])
    url = f"/customers/import/{customer_import.pk}/confirm/"

    client.post(url)
    second = client.post(url, follow=True)

    assert Customer.objects.count() == 2
    assert CustomerChange.objects.count() == 2
    assert "was imported already" in second.content.decode()


def test_confirm_needs_a_post(client, alice, north):
    client.force_login(alice)
    customer_import = upload_and_map(client, [["name"], ["Acme"]])
    assert client.get(f"/customers/import/{customer_import.pk}/confirm/").status_code == 405
    assert not Customer.objects.exists()
    assert CustomerImport.objects.get().status == "checked"


def test_an_unmapped_upload_cannot_be_confirmed(client, alice, north):
    client.force_login(alice)
    upload(client, [["name"], ["Acme"]])
    customer_import = CustomerImport.objects.get()
    client.post(f"/customers/import/{customer_import.pk}/confirm/")
    assert client.get(f"/customers/import/{customer_import.pk}/")["Location"].endswith("/map/")
    assert not Customer.objects.exists()


def test_data_changed_since_the_preview_is_checked_again_and_nothing_imported(client, alice, bob, north):
    client.force_login(alice)
    customer_import = upload_and_map(client, [["name", "owner"], ["Acme", "bob"], ["Beta", "alice"]])
    north.members.remove(bob)

    response = client.post(f"/customers/import/{customer_import.pk}/confirm/", follow=True)

    assert "Nothing was imported" in response.content.decode()
    assert "row 2: owner: unknown owner “bob”" in response.content.decode()
    assert not Customer.objects.exists()
    customer_import.refresh_from_db()
    # Checked again: the user may now skip the row, fix the file, or map it again.
    assert (customer_import.status, customer_import.invalid_count, customer_import.valid_count) == (
        "checked", 1, 1
    )
    assert Path(customer_import.stored_path).exists()


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


def test_a_windows_1252_upload_is_read_as_it_is(client, alice, north):
    client.force_login(alice)
    customer_import = upload_and_map(client, content="name\nMüller & Söhne\n".encode("cp1252"))
    assert customer_import.options["encoding"] == "windows-1252"
    client.post(f"/customers/import/{customer_import.pk}/confirm/")
    assert Customer.objects.get().name == "Müller & Söhne"


def test_a_workbook_is_refused_clearly(client, alice, north):
    client.force_login(alice)
    upload(client, content=b"PK\x03\x04 rest of a zip archive", name="customers.xlsx")
    customer_import = CustomerImport.objects.get()
    assert customer_import.status == "rejected" and customer_import.stored_path == ""
    assert customer_import.problems == (
        "row 1: file: the file is an Excel workbook (.xlsx) or another zip archive, not a CSV file; "
        "save it as “CSV UTF-8” and import that"
    )
    page = client.get(f"/customers/import/{customer_import.pk}/").content.decode()
    assert "cannot be imported" in page and "/confirm/" not in page


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

    # The check goes to a worker too: the preview waits for it.
    with django_capture_on_commit_callbacks(execute=False) as checking:
        map_columns(client, customer_import)
    page = client.get(url).content.decode()
    assert "Checking 2" in page and 'hx-trigger="every 3s"' in page
    assert len(checking) == 1
    checking[0]()
    customer_import.refresh_from_db()
    assert customer_import.status == "checked" and customer_import.create_count == 2

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


def test_a_check_queued_twice_records_once_and_a_remap_wins(
    client, alice, north, settings, django_capture_on_commit_callbacks
):
    settings.CUSTOMER_IMPORT_INLINE_ROWS = 1
    client.force_login(alice)
    upload(client, good_rows())
    customer_import = CustomerImport.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as first:
        map_columns(client, customer_import)
    with django_capture_on_commit_callbacks(execute=False) as second:
        map_columns(client, customer_import, {"contact_phone": ""})  # mapped again meanwhile
    first[0]()  # the first check's result is stale: not recorded
    assert CustomerImport.objects.get().status == "checking"
    second[0]()
    second[0]()  # delivered twice: recorded once
    customer_import.refresh_from_db()
    assert customer_import.status == "checked" and customer_import.rows.count() == 2
    assert customer_import.mapping[12] == ""


def test_unconfirmed_uploads_are_removed_after_two_days(client, alice, north, imports_dir, time_machine):
    time_machine.move_to(datetime.datetime(2026, 5, 4, 10, 0, tzinfo=datetime.UTC), tick=False)
    client.force_login(alice)
    customer_import = upload_and_map(client, good_rows())
    upload(client, good_rows(), name="never-mapped.csv")
    stored = [Path(path) for path in CustomerImport.objects.values_list("stored_path", flat=True)]

    call_command("run_daily_jobs")
    assert all(path.exists() for path in stored)

    time_machine.shift(datetime.timedelta(days=3))
    call_command("run_daily_jobs")

    assert not any(path.exists() for path in stored)
    assert set(CustomerImport.objects.values_list("status", "stored_path")) == {("rejected", "")}
    assert all("not confirmed" in problems for problems in
               CustomerImport.objects.values_list("problems", flat=True))
    assert client.post(f"/customers/import/{customer_import.pk}/confirm/").status_code == 302
    assert not Customer.objects.exists()
    customer_import.refresh_from_db()
    assert customer_import.status == "rejected" and customer_import.imported_at is None
