"""
Each user's main journey in a real browser: Playwright driving headless Chromium against
pytest-django's ``live_server``.

The account manager logs a call from Today with the keyboard alone, creates a customer with a
contact and edits it, and is stopped from overwriting a colleague's edit; the manager reads the
dashboard and its chart; the customer answers a survey and unsubscribes without logging in; an
outsider meets the 404 page. Every journey checks what the page shows and what the database holds.

Screenshots of the customer page after logging and of the dashboard go to ``/tmp/shots/``.
"""

import datetime
import os
import re
from pathlib import Path

import pytest
from django.utils import timezone

from conftest import require_or_skip
from customers.access import is_manager
from customers.models import Contact, Customer
from customers.services import contact_save, customer_create
from retention.health.recompute import health_scan
from retention.health.tally import book_days_record
from retention.today import TODAY_FIRST
from surveys.models import Response
from surveys.services import invitation_create
from surveys.tests.factories import SurveyFactory
from touchpoints.models import Promise, Touchpoint
from touchpoints.services import promise_create

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage"]
PASSWORD = "retention-test"  # what UserFactory sets
SHOTS = Path("/tmp/shots")
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def allow_orm_beside_playwright():
    """
    Playwright's sync API runs an event loop in this thread, so Django would refuse the ORM calls
    the tests make between browser steps. Allowed only while this module's browser runs: set for
    the whole session (at import), the variable would leak into other tests and their
    subprocesses (``manage.py check --deploy`` flags it as a deployment warning).
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(allow_orm_beside_playwright):
    if not Path(CHROMIUM).exists():
        require_or_skip(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_or_skip("the playwright package is not installed")
    playwright = None
    try:
        playwright = sync_playwright().start()
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
    except Exception as error:
        if playwright is not None:
            playwright.stop()
        require_or_skip(f"Playwright could not start Chromium: {error}")
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def new_context(browser):
    """A factory of fresh browser contexts (separate cookies: one per user), closed afterwards."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1280, "height": 900},
                                      timezone_id="UTC", locale="en-US")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


def login(page, base_url, user, lands_on=None):
    """Sign in through the form; wait for the page the role lands on (managers: the dashboard)."""
    if lands_on is None:
        lands_on = "/dashboard/" if user.is_superuser or is_manager(user) else "/today/"
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}{lands_on}")


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def new_customer(user, team, name, **fields):
    fields.setdefault("customer_since", timezone.localdate() - datetime.timedelta(days=10))
    fields.setdefault("timezone", "UTC")
    return customer_create(user=user, team=team, name=name, owner=user, **fields)


def test_account_manager_logs_an_overdue_checkin_with_the_keyboard(page, live_server, alice,
                                                                   north):
    today = timezone.localdate()
    customer = new_customer(alice, north, "Overdue Widgets",
                            customer_since=today - datetime.timedelta(days=60))
    contact_save(contact=Contact(customer=customer, name="Olga Owens", email="olga@example.com",
                                 is_primary=True))
    due_before = customer.next_checkin_due
    assert due_before < today
    new_customer(alice, north, "Happy Gadgets")  # contacted recently enough: not on Today

    login(page, live_server.url, alice)
    checkins = page.locator(".card", has=page.get_by_role("heading", name="Check-ins due"))
    entry = checkins.locator("li", has_text="Overdue Widgets")
    assert entry.locator(".badge").inner_text() == "overdue"
    assert "Happy Gadgets" not in checkins.inner_text()

    entry.get_by_role("link", name="Overdue Widgets").click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")

    # On a wide screen the summary has the focus: the keyboard alone logs the call.
    assert page.evaluate("document.activeElement && document.activeElement.name") == "summary"
    page.evaluate("window.__notReloaded = 'still here'")
    page.keyboard.type("Called Olga about the renewal")
    page.keyboard.press("Tab")  # to "Kind"
    assert page.evaluate("document.activeElement.name") == "kind"
    page.keyboard.type("Meeting")  # type-ahead selects the option
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # implicit submission from the summary field

    panel = page.locator("#log-panel")
    panel.get_by_role("status").filter(has_text="Logged").wait_for()
    assert page.evaluate("window.__notReloaded") == "still here", "the page was reloaded"
    assert page.locator("#timeline").get_by_text("Called Olga about the renewal").is_visible()
    assert "with Olga Owens" in page.locator("#timeline").inner_text()
    assert page.locator("#id_summary").input_value() == ""  # a fresh form for the next one
    shoot(page, "customer_after_logging.png")

    touchpoint = Touchpoint.objects.get(customer=customer)
    assert touchpoint.summary == "Called Olga about the renewal"
    assert touchpoint.kind == Touchpoint.Kind.MEETING
    assert touchpoint.author == alice
    assert list(touchpoint.contacts.values_list("name", flat=True)) == ["Olga Owens"]
    customer.refresh_from_db()
    assert customer.next_checkin_due == today + datetime.timedelta(days=customer.cadence_days)
    assert customer.next_checkin_due > due_before

    page.goto(f"{live_server.url}/today/")
    assert page.get_by_text("Overdue Widgets").count() >= 1  # in "recent touchpoints"
    assert "Overdue Widgets" not in page.locator(
        ".card", has=page.get_by_role("heading", name="Check-ins due")).inner_text()


