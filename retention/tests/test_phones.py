"""
Every user's main pages on a phone, in a real browser: at 390 and 320 px wide no page scrolls
sideways, lists read as cards, the Customers filters wait behind a button, the customer page puts
the contacts before the timeline and does not pop the keyboard up, and the survey's 0–10 scale
stays a clean, tappable grid with its end labels.

Screenshots of each page at 390 and 1366 px go to ``test-results/screenshots/`` (git-ignored), for
a person to look at.
"""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone

from customers.models import Contact
from customers.services import contact_save
from retention.health.recompute import health_scan
from retention.health.tally import book_days_record
from surveys.services import invitation_create
from surveys.tests.factories import SurveyFactory
from touchpoints.messaging.ledger import outbox_enqueue
from touchpoints.models import Program
from touchpoints.services import touchpoint_log

from .test_browser import (  # noqa: F401
    allow_orm_beside_playwright,
    browser,
    login,
    new_context,  # open_as's
    new_customer,
)

pytestmark = pytest.mark.browser

PHONES = (390, 320)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
# The innermost elements that reach past the right edge, to say what to fix.
WIDER_THAN_THE_SCREEN = """() => [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
    .filter((el) => ![...el.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 1))
    .slice(0, 5).map((el) => `${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 40)}"`)"""


@pytest.fixture
def open_as(new_context, live_server):  # noqa: F811 (the fixture imported above)
    """A page of ``width`` px, logged in as ``user`` (None: a customer, no login)."""
    def open_page(user, width):
        page = new_context().new_page()
        page.set_viewport_size({"width": width, "height": 800})
        if user is not None:
            login(page, live_server.url, user)
        return page
    return open_page


def visit(page, url, shot):
    """Open ``url``, check it fits the screen's width, and keep a screenshot as ``shot``."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    width = page.viewport_size["width"]
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, (
        f"{url} scrolls sideways at {width} px ({scroll_width}): {page.evaluate(WIDER_THAN_THE_SCREEN)}"
    )
    if width in (390, 1366):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{shot}-{width}.png"), full_page=True)


def journey(open_as, user, width, pages, base_url):
    page = open_as(user, width)
    for path, shot in pages:
        visit(page, base_url + path, shot)
    return page


@pytest.fixture
def book(alice, maria, north):
    """A few customers of Alice's, one overdue, with contacts, history and a message sent."""
    today = timezone.localdate()
    overdue = new_customer(alice, north, "Overdue Widgets and Sons International",
                           customer_since=today - datetime.timedelta(days=120))
    contact = contact_save(contact=Contact(customer=overdue, name="Olga Owens", phone="+44 20 7946 0018",
                                           email="olga@widgets.example", is_primary=True))
    for n in range(3):
        touchpoint_log(customer=overdue, user=alice, kind="call", summary=f"Call number {n}",
                       happened_at=timezone.now() - datetime.timedelta(days=40 + n))
    for n in range(6):
        new_customer(alice, north, f"Customer {n} with a fairly long name Ltd")
    outbox_enqueue(occasion_key=f"test:{overdue.pk}", program=Program.Key.CHECKIN, customer=overdue,
                   contact=contact, to=contact.email, subject="How are things at Overdue Widgets?",
                   body_text="Hello")
    health_scan()
    book_days_record()
    return overdue


@pytest.mark.parametrize("width", PHONES)
def test_account_managers_pages_fit_a_phone(open_as, live_server, alice, book, width):
    page = journey(open_as, alice, width, [
        ("/today/", "am-today"), ("/customers/", "am-customers"),
        (f"/customers/{book.pk}/", "am-customer"),
    ], live_server.url)

    # Arriving does not pop the keyboard up: nothing is focused on a phone.
    assert page.evaluate("document.activeElement.name") != "summary"
    # The contacts, to call, come before the timeline.
    contacts = page.locator(".customer-contacts").bounding_box()
    timeline = page.locator(".customer-timeline").bounding_box()
    assert contacts["y"] < timeline["y"]
    assert page.get_by_role("link", name="+44 20 7946 0018").is_visible()

    page.get_by_label("Summary").fill("Called about the renewal")
    page.get_by_role("button", name="Log touchpoint").click()
    page.locator("#log-panel").get_by_role("status").filter(has_text="Logged").wait_for()
    assert page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")[0] <= width


