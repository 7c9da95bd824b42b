"""
The customer's survey journey in a real browser: the invitation is sent through the outbox to a
mail file; the customer opens that email, clicks a score (recorded at once by the page's script),
adds a comment and sees the thanks; the owner then finds the recovery task at the top of Today.
(axe-core checks the survey pages, the team's and the customer's in each state, in
retention/tests/test_accessibility.py.)
"""

import email
import email.policy
from pathlib import Path

import pytest

from customers.models import Contact
from customers.services import contact_save
from retention.tests.test_browser import (  # noqa: F401  (fixtures)
    allow_orm_beside_playwright,
    browser,
    login,
    new_context,
    new_customer,
    page,
    shoot,
)
from surveys.campaigns import campaign_create, campaign_send
from surveys.models import Response
from surveys.tests.factories import SurveyFactory
from touchpoints.models import FollowUp

pytestmark = pytest.mark.browser


def mail_files(folder):
    return sorted(Path(folder).glob("*.log"))


def test_a_customer_answers_from_the_email_and_the_owner_sees_the_recovery_task(
    page,  # noqa: F811  (the fixture)
    new_context,  # noqa: F811  (the fixture)
    live_server,
    settings,
    tmp_path,
    alice,
    north,
):
    settings.SITE_URL = live_server.url
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    customer = new_customer(alice, north, "Journey Joinery")
    contact_save(
        contact=Contact(customer=customer, name="Jo Joiner", email="jo@joinery.example"), make_primary=True
    )
    survey = SurveyFactory()
    campaign_send(campaign=campaign_create(user=alice, survey=survey, name="Journey", filters={}))

    files = mail_files(tmp_path)
    assert len(files) == 1, "one invitation in the mail file"
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "jo@joinery.example"
    html = message.get_body(preferencelist=("html",)).get_content()

    # The customer opens the email and clicks "3" on the scale.
    page.set_content(html)
    page.get_by_role("link", name="3", exact=True).click()
    page.wait_for_url(f"{live_server.url}/s/**/?recorded=1")
    assert page.get_by_role("status").filter(has_text="your score is recorded").is_visible()
    answer = Response.objects.get()
    assert answer.score == 3 and answer.comment == ""

    page.get_by_label("What should we do better?").fill("The last two deliveries were late.")
    page.get_by_role("button", name="Save my answer").click()
    page.get_by_role("heading", name="Thank you!").wait_for()
    assert "within one working day" in page.inner_text("main")
    shoot(page, "survey_thanks.png")
    answer.refresh_from_db()
    assert (answer.score, answer.comment) == (3, "The last two deliveries were late.")
    assert Response.objects.count() == 1

    owner = new_context().new_page()
    login(owner, live_server.url, alice)
    recoveries = owner.locator("#recoveries")
    assert "Journey Joinery" in recoveries.inner_text()
    assert "The last two deliveries were late." in recoveries.inner_text()
    task = FollowUp.objects.get(kind="recovery")
    recoveries.get_by_role("link", name="Log the call").click()
    owner.get_by_label("Summary").fill("Called Jo, apologised, next delivery expedited")
    owner.get_by_role("button", name="Log it and close the task").click()
    owner.wait_for_url(f"{live_server.url}/today/")
    task.refresh_from_db()
    assert task.status == "done" and task.closed_with is not None
    assert owner.locator("#recoveries").count() == 0