def test_logging_a_call_on_today_updates_the_count_in_place(page, live_server, alice, north):
    today = timezone.localdate()
    for name in ["First Overdue", "Second Overdue"]:
        new_customer(alice, north, name, customer_since=today - datetime.timedelta(days=60))
    customer = new_customer(alice, north, "Promised Today")
    promise_create(customer=customer, user=alice, description="Send the price list",
                   due_on=today)

    login(page, live_server.url, alice)
    count = page.locator("#count-checkins")
    assert count.inner_text() == "2"
    page.evaluate("window.__notReloaded = 'still here'")

    entry = page.locator("li", has_text="First Overdue")
    entry.get_by_role("link", name="Log call").click()
    entry.get_by_label("What was it about?").fill("Renewal confirmed")
    entry.get_by_label("What was it about?").press("Enter")

    page.wait_for_function("() => document.getElementById('count-checkins').textContent.trim() === '1'")
    page.locator("#today-recent").get_by_text("Renewal confirmed").wait_for()
    page.locator("li", has_text="Send the price list").get_by_role("button", name="Kept").click()
    page.wait_for_function("() => document.getElementById('count-promises').textContent.trim() === '0'")
    assert page.evaluate("window.__notReloaded") == "still here", "the page was reloaded"
    assert page.url == f"{live_server.url}/today/"


def test_admin_previews_a_program_for_a_customer_found_by_name_with_the_keyboard(
        page, live_server, admin_user, alice, north):
    new_customer(alice, north, "Aardvark Supplies")
    chosen = new_customer(alice, north, "Bramble Bakery")
    contact_save(contact=Contact(customer=chosen, name="Bea Baker", email="bea@example.com",
                                 is_primary=True))
    login(page, live_server.url, admin_user, lands_on="/dashboard/")
    page.get_by_role("navigation").get_by_role("button", name="Administration").or_(
        page.get_by_role("navigation").get_by_role("link", name="Administration")).click()
    page.get_by_role("navigation").get_by_role("link", name="Programs").click()
    page.get_by_role("link", name="Birthday greeting").first.click()
    page.wait_for_url(f"{live_server.url}/programs/birthday/")
    page.evaluate("window.__notReloaded = 'still here'")
    assert "Aardvark Supplies" in page.locator("#preview").inner_text()  # the first, to start with

    page.get_by_label("Subject").fill("Happy birthday, {{ contact.first_name }} {{ contact.nmae }}")
    page.get_by_label("Preview for the customer").fill("brambl")
    page.locator("#preview-customers").get_by_role("link", name="Bramble Bakery").wait_for()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Bramble Bakery"
    page.keyboard.press("Enter")

    page.locator("#preview-subject").filter(has_text="Happy birthday, Bea").wait_for()
    preview = page.locator("#preview").inner_text()
    assert "Bramble Bakery" in preview and "No such placeholder" in preview
    assert "{{ contact.nmae }}" in preview
    assert page.evaluate("window.__notReloaded") == "still here", "the page was reloaded"
    assert page.get_by_label("Subject").input_value().startswith("Happy birthday")  # unsaved, kept