@pytest.mark.parametrize("width", PHONES)
def test_the_customers_filters_wait_behind_a_button_on_a_phone(open_as, live_server, alice, book,
                                                               width):
    page = open_as(alice, width)
    visit(page, f"{live_server.url}/customers/", "am-customers")
    status = page.get_by_label("Status", exact=True)
    assert not status.is_visible()
    page.get_by_role("button", name="Filters").click()
    status.wait_for(state="visible")
    # Each customer is a card: its name first, then its values, each named.
    card = page.locator("tbody tr", has_text="Overdue Widgets")
    title = card.locator(".stack-title").bounding_box()
    status = card.locator("td[data-label='Status']").bounding_box()
    assert title["y"] + title["height"] <= status["y"] and title["x"] == status["x"]  # stacked
    assert "overdue" in card.locator("td[data-label='Check-in']").inner_text()


def test_on_a_wide_screen_the_filters_show_and_the_summary_has_the_focus(open_as, live_server, alice,
                                                                         book):
    page = open_as(alice, 1366)
    visit(page, f"{live_server.url}/customers/", "am-customers")
    assert page.get_by_label("Status", exact=True).is_visible()
    assert not page.get_by_role("button", name="Filters").is_visible()
    visit(page, f"{live_server.url}/customers/{book.pk}/", "am-customer")
    assert page.evaluate("document.activeElement.name") == "summary"
    visit(page, f"{live_server.url}/today/", "am-today")


@pytest.mark.parametrize("width", (*PHONES, 1366))
def test_managers_pages_fit_a_phone(open_as, live_server, maria, book, width):
    journey(open_as, maria, width, [
        ("/today/", "manager-today"), ("/dashboard/", "manager-dashboard"),
        ("/customers/", "manager-customers"), ("/outbox/", "manager-outbox"),
    ], live_server.url)


@pytest.mark.parametrize("width", (*PHONES, 1366))
def test_admins_pages_fit_a_phone(open_as, live_server, admin_user, book, width):
    journey(open_as, admin_user, width, [
        ("/programs/", "admin-programs"), ("/outbox/", "admin-outbox"),
    ], live_server.url)


@pytest.mark.parametrize("width", (*PHONES, 1366))
def test_customers_pages_fit_a_phone_and_the_scale_is_a_clean_grid(open_as, live_server, book,
                                                                  width):
    contact = book.contacts.get()
    invitation = invitation_create(survey=SurveyFactory(), customer=book, contact=contact)
    page = journey(open_as, None, width, [
        (f"/s/{invitation.token}/", "customer-survey"),
        (f"/u/{contact.unsubscribe_token}/", "customer-unsubscribe"),
    ], live_server.url)
    page.goto(f"{live_server.url}/s/{invitation.token}/")

    buttons = [page.locator("label.btn", has_text=re.compile(rf"^\s*{score}\s*$")).bounding_box()
               for score in range(11)]
    rows = sorted({round(box["y"]) for box in buttons})
    assert len(rows) <= 2, rows
    assert min(box["width"] for box in buttons) >= 40 or len(rows) == 1  # big enough to tap
    if len(rows) == 2:  # 0–5 above, 6–10 below, centred under them
        above = [box for box in buttons if round(box["y"]) == rows[0]]
        below = [box for box in buttons if round(box["y"]) == rows[1]]
        assert (len(above), len(below)) == (6, 5)
        left_gap = below[0]["x"] - above[0]["x"]
        right_gap = (above[-1]["x"] + above[-1]["width"]) - (below[-1]["x"] + below[-1]["width"])
        assert abs(left_gap - right_gap) <= 2, (left_gap, right_gap)
    assert page.get_by_text("Not at all likely").is_visible()
    assert page.get_by_text("Extremely likely").is_visible()


@pytest.mark.parametrize("width", PHONES)
def test_the_invitations_scale_is_one_row_on_a_phone(new_context, alice, north, width):  # noqa: F811
    """The email as a phone's mail app shows it: 0–10 in one row of equal cells, its ends named."""
    from surveys.email import SurveyEmail, survey_programs

    email = SurveyEmail(survey=SurveyFactory(), program=survey_programs()["survey"])
    _subject, _text, html = email.render(token="t" * 32, customer_name="Bakery", contact_name="Pia",
                                        owner=alice, signature="", unsubscribe_token="u" * 32)
    page = new_context().new_page()
    page.set_viewport_size({"width": width, "height": 800})
    page.set_content(html)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    cells = [page.get_by_role("link", name=re.compile(rf"^{score}\b")).bounding_box() for score in range(11)]
    assert len({round(cell["y"]) for cell in cells}) == 1
    assert len({round(cell["width"]) for cell in cells}) == 1  # equal cells
    assert page.get_by_text("0: Not at all likely").is_visible()
    assert page.get_by_text("10: Extremely likely").is_visible()
