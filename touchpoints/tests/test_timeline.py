"""The customer's timeline: one stream of touchpoints, messages, promises and complaints."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.tests.factories import ContactFactory, CustomerFactory
from surveys.selectors import CUSTOMER_TIMELINE
from touchpoints.messaging.ledger import outbox_enqueue
from touchpoints.models import Touchpoint
from touchpoints.selectors import TIMELINE_PAGE_SIZE, timeline_page
from touchpoints.services import complaint_open, promise_create
from touchpoints.tests.factories import ComplaintFactory, PromiseFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def customer(north, alice):
    return CustomerFactory(team=north, owner=alice, name="Northwind")


def hours_ago(hours):
    return NOW - datetime.timedelta(hours=hours)


def test_touchpoints_promises_and_complaints_come_in_one_chronological_stream(customer, alice):
    TouchpointFactory(customer=customer, summary="The call", happened_at=hours_ago(1))
    PromiseFactory(customer=customer, description="The promise", created_at=hours_ago(2))
    ComplaintFactory(customer=customer, summary="The complaint", opened_at=hours_ago(3))
    TouchpointFactory(customer=customer, summary="The visit", kind="visit", happened_at=hours_ago(4))

    page = timeline_page(customer=customer)

    assert [(e.kind, str(e.obj)) for e in page] == [
        ("touchpoint", "Call: The call"), ("promise", "The promise"),
        ("complaint", "The complaint"), ("touchpoint", "Visit: The visit"),
    ]
    assert not page.has_next


def test_a_message_sent_by_the_outbox_appears_as_a_message(customer, alice, mail_locmem,
                                                          django_capture_on_commit_callbacks):
    contact = ContactFactory(customer=customer, email="dana@example.com")
    TouchpointFactory(customer=customer, summary="A call")
    with django_capture_on_commit_callbacks(execute=True):
        outbox_enqueue(occasion_key="birthday:x", program="birthday", customer=customer,
                       contact=contact, to=[contact.email], subject="Happy birthday", body_text="Hi")

    messages = timeline_page(customer=customer, kind="messages")

    assert [e.obj.summary for e in messages] == ["Happy birthday"]
    assert messages.entries[0].obj.kind == Touchpoint.Kind.SYSTEM


@pytest.mark.parametrize("kind, expected", [
    ("call", ["A call"]),
    ("meeting", ["A meeting"]),
    ("promises", ["Send the quote"]),
    ("complaints", ["Late delivery"]),
    ("", ["A call", "A meeting", "Send the quote", "Late delivery"]),
    ("telepathy", ["A call", "A meeting", "Send the quote", "Late delivery"]),
])
def test_the_timeline_filters_by_kind(customer, alice, kind, expected):
    TouchpointFactory(customer=customer, summary="A call", happened_at=hours_ago(1))
    TouchpointFactory(customer=customer, summary="A meeting", kind="meeting", happened_at=hours_ago(2))
    promise_create(customer=customer, user=alice, description="Send the quote",
                   due_on=NOW.date() + datetime.timedelta(days=3))
    complaint = complaint_open(customer=customer, user=alice, summary="Late delivery",
                               severity="high")
    # Put the promise and the complaint after the touchpoints in time.
    type(complaint).objects.filter(pk=complaint.pk).update(opened_at=hours_ago(4))
    customer.promises.update(created_at=hours_ago(3))

    page = timeline_page(customer=customer, kind=kind)

    assert [getattr(e.obj, "summary", None) or e.obj.description for e in page] == expected


def test_the_older_cursor_walks_the_whole_history_once_even_with_equal_times(customer, alice):
    same = hours_ago(5)
    # Rows of three sources at the very same instant, around a page boundary.
    TouchpointFactory.create_batch(30, customer=customer, happened_at=same)
    PromiseFactory.create_batch(10, customer=customer, created_at=same)
    ComplaintFactory.create_batch(12, customer=customer, opened_at=same)
    TouchpointFactory.create_batch(5, customer=customer, happened_at=hours_ago(1))

    seen, before, pages = [], "", 0
    while True:
        page = timeline_page(customer=customer, before=before)
        seen += [(e.kind, e.obj.pk) for e in page]
        pages += 1
        if not page.has_next:
            break
        before = page.next_cursor

    assert len(seen) == len(set(seen)) == 57
    assert pages == 3  # 25 + 25 + 7
    assert seen[:5] == [("touchpoint", pk) for pk in sorted(
        customer.touchpoints.filter(happened_at=hours_ago(1)).values_list("pk", flat=True),
        reverse=True)]


def test_a_tampered_cursor_shows_the_newest_page(customer, alice):
    TouchpointFactory.create_batch(3, customer=customer)
    for bad in ("x", "1_2", "9999999999999999999999_0_1", "a_b_c"):
        assert len(timeline_page(customer=customer, before=bad)) == 3


def test_the_timeline_page_and_its_fragment(client, alice, customer):
    TouchpointFactory.create_batch(30, customer=customer, author=alice)
    client.force_login(alice)

    page = client.get(customer.get_absolute_url())
    timeline = page.context["timeline"]
    assert len(timeline) == TIMELINE_PAGE_SIZE and timeline.has_next
    assert f"before={timeline.next_cursor}" in page.content.decode()

    fragment = client.get(customer.get_absolute_url(),
                          {"fragment": "timeline", "before": timeline.next_cursor},
                          headers={"HX-Request": "true"})
    assert len(fragment.context["timeline"]) == 5 and "<html" not in fragment.content.decode()
    assert "Newest" in fragment.content.decode()


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_customer_page_query_count_does_not_grow_with_the_history(
    client, alice, customer, django_assert_max_num_queries
):
    contact = ContactFactory(customer=customer)
    client.force_login(alice)

    def add_history(n):
        for touchpoint in TouchpointFactory.create_batch(n, customer=customer, author=alice,
                                                         kind="meeting"):
            touchpoint.contacts.add(contact)
        PromiseFactory.create_batch(n, customer=customer, contact=contact)
        ComplaintFactory.create_batch(n, customer=customer, contact=contact, handled_by=alice)

    add_history(2)
    small = queries_for(client, customer.get_absolute_url())
    add_history(60)
    large = queries_for(client, customer.get_absolute_url())
    fragment_url = customer.get_absolute_url() + "?fragment=timeline&kind=meeting"

    assert large <= small
    with django_assert_max_num_queries(10):
        client.get(fragment_url, headers={"HX-Request": "true"})


def test_the_timeline_fragment_reads_a_bounded_number_of_rows_deep_in_the_history(
    client, alice, customer
):
    TouchpointFactory.create_batch(120, customer=customer, author=alice)
    client.force_login(alice)
    page = timeline_page(customer=customer)
    for _ in range(3):
        page = timeline_page(customer=customer, before=page.next_cursor)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(customer.get_absolute_url(),
                              {"fragment": "timeline", "before": page.next_cursor},
                              headers={"HX-Request": "true"})

    assert len(response.context["timeline"]) == 20
    # One query per source, however deep the page, each asking for one page and one row more.
    per_source = [q["sql"] for q in captured.captured_queries
                  if "ORDER BY" in q["sql"] and "LIMIT 26" in q["sql"]]
    assert len(per_source) == len(CUSTOMER_TIMELINE)  # the customer page adds the survey answers
    assert not any("OFFSET" in q["sql"] for q in captured.captured_queries)


def test_html_in_promises_and_complaints_renders_as_text_on_the_timeline(client, alice, customer):
    evil = '<script>alert("x")</script>'
    promise_create(customer=customer, user=alice, description=evil,
                   due_on=NOW.date() + datetime.timedelta(days=1))
    complaint_open(customer=customer, user=alice, summary=evil, description=evil, severity="low")
    client.force_login(alice)
    for response in (
        client.get(customer.get_absolute_url()),
        client.get(customer.get_absolute_url(), {"fragment": "timeline"}, headers={"HX-Request": "true"}),
    ):
        html = response.content.decode()
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_an_outsider_cannot_read_the_timeline(client, charlie, south, customer):
    TouchpointFactory(customer=customer)
    client.force_login(charlie)
    response = client.get(customer.get_absolute_url(), {"fragment": "timeline"},
                          headers={"HX-Request": "true"})
    assert response.status_code == 404


def test_timestamps_survive_the_cursor_to_the_microsecond(customer):
    at = timezone.now().replace(microsecond=123456) - datetime.timedelta(days=1)
    first = TouchpointFactory(customer=customer, happened_at=at)
    TouchpointFactory(customer=customer, happened_at=at + datetime.timedelta(microseconds=1))
    page = timeline_page(customer=customer, size=1)
    rest = timeline_page(customer=customer, before=page.next_cursor, size=1)
    assert [e.obj for e in rest] == [first]
