"""
The profile's API tokens and calendar feed in a real browser, with axe-core at both widths on each
step, including the pages that show a secret once (answers to a POST, which the route sweep of
retention/tests/test_accessibility.py cannot open).
"""

import re

import pytest

from retention.tests.accessibility import axe_faults_at_widths
from retention.tests.test_browser import allow_orm_beside_playwright, browser, login, new_context  # noqa: F401

pytestmark = pytest.mark.browser


def test_tokens_and_the_calendar_feed_on_the_profile_page(new_context, live_server, north, alice):  # noqa: F811
    page = new_context().new_page()
    login(page, live_server.url, alice)
    page.goto(f"{live_server.url}/accounts/profile/")
    faults = axe_faults_at_widths(page, "the profile, nothing yet")
    page.get_by_role("button", name="Create token").click()  # no name: the form's own page says why
    page.get_by_text("Give the token a name.").wait_for()
    faults += axe_faults_at_widths(page, "a token without a name")
    page.get_by_role("link", name="Cancel").click()

    page.get_by_label("Name").fill("Accounting sync")
    page.get_by_label("Expires").select_option(label="In 90 days")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("Token")
    assert re.fullmatch(r"rtn_[\w-]{43}", token.input_value())
    assert token.get_attribute("readonly") is not None
    faults += axe_faults_at_widths(page, "the new token")
    page.get_by_role("link", name="I have copied it").click()

    page.get_by_role("button", name="Make my calendar address").click()
    address = page.get_by_label("Calendar address")
    assert re.fullmatch(r"http://[^/]+/calendar/[\w-]{43}\.ics", address.input_value())
    faults += axe_faults_at_widths(page, "the new calendar address")
    page.get_by_role("link", name="I have copied it").click()
    page.get_by_text("Your feed is on").wait_for()
    faults += axe_faults_at_widths(page, "the profile with a token and a feed")

    page.get_by_role("link", name="Revoke Accounting sync").click()
    faults += axe_faults_at_widths(page, "revoking a token")
    page.get_by_role("button", name="Revoke").click()
    page.get_by_text("is revoked").wait_for()
    page.get_by_role("link", name="Reset the address").click()
    faults += axe_faults_at_widths(page, "resetting the calendar address")
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("link", name="Turn off").click()
    faults += axe_faults_at_widths(page, "turning the feed off")
    page.get_by_role("button", name="Turn off").click()
    page.get_by_role("button", name="Make my calendar address").wait_for()
    faults += axe_faults_at_widths(page, "the profile with a revoked token")
    assert not faults, "\n".join(faults)