def test_account_manager_opens_the_promise_and_purchase_forms_with_the_keyboard(page, live_server,
                                                                              alice, north):
    customer = new_customer(alice, north, "Promised Parts")
    contact_save(contact=Contact(customer=customer, name="Petra Park", email="petra@example.com",
                                 is_primary=True))
    login(page, live_server.url, alice)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.evaluate("window.__notReloaded = 'still here'")

    # The form is not on the page until asked for; the link loads it in place, cursor in it.
    promises = page.locator("#customer-promises")
    assert promises.locator("form").count() == 0
    promises.get_by_role("link", name="Record a promise").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'promise_description'")  # htmx settles
    page.keyboard.type("Send the revised quote")
    page.keyboard.press("Enter")  # implicit submission; contact and due date have defaults
    promises.get_by_role("status").filter(has_text="Promise recorded").wait_for()
    assert page.evaluate("window.__notReloaded") == "still here", "the page was reloaded"
    promise = Promise.objects.get(customer=customer)
    assert (promise.description, promise.contact.name) == ("Send the revised quote", "Petra Park")

    purchases = page.locator("#purchases")
    purchases.get_by_role("link", name="Add purchase").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.name === 'purchase-date'")
    purchases.locator("#id_purchase-amount").fill("250")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/#purchases")
    assert customer.purchases.get().amount == 250


def test_account_manager_creates_a_customer_adds_a_contact_and_edits_it(page, live_server,
                                                                      alice, north, south):
    login(page, live_server.url, alice)
    page.get_by_role("navigation").get_by_role("link", name="Customers").click()
    page.get_by_role("link", name="New customer").click()
    page.wait_for_url(f"{live_server.url}/customers/new/")

    team = page.get_by_label("Team")
    assert team.locator("option", has_text="South").count() == 0  # not alice's team
    page.get_by_label("Name").first.fill("Brand New Bakery")
    team.select_option(label="North")
    page.get_by_label("Customer since").fill("2024-05-02")
    page.get_by_label("Timezone").fill("Europe/Berlin")
    page.get_by_label("Tags").fill("bakery; pilot")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(re.compile(r"/customers/\d+/$"))
    customer = Customer.objects.get(name="Brand New Bakery")
    assert page.url == f"{live_server.url}/customers/{customer.pk}/"
    assert page.get_by_role("alert").filter(has_text="Brand New Bakery was added.").is_visible()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Brand New Bakery")
    assert customer.team == north and customer.owner == alice
    assert customer.timezone == "Europe/Berlin"
    assert sorted(customer.tags.values_list("name", flat=True)) == ["bakery", "pilot"]

    contacts = page.locator(".card", has=page.get_by_role("heading", name="Contacts"))
    contacts.get_by_role("link", name="Add").click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/contacts/new/")
    page.get_by_label("Name").first.fill("Pia Baker")
    page.get_by_label("Email").fill("pia@bakery.example")
    page.get_by_label("Birthday").fill("--03-14")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")
    contact_card = contacts.locator(".border-top", has_text="Pia Baker")
    assert "Birthday 14 Mar" in contact_card.inner_text()  # typed as --03-14: no year
    assert "pia@bakery.example" in contact_card.inner_text()
    contact = Contact.objects.get(customer=customer)
    assert (contact.name, contact.birthday_year, contact.birthday_month, contact.birthday_day) == (
        "Pia Baker", None, 3, 14)

    page.get_by_role("link", name="Edit").first.click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/edit/")
    assert page.get_by_label("Name").first.input_value() == "Brand New Bakery"
    page.get_by_label("Check-in cadence (days)").fill("14")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")
    assert page.get_by_role("alert").filter(has_text="Saved 1 change(s)").is_visible()
    assert page.get_by_text("every 14 days").is_visible()
    customer.refresh_from_db()
    assert customer.cadence_days == 14
    assert customer.next_checkin_due == datetime.date(2024, 5, 16)  # since + 14 days
    assert customer.version == 2


