"""
The installation's name and colour (``SITE_NAME``, ``BRAND_COLOR``) on the pages customers reach
from an email and in the emails' header; a colour that is not one is a system check error; the
favicon is linked from every page and ``/favicon.ico`` answers.
"""

import pytest
from django.contrib.staticfiles import finders
from django.core.checks import run_checks

from customers.tests.factories import ContactFactory
from surveys.tests.factories import InvitationFactory
from touchpoints.messaging.wording import EmailLayout

pytestmark = pytest.mark.django_db


@pytest.fixture
def branded(settings):
    settings.SITE_NAME = "Acme Care"
    settings.BRAND_COLOR = "#a3195b"


def test_the_unsubscribe_page_wears_the_installations_name_and_colour(client, branded):
    page = client.get(f"/u/{ContactFactory().unsubscribe_token}/").content.decode()
    assert "Acme Care</header>" in page and "--brand: #a3195b" in page


def test_the_survey_page_wears_the_installations_name_and_colour(client, branded):
    page = client.get(f"/s/{InvitationFactory().token}/").content.decode()
    assert "Acme Care</header>" in page and "--brand: #a3195b" in page


def test_the_emails_header_wears_the_installations_name_and_colour(branded):
    html = EmailLayout().fill(subject="Hello", text="Thank you.", unsubscribe_url="https://x/u/t/")
    assert "Acme Care" in html and "#a3195b" in html and "Thank you." in html


@pytest.mark.parametrize("colour, errors", [("#a3195b", []), ("red", ["retention.E006"]),
                                            ("#fff", ["retention.E006"]),
                                            ("#000000;x:y", ["retention.E006"])])
def test_a_colour_that_is_not_one_is_a_system_check_error(settings, colour, errors):
    settings.BRAND_COLOR = colour
    assert [e.id for e in run_checks() if e.id == "retention.E006"] == errors


def test_every_page_links_the_favicon(client, alice):
    client.force_login(alice)
    link = 'rel="icon" href="/static/favicon.svg"'
    assert link in client.get("/customers/").content.decode()
    assert link in client.get(f"/u/{ContactFactory().unsubscribe_token}/").content.decode()
    assert finders.find("favicon.svg")


def test_favicon_ico_answers_with_the_icon_without_login(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/favicon.svg"
