"""
The customer's survey journey in a real browser: the invitation is sent through the outbox to a
mail file; the customer opens that email, clicks a score (recorded at once by the page's script),
adds a comment and sees the thanks; the owner then finds the recovery task at the top of Today.
"""

import datetime
import email
import email.policy
from pathlib import Path

import pytest
from django.utils import timezone

from customers.models import Contact
from customers.services import contact_save
from customers.tests.factories import ContactFactory
from retention.tests.test_browser import (  # noqa: F401  (fixtures)
    allow_orm_beside_playwright,
    browser,
    login,
    new_context,
    new_customer,
    page,
    shoot,
)
from surveys.answers import response_record
from surveys.campaigns import campaign_create, campaign_send
from surveys.models import Response
from surveys.tests.factories import InvitationFactory, SurveyFactory
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


@pytest.mark.parametrize("width", [1366, 390])
def test_the_survey_pages_pass_axe(new_context, live_server, settings, alice, maria, north, width):  # noqa: F811
    """Every survey page, the team's and the customer's, with no serious or critical axe violation."""
    from axe_playwright_python.sync_playwright import Axe

    settings.PUBLIC_RATE_LIMIT_PER_MINUTE = 10_000
    customer = new_customer(alice, north, "Axe Anchors")
    contact_save(
        contact=Contact(customer=customer, name="Ada Axe", email="ada@anchors.example"), make_primary=True
    )
    survey = SurveyFactory()
    campaign = campaign_send(campaign=campaign_create(user=maria, survey=survey, name="Axe", filters={}))
    invitation = campaign.invitations.get()
    answered = InvitationFactory(survey=survey, contact=ContactFactory(customer=customer))
    response_record(invitation=answered, score=2, comment="Invoices arrive late")
    expired = InvitationFactory(
        survey=survey,
        contact=ContactFactory(customer=customer),
        expires_at=timezone.now() - datetime.timedelta(days=1),
    )
    suggestion = answered.response.suggestion
    task = FollowUp.objects.get(kind="recovery")

    axe = Axe()
    page = new_context().new_page()  # noqa: F811  (not the fixture: a page of its own)
    page.set_viewport_size({"width": width, "height": 900})
    problems = []

    def check(path):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                problems.append(
                    f"{path} at {width}px: {violation['id']}: {violation['help']} "
                    f"({[n['target'] for n in violation['nodes']][:3]})"
                )

    for path in (
        f"/s/{invitation.token}/",
        f"/s/{answered.token}/",
        f"/s/{expired.token}/",
        "/s/unknown-token/",
    ):
        check(path)
    login(page, live_server.url, maria, lands_on="/dashboard/")
    for path in (
        "/surveys/",
        f"/surveys/?campaign={campaign.pk}",
        "/surveys/campaigns/",
        "/surveys/campaigns/new/",
        f"/surveys/campaigns/{campaign.pk}/",
        "/surveys/forms/",
        "/surveys/forms/new/",
        f"/surveys/forms/{survey.name}/",
        f"/surveys/forms/{survey.name}/preview/",
        "/surveys/suggestions/",
        f"/surveys/suggestions/{suggestion.pk}/",
        f"/surveys/follow-ups/{task.pk}/log/",
        "/today/",
        f"/customers/{customer.pk}/",
        "/customers/referrers/",
    ):
        check(path)
    assert not problems, "\n".join(problems)