def test_a_stale_edit_is_refused_and_shows_the_colleagues_change(new_context, live_server,
                                                                 alice, bob, north):
    customer = new_customer(alice, north, "Shared Shipping")
    edit_url = f"{live_server.url}/customers/{customer.pk}/edit/"
    alice_page, bob_page = new_context().new_page(), new_context().new_page()
    login(alice_page, live_server.url, alice)
    login(bob_page, live_server.url, bob)
    alice_page.goto(edit_url)
    bob_page.goto(edit_url)

    bob_page.get_by_label("Name").first.fill("Shared Shipping GmbH")
    bob_page.get_by_role("button", name="Save").click()
    bob_page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")
    assert bob_page.get_by_role("heading", level=1).inner_text().startswith(
        "Shared Shipping GmbH")

    alice_page.get_by_label("Name").first.fill("Shared Shipping Ltd")
    alice_page.get_by_label("Source").fill("trade fair")
    alice_page.get_by_role("button", name="Save").click()
    alice_page.wait_for_load_state()

    assert alice_page.url == edit_url  # still on the form, not redirected as after a save
    assert alice_page.get_by_role("alert").filter(
        has_text="Someone else saved this customer while you were editing").is_visible()
    changed = alice_page.locator(".alert-warning", has_text="Changed meanwhile").inner_text()
    assert "Bob Baker changed name" in changed
    assert "Shared Shipping GmbH" in changed
    # The form now holds the saved state, so alice can make her change again on top of bob's.
    assert alice_page.get_by_label("Name").first.input_value() == "Shared Shipping GmbH"

    customer.refresh_from_db()
    assert customer.name == "Shared Shipping GmbH"
    assert customer.source == ""
    assert customer.version == 2


def test_manager_sees_coverage_by_account_manager_and_the_chart(page, live_server, maria, alice,
                                                                 charlie, north, south):
    today = timezone.localdate()
    new_customer(alice, north, "North Covered")
    new_customer(alice, north, "North Overdue", customer_since=today - datetime.timedelta(days=90))
    new_customer(charlie, south, "South Covered")
    health_scan()
    book_days_record()  # the nightly tally the dashboard's figures read

    login(page, live_server.url, maria, lands_on="/dashboard/")

    rows = page.locator("#coverage-table tbody tr")
    assert rows.count() == 2
    cells = [[c.strip() for c in rows.nth(n).locator("td").all_inner_texts()] for n in range(2)]
    assert cells == [["Alice Archer", "2", "1", "0", "1", "50%", "—"],
                     ["Charlie Chen", "1", "1", "0", "0", "100%", "—"]]
    at_risk = page.locator("#at-risk-list").inner_text()
    assert "North Overdue" in at_risk and "North Covered" not in at_risk

    page.wait_for_function(
        "() => window.Chart && window.Chart.getChart(document.getElementById('coverage-chart'))"
    )
    size = page.locator("#coverage-chart").bounding_box()
    assert size and size["width"] > 0 and size["height"] > 0
    chart = page.evaluate("""() => {
        const chart = Chart.getChart(document.getElementById('coverage-chart'));
        return {labels: chart.data.labels, data: chart.data.datasets[0].data};
    }""")
    assert chart == {"labels": ["Alice Archer", "Charlie Chen"], "data": [50, 100]}
    # Once the bars have grown in, they are drawn to scale: Alice's half as long as Charlie's.
    page.wait_for_function(
        "() => !Chart.animator.running(Chart.getChart(document.getElementById('coverage-chart')))"
    )
    lengths = page.evaluate(
        "() => Chart.getChart(document.getElementById('coverage-chart'))"
        ".getDatasetMeta(0).data.map(bar => bar.x - bar.base)"
    )
    assert lengths[1] > 0 and abs(lengths[0] / lengths[1] - 0.5) < 0.02, lengths
    shoot(page, "dashboard.png")


