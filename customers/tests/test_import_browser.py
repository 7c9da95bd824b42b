"""
The import in a real browser (Playwright driving Chromium against ``live_server``): an account
manager uploads another CRM's export, maps it (two name columns combined into the contact's name, a
column not imported), sees what the first row becomes, previews, imports, and finds the customers.
The browser fixtures are those of ``retention/tests/test_browser.py``.
"""

import pytest

from customers.models import Contact, Customer, CustomerImport
from customers.tests import export_shapes
from retention.tests.test_browser import (  # noqa: F401 (fixtures)
    allow_orm_beside_playwright,
    browser,
    login,
    new_context,
    page,
    shoot,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("imports_dir")]


def test_account_manager_maps_previews_and_imports_a_hubspot_export(page, live_server, tmp_path,  # noqa: F811
                                                                    alice, bob, north):
    export = tmp_path / "hubspot-contacts.csv"
    export.write_bytes(export_shapes.hubspot_contacts())
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and not message.location.get(
        "url", "").endswith("/favicon.ico") and errors.append(message.text))  # the site has none
    login(page, live_server.url, alice)

    page.goto(f"{live_server.url}/customers/")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("CSV file").set_input_files(str(export))
    page.get_by_role("button", name="Upload and map the columns").click()

    customer_import = CustomerImport.objects.get()
    page.wait_for_url(f"{live_server.url}/customers/import/{customer_import.pk}/map/")
    first, last = page.get_by_label("Import “First Name” as"), page.get_by_label("Import “Last Name” as")
    assert (first.input_value(), last.input_value()) == ("contact_first_name", "contact_last_name")
    assert page.get_by_label("Import “Email” as").input_value() == "contact_email"
    assert page.get_by_label("Dates like 05/02/2024 are").input_value() == "mdy"

    # Combine the two name columns into the contact's name, and leave the phone out.
    first.select_option("contact_name")
    last.select_option("contact_name")
    page.get_by_label("Import “Phone Number” as").select_option("")
    summary = page.locator("#mapping-summary")
    assert "Contact name" in summary.inner_text() and "Odalys Fernwright" in summary.inner_text()
    assert "+1 415" not in summary.inner_text()
    shoot(page, "import-mapping.png")
    page.get_by_role("button", name="Check the file").first.click()

    page.wait_for_url(f"{live_server.url}/customers/import/{customer_import.pk}/")
    counts = page.locator("#import-counts")
    assert "4" in counts.inner_text() and "new" in counts.inner_text()
    rows = page.locator("#import-rows")
    assert "Brightfern Labs" in rows.inner_text() and "Tavish Quillon" in rows.inner_text()
    assert not Customer.objects.exists()  # nothing before the confirmation
    shoot(page, "import-preview.png")
    page.get_by_role("button", name="Import 4 rows").click()

    page.wait_for_url(f"{live_server.url}/customers/")
    assert "Imported hubspot-contacts.csv: 4 created" in page.locator("#messages").inner_text()
    listed = page.locator("table").inner_text()
    assert all(name in listed for name in ("Brightfern Labs", "Tavish Quillon", "Eskew Farms"))
    contact = Contact.objects.get(email="odalys@brightfern.example")
    assert (contact.name, contact.phone, contact.customer.name) == (
        "Odalys Fernwright", "", "Brightfern Labs"
    )
    assert Customer.objects.get(name="Tavish Quillon").owner == bob
    assert not errors, errors
