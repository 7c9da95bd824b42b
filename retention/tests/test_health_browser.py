"""
The manager's journey in a real browser: the dashboard, the most valuable customer at risk, the
reason on its page, reassigning it in place — and the new owner finds it on Today. (axe-core checks
these pages with every other in test_accessibility.py.)
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Customer
from customers.services import customer_create, purchase_add
from retention.health.recompute import health_scan
from retention.health.tally import book_days_record
from touchpoints.services import complaint_open

from .test_browser import allow_orm_beside_playwright, browser, login, new_context, shoot  # noqa: F401

pytestmark = pytest.mark.browser


def slipping(owner, team, name, value, days_silent):
    today = timezone.localdate()
    customer = customer_create(user=owner, team=team, name=name, owner=owner, timezone="UTC",
                               customer_since=today - datetime.timedelta(days=days_silent))
    purchase_add(customer=customer, user=owner, date=today - datetime.timedelta(days=200),
                 amount=Decimal(value))
    return customer


@pytest.fixture
def at_risk_book(alice, bob, maria, north):
    big = slipping(alice, north, "Big Slipping Co", "50000", 90)
    complaint_open(customer=big, user=alice, summary="Invoice sent twice", severity="high")
    slipping(alice, north, "Small Slipping", "1000", 95)
    customer_create(user=alice, team=north, name="Happy Fine", owner=alice, timezone="UTC",
                    customer_since=timezone.localdate() - datetime.timedelta(days=5))
    health_scan()
    book_days_record()
    return big


def test_a_manager_reassigns_the_most_valuable_customer_at_risk_and_the_new_owner_sees_it(
    new_context, live_server, at_risk_book, maria, bob  # noqa: F811 - the browser module's fixture
):
    big = at_risk_book
    page = new_context().new_page()
    login(page, live_server.url, maria, lands_on="/dashboard/")

    rows = page.locator("#at-risk-list tbody tr")
    assert rows.count() == 2
    first = rows.nth(0)
    assert "Big Slipping Co" in first.inner_text()  # the most value at stake first
    assert "Not contacted since becoming a customer 90 days ago" in first.inner_text()
    shoot(page, "health_dashboard.png")

    first.get_by_role("link", name="Big Slipping Co", exact=True).click()
    page.wait_for_url(f"{live_server.url}/customers/{big.pk}/")
    health = page.locator("#health")
    assert "At risk" in health.inner_text()
    assert "not contacted since becoming a customer 90 days ago, cadence 30" in health.inner_text().lower()
    assert "Invoice sent twice" in health.inner_text()
    assert health.get_by_role("link", name="Call them and log the call").is_visible()
    shoot(page, "health_customer.png")

    page.go_back()
    page.wait_for_url(f"{live_server.url}/dashboard/")
    row = page.locator(f"#at-risk-{big.pk}")
    row.get_by_role("link", name="Reassign Big Slipping Co", exact=True).click()
    select = row.get_by_label("New owner of Big Slipping Co")
    select.wait_for()
    page.wait_for_function("() => document.activeElement.name === 'owner'")  # the keyboard goes on from here
    select.select_option(label="Bob Baker")
    row.get_by_role("button", name="Reassign", exact=True).click()
    page.locator(f"#at-risk-{big.pk}").get_by_role("status").filter(
        has_text="now belongs to Bob Baker").wait_for()
    assert "Bob Baker" in page.locator(f"#at-risk-{big.pk} td").nth(1).inner_text()
    assert Customer.objects.get(pk=big.pk).owner == bob

    bobs = new_context().new_page()
    login(bobs, live_server.url, bob)
    checkins = bobs.locator(".card", has=bobs.get_by_role("heading", name="Check-ins due"))
    assert checkins.get_by_role("link", name="Big Slipping Co").is_visible()
