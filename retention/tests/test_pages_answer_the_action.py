"""
An action taken in place announces that the book changed (``HX-Trigger: book-changed``), and the
page it came from fetches again, out of band, every count and list that depends on it: Today's
section counts, recent touchpoints, promise rate and follow-ups; the customer page's check-in card
and follow-ups. Each fragment comes from the partial the page itself renders it with.
"""

import datetime
import json
import re

import pytest
from django.test.html import parse_html
from django.utils import timezone

from customers.models import Customer
from customers.tests.factories import ContactFactory, CustomerFactory
from touchpoints.tests.factories import ComplaintFactory, PromiseFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def announces_a_change(response):
    return "book-changed" in json.loads(response.headers.get("HX-Trigger", "{}"))


def oob(html, element_id):
    """The text of the out-of-band element ``element_id`` of ``html`` (None if there is none)."""
    def find(node):
        if isinstance(node, str):
            return None
        attributes = dict(node.attributes)
        if attributes.get("id") == element_id and attributes.get("hx-swap-oob") == "true":
            return node
        return next(filter(None, map(find, node.children)), None)

    def text(node):
        return node if isinstance(node, str) else " ".join(map(text, node.children))

    found = find(parse_html(html))
    return found and " ".join(text(found).split())


def refresh_of_today(client, query=""):
    return client.get(f"/today/?{query}fragment=refresh", headers=HTMX).content.decode()


@pytest.fixture
def overdue(alice, north):
    """Two of alice's customers whose check-in is overdue, the first with a primary contact."""
    today = timezone.localdate()
    customers = [CustomerFactory(team=north, owner=alice, name=name) for name in ["Late One", "Late Two"]]
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(
        next_checkin_due=today - datetime.timedelta(days=5))
    ContactFactory(customer=customers[0], name="Olga Owens", is_primary=True)
    return customers


def test_the_refresh_renders_todays_counts_from_the_pages_own_partials(client, alice, overdue):
    client.force_login(alice)
    page = client.get("/today/").content.decode()
    assert 'id="count-checkins">2</span>' in page
    assert 'hx-trigger="book-changed from:body"' in page

    refresh = refresh_of_today(client)

    assert "<html" not in refresh
    assert oob(refresh, "count-checkins") == "2"
    assert {"count-complaints", "count-promises", "count-meetings", "today-follow-ups",
            "today-promise-rate", "today-recent"} <= set(re.findall(r'id="([\w-]+)" hx-swap-oob', refresh))


def test_logging_a_call_on_today_updates_the_due_count_and_recent_touchpoints(client, alice, overdue):
    client.force_login(alice)

    done = client.post(f"/touchpoints/customers/{overdue[0].pk}/quick-log/",
                       {"kind": "call", "outcome": "reached", "summary": "Renewal is fine"},
                       headers=HTMX)

    assert announces_a_change(done)
    refresh = refresh_of_today(client)
    assert oob(refresh, "count-checkins") == "1"
    assert "Renewal is fine" in oob(refresh, "today-recent")


def test_closing_a_promise_on_today_updates_its_count_and_the_kept_rate(client, alice, north):
    customer = CustomerFactory(team=north, owner=alice)
    promise = PromiseFactory(customer=customer, description="Send the quote",
                             due_on=timezone.localdate())
    client.force_login(alice)
    assert oob(refresh_of_today(client), "count-promises") == "1"

    done = client.post(f"/touchpoints/promises/{promise.pk}/close/", {"status": "kept"},
                       headers=HTMX)

    assert announces_a_change(done)
    refresh = refresh_of_today(client)
    assert oob(refresh, "count-promises") == "0"
    assert "100%" in oob(refresh, "today-promise-rate")


def test_a_refused_action_announces_nothing(client, alice, north):
    customer = CustomerFactory(team=north, owner=alice)
    promise = PromiseFactory(customer=customer, status="kept")
    client.force_login(alice)
    refused = client.post(f"/touchpoints/promises/{promise.pk}/close/", {"status": "kept"},
                          headers=HTMX)
    assert "warning" in refused.content.decode() and not announces_a_change(refused)


def test_a_manager_refreshing_an_account_managers_day_gets_that_day(client, maria, alice, overdue):
    client.force_login(maria)
    page = client.get(f"/today/?user={alice.pk}").content.decode()
    assert f'hx-get="/today/?user={alice.pk}"' in page
    assert oob(refresh_of_today(client, f"user={alice.pk}&"), "count-checkins") == "2"
    assert oob(refresh_of_today(client), "count-checkins") == "0"  # maria's own day


def test_resolving_a_complaint_on_the_customer_page_shows_its_follow_up(client, alice, north):
    customer = CustomerFactory(team=north, owner=alice, name="Grumpy Gears")
    complaint = ComplaintFactory(customer=customer, status="acknowledged")
    client.force_login(alice)
    assert 'id="customer-follow-ups"' in client.get(f"/customers/{customer.pk}/").content.decode()

    done = client.post(f"/touchpoints/complaints/{complaint.pk}/resolve/",
                       {"panel": "customer", "resolution_notes": "Replaced the part"}, headers=HTMX)

    assert announces_a_change(done)
    refresh = client.get(f"/customers/{customer.pk}/?fragment=refresh", headers=HTMX).content.decode()
    assert "whether the complaint is sorted out" in oob(refresh, "customer-follow-ups")
    assert oob(refresh, "customer-summary") is not None


def test_logging_on_the_customer_page_moves_the_checkin_card(client, alice, overdue):
    customer = overdue[1]
    client.force_login(alice)
    before = client.get(f"/customers/{customer.pk}/?fragment=refresh", headers=HTMX).content.decode()
    assert "overdue" in oob(before, "customer-summary")

    done = client.post(f"/touchpoints/customers/{customer.pk}/log/",
                       {"kind": "call", "direction": "outbound", "summary": "Checked in",
                        "outcome": "reached", "happened_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
                       headers=HTMX)

    assert done.status_code == 200 and announces_a_change(done)
    after = client.get(f"/customers/{customer.pk}/?fragment=refresh", headers=HTMX).content.decode()
    assert "overdue" not in oob(after, "customer-summary")
    assert "Last contact never" not in oob(after, "customer-summary")


def test_an_outsider_cannot_refresh_anothers_customer(client, charlie, south, overdue):
    client.force_login(charlie)
    response = client.get(f"/customers/{overdue[0].pk}/?fragment=refresh", headers=HTMX)
    assert response.status_code == 404
