"""
The Webhooks pages pass axe-core at desktop and phone widths, in their states: empty, an endpoint
switched off for failing (the banner), the secret shown once, a delivery log with every status,
the form refused with its errors, and the confirmations; and the form is used with the keyboard.
(The project-wide sweep, ``retention/tests/test_accessibility.py``, opens them with the book too.)
"""

import pytest
from django.utils import timezone

from retention.tests.accessibility import axe_faults_at_widths, settle
from retention.tests.test_accessibility import sweep
from retention.tests.test_browser import (  # noqa: F401
    allow_orm_beside_playwright,
    browser,
    login,
    new_context,
)
from retention.webhooks.models import Delivery, Endpoint
from touchpoints.services import complaint_open

from .conftest import subscribe

pytestmark = pytest.mark.browser

PUBLIC_URL = "https://93.184.215.14/hook"


def test_the_webhooks_pages_pass_axe_in_each_state(new_context, live_server, admin_user, customer, alice):  # noqa: F811
    page = new_context().new_page()
    login(page, live_server.url, admin_user)
    faults = sweep(page, live_server.url, ["/webhooks/"], who="admin, no endpoints")

    endpoint, _ = subscribe(PUBLIC_URL)
    failing, _ = subscribe("https://93.184.215.15/other", events=["promise.broken", "complaint.opened"])
    for number in range(4):
        complaint_open(customer=customer, user=alice, summary=f"Complaint {number}", severity="low")
    statuses = ["pending", "delivered", "failed", "sending"]
    for delivery, status in zip(Delivery.objects.filter(endpoint=endpoint), statuses, strict=True):
        Delivery.objects.filter(pk=delivery.pk).update(
            status=status, attempts=3, last_status_code=503, last_error="HTTP 503: Service Unavailable",
            delivered_at=timezone.now() if status == "delivered" else None)
    Endpoint.objects.filter(pk=failing.pk).update(
        enabled=False, disabled_reason="Switched off: an event failed 8 attempts. Last error: HTTP 500")

    urls = ["/webhooks/", f"/webhooks/{endpoint.pk}/", f"/webhooks/{failing.pk}/",
            f"/webhooks/{endpoint.pk}/edit/", f"/webhooks/{endpoint.pk}/secret/",
            f"/webhooks/{endpoint.pk}/delete/", "/webhooks/new/"]
    faults += sweep(page, live_server.url, urls, who="admin")

    # Registering with the keyboard: a refused address and no event, then the secret, once.
    page.goto(live_server.url + "/webhooks/new/")
    # The address field takes the focus by itself (autofocus); type once it has it, as a person would.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_url'")
    page.keyboard.type("https://127.0.0.1/hook")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    settle(page)
    assert "public addresses only" in page.content()
    faults += axe_faults_at_widths(page, "/webhooks/new/ refused")
    page.locator("#id_url").fill(PUBLIC_URL)
    page.get_by_label("complaint.opened", exact=False).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Add the endpoint").click()
    settle(page)
    secret = Endpoint.objects.latest("pk").secret
    assert page.locator("#endpoint-secret").input_value() == secret
    faults += axe_faults_at_widths(page, "endpoint page with its secret")
    page.context.close()
    assert not faults, "\n".join(faults)