def test_customer_answers_a_survey_once_and_unsubscribes(page, live_server, alice, north):
    customer = new_customer(alice, north, "Survey Supplies")
    contact = contact_save(contact=Contact(customer=customer, name="Sam Surveyed",
                                           email="sam@supplies.example"))
    invitation = invitation_create(survey=SurveyFactory(), customer=customer, contact=contact)
    survey_url = f"{live_server.url}/s/{invitation.token}/"

    page.goto(survey_url)
    assert page.get_by_role("heading", name="Survey Supplies, how are we doing?").is_visible()
    assert page.get_by_role("navigation").count() == 0  # public page: no app navigation
    page.locator("label.btn", has_text=re.compile(r"^\s*9\s*$")).click()  # the "9" button
    assert page.get_by_role("radio", name="9", exact=True).is_checked()
    page.get_by_label("What should we do better?").fill("Quick answers, friendly people.")
    page.get_by_role("button", name="Send my answer").click()

    page.get_by_role("heading", name="Thank you!").wait_for()
    assert "reached Alice Archer" in page.inner_text("main")

    page.goto(survey_url)  # a second visit shows the answer, to amend, never a second one
    assert "You answered 9" in page.inner_text("main")
    responses = Response.objects.filter(invitation=invitation)
    assert responses.count() == 1
    assert (responses[0].score, responses[0].comment) == (9, "Quick answers, friendly people.")

    response = page.goto(f"{live_server.url}/u/{contact.unsubscribe_token}/")
    assert response.status == 200
    assert page.get_by_role("heading", name="Unsubscribe from automated email?").is_visible()
    assert "sam@supplies.example" in page.inner_text("main")
    contact.refresh_from_db()
    assert contact.unsubscribed_at is None  # opening the page alone changes nothing
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    assert "will receive no more automated email" in page.inner_text("main")
    contact.refresh_from_db()
    assert contact.unsubscribed_at is not None


def test_an_outsider_gets_the_404_page_for_another_teams_customer(page, live_server, alice,
                                                                  charlie, north, south):
    customer = new_customer(alice, north, "North Secret Co")
    login(page, live_server.url, charlie)

    response = page.goto(f"{live_server.url}/customers/{customer.pk}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="We couldn’t find that page").is_visible()
    assert "North Secret Co" not in page.content()
    response = page.goto(f"{live_server.url}/customers/{customer.pk}/edit/")
    assert response.status == 404
    customer.refresh_from_db()
    assert customer.name == "North Secret Co"


def test_see_all_opens_a_long_list_in_place_and_its_rows_work_the_same(page, live_server, alice, north):
    today = timezone.localdate()
    for number in range(12):  # more than Today shows
        new_customer(alice, north, f"Overdue {number:02d}",
                     customer_since=today - datetime.timedelta(days=60 + number))

    login(page, live_server.url, alice)
    checkins = page.locator("#section-checkins")
    assert checkins.locator("li").count() == TODAY_FIRST
    assert page.locator("#count-checkins").inner_text() == "12"
    page.evaluate("window.__notReloaded = 'still here'")

    checkins.get_by_role("link", name="See all 12").click()
    page.wait_for_function("() => document.querySelectorAll('#section-checkins li').length === 12")
    assert "1–12 of 12" in page.locator("#section-checkins").inner_text()

    entry = page.locator("#section-checkins li", has_text="Overdue 00")  # the least overdue: last
    entry.get_by_role("link", name="Log call").click()
    entry.get_by_label("What was it about?").fill("Caught up at last")
    entry.get_by_label("What was it about?").press("Enter")
    page.wait_for_function("() => document.getElementById('count-checkins').textContent.trim() === '11'")
    page.locator("#today-recent").get_by_text("Caught up at last").wait_for()
    assert page.evaluate("window.__notReloaded") == "still here", "the page was reloaded"
