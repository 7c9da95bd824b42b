"""
The calendar feed: valid iCalendar holding exactly its user's own Today over a year — nothing of
a teammate's, nothing of another team's — at a secret address kept hashed, that a reset or a
turn-off refuses at once, in a bounded number of queries.
"""

import datetime
import uuid

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from customers.models import Contact, Customer, KeyDate
from customers.services import contact_save, customer_create, key_date_save
from retention.feeds.models import CalendarFeed
from retention.feeds.services import calendar_feed_issue
from touchpoints.services import complaint_acknowledge, complaint_open, promise_create

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2027, 2, 10, 9, 0, tzinfo=datetime.UTC)  # 2027 has no 29 February
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def at_a_fixed_time(settings):
    settings.SITE_URL = "https://crm.example.com"
    settings.PUBLIC_RATE_LIMIT_PER_MINUTE = 100_000
    with time_machine.travel(NOW, tick=False):
        yield


def book_of(user, team, name, *, since=datetime.date(2020, 3, 1), checkin_in=10):
    """A customer of ``user`` with one of each dated thing, and the UIDs (before the @) of its items."""
    customer = customer_create(user=user, team=team, name=name, owner=user, customer_since=since)
    Customer.objects.filter(pk=customer.pk).update(
        next_checkin_due=TODAY + datetime.timedelta(days=checkin_in))
    contact = contact_save(contact=Contact(customer=customer, name=f"{name} Contact",
                                           email=f"{name.replace(' ', '-')}@example.com",
                                           birthday_month=4, birthday_day=2), make_primary=True)
    key_date = key_date_save(key_date=KeyDate(customer=customer, name="Founding day",
                                              date=datetime.date(2001, 6, 1)))
    promise = promise_create(customer=customer, user=user, description=f"Call {name} back",
                             due_on=TODAY + datetime.timedelta(days=3), contact=contact)
    complaint = complaint_open(customer=customer, user=user, summary=f"{name} is unhappy", severity="high")
    return {
        "customer": customer,
        "uids": {f"promise-{promise.pk}", f"complaint-{complaint.pk}", f"checkin-{customer.pk}",
                 f"birthday-{contact.pk}-2027", f"anniversary-{customer.pk}-2027",
                 f"date-{key_date.pk}-2027"},
    }


@pytest.fixture
def books(alice, bob, charlie, maria, north, south):
    alices = book_of(alice, north, "Northwind")
    bobs = book_of(bob, north, "Bobco")
    charlies = book_of(charlie, south, "Southco")
    # Alice owns a customer of South, which she does not see: it is in none of her pages.
    strays = book_of(alice, south, "Stray")
    # A promise Maria made herself to a customer of Alice's.
    marias = promise_create(customer=alices["customer"], user=maria, description="Visit with Alice",
                            due_on=TODAY + datetime.timedelta(days=20))
    return {"alice": alices["uids"], "bob": bobs["uids"], "charlie": charlies["uids"],
            "stray": strays["uids"], "maria": {f"promise-{marias.pk}"}}


def feed_url(user):
    _, token = calendar_feed_issue(user=user)
    return f"/calendar/{token}.ics"


def events(client, url):
    response = client.get(url)
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    return calendar, {str(event["UID"]).split("@")[0]: event for event in calendar.walk("VEVENT")}


@pytest.mark.parametrize("who", ["alice", "maria", "charlie"])
def test_the_feed_holds_exactly_the_users_own_visible_items(request, client, books, who):
    _, found = events(client, feed_url(request.getfixturevalue(who)))
    assert set(found) == books[who]


def test_it_is_valid_icalendar_linking_back_to_each_customer(client, alice, books):
    response = client.get(feed_url(alice))
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    calendar = Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"] == "-//Retention//Calendar feed//EN"
    assert calendar["X-WR-CALNAME"] == "Retention · Alice Archer"
    northwind = Customer.objects.get(name="Northwind")
    for event in calendar.walk("VEVENT"):
        assert str(event["UID"]).endswith("@crm.example.com")
        assert event["DTSTAMP"].dt == NOW
        assert str(event["URL"]) == f"https://crm.example.com/customers/{northwind.pk}/"
        assert str(event["URL"]) in str(event["DESCRIPTION"])
    birthday = next(e for e in calendar.walk("VEVENT") if str(e["UID"]).startswith("birthday-"))
    assert birthday["DTSTART"].dt == datetime.date(2027, 4, 2)  # an all-day event
    assert birthday["DTEND"].dt == datetime.date(2027, 4, 3)
    assert str(birthday["SUMMARY"]) == "Birthday: Northwind Contact · Northwind"


def test_a_uid_stays_the_same_from_one_fetch_to_the_next(client, alice, books):
    url = feed_url(alice)
    assert set(events(client, url)[1]) == set(events(client, url)[1])


def test_what_is_overdue_is_on_today_and_says_since_when(client, alice, north):
    customer = customer_create(user=alice, team=north, name="Late Ltd", owner=alice)
    Customer.objects.filter(pk=customer.pk).update(next_checkin_due=TODAY - datetime.timedelta(days=40))
    promise = promise_create(customer=customer, user=alice, description="Send the contract",
                             due_on=TODAY - datetime.timedelta(days=5))
    _, found = events(client, feed_url(alice))
    for uid, due in ((f"promise-{promise.pk}", "2027-02-05"), (f"checkin-{customer.pk}", "2027-01-01")):
        assert found[uid]["DTSTART"].dt == TODAY
        assert f"Overdue: due {due}." in str(found[uid]["DESCRIPTION"])


def test_a_complaint_is_at_its_resolution_deadline_until_resolved(client, alice, bob, north):
    customer = customer_create(user=alice, team=north, name="Cross Co", owner=alice)
    complaint = complaint_open(customer=customer, user=alice, summary="Broken delivery", severity="high")
    url = feed_url(alice)
    found = events(client, url)[1]
    assert found[f"complaint-{complaint.pk}"]["DTSTART"].dt == complaint.resolution_due_at
    complaint_acknowledge(complaint=complaint, user=bob)  # Bob handles it from now on
    assert f"complaint-{complaint.pk}" not in events(client, url)[1]
    assert f"complaint-{complaint.pk}" in events(client, feed_url(bob))[1]


def test_a_29_february_birthday_falls_on_28_february_in_other_years(client, alice, north):
    customer = customer_create(user=alice, team=north, name="Leap Ltd", owner=alice)
    contact = contact_save(contact=Contact(customer=customer, name="Leap Day", birthday_month=2,
                                           birthday_day=29), make_primary=True)
    found = events(client, feed_url(alice))[1]
    assert found[f"birthday-{contact.pk}-2027"]["DTSTART"].dt == datetime.date(2027, 2, 28)


def test_the_window_is_30_days_back_and_11_months_ahead(client, alice, north):
    customer = customer_create(user=alice, team=north, name="Window Co", owner=alice)
    for name, date in [("Too old", TODAY - datetime.timedelta(days=31)),
                       ("Recent", TODAY - datetime.timedelta(days=30)),
                       ("Far", TODAY + datetime.timedelta(days=334)),
                       ("Too far", TODAY + datetime.timedelta(days=335))]:
        key_date_save(key_date=KeyDate(customer=customer, name=name, date=date,
                                       recurrence=KeyDate.Recurrence.ONCE))
    found = {str(e["SUMMARY"]).split(":")[0] for e in events(client, feed_url(alice))[1].values()}
    assert {"Recent", "Far"} <= found and not {"Too old", "Too far"} & found


def test_it_answers_in_a_bounded_number_of_queries(client, alice, north, django_assert_max_num_queries):
    url = feed_url(alice)
    book_of(alice, north, "First")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(15):
        book_of(alice, north, f"More {n}")
    with django_assert_max_num_queries(len(few)):
        found = events(client, url)[1]
    assert len(found) == 16 * 6


def test_an_unknown_token_answers_404_saying_nothing(client, alice):
    response = client.get(f"/calendar/{uuid.uuid4().hex}.ics")
    assert response.status_code == 404
    assert b"BEGIN:VCALENDAR" not in response.content


def test_a_reset_address_stops_the_old_one_at_once(client, alice, books):
    old = feed_url(alice)
    assert client.get(old).status_code == 200
    new = feed_url(alice)
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_the_feed_of_an_inactive_user_answers_404(client, alice):
    url = feed_url(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert client.get(url).status_code == 404


def test_the_token_is_long_and_kept_only_as_a_hash(alice):
    _, token = calendar_feed_issue(user=alice)
    assert len(token) >= 43  # 32 random bytes: 256 bits
    assert token not in str(list(CalendarFeed.objects.values_list()))


def test_the_last_fetch_is_noted_at_most_every_five_minutes(client, alice):
    url = feed_url(alice)
    client.get(url)
    feed = CalendarFeed.objects.get(user=alice)
    assert feed.last_fetched_at == NOW
    with time_machine.travel(NOW + datetime.timedelta(minutes=4), tick=False):
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]
    with time_machine.travel(NOW + datetime.timedelta(minutes=6), tick=False):
        client.get(url)
    feed.refresh_from_db()
    assert feed.last_fetched_at == NOW + datetime.timedelta(minutes=6)


def test_the_feed_is_rate_limited_per_client(client, settings, alice):
    settings.PUBLIC_RATE_LIMIT_PER_MINUTE = 2
    url, address = feed_url(alice), f"198.51.100.{uuid.uuid4().int % 250}"
    statuses = [client.get(url, REMOTE_ADDR=address).status_code for _ in range(3)]
    assert statuses[-1] == 429


# The profile page ------------------------------------------------------------------------------


def test_the_profile_makes_the_address_and_shows_it_once(client, alice, books):
    client.force_login(alice)
    assert "Make my calendar address" in client.get("/accounts/profile/").content.decode()
    response = client.post("/calendar/address/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    url = response.context["url"]
    assert url.startswith("https://crm.example.com/calendar/") and url in response.content.decode()
    assert response.context["subscribe_url"] == "webcal://" + url.removeprefix("https://")
    path = url.removeprefix("https://crm.example.com")
    client.logout()
    assert client.get(path).status_code == 200  # public: no login
    client.force_login(alice)
    profile = client.get("/accounts/profile/").content.decode()
    assert "Your feed is on" in profile and path not in profile


def test_the_profile_resets_and_turns_off_after_confirming(client, alice):
    old = feed_url(alice)
    client.force_login(alice)
    assert "Reset your calendar address?" in client.get("/calendar/address/").content.decode()
    assert client.get(old).status_code == 200  # asking changes nothing
    new = client.post("/calendar/address/").context["url"].removeprefix("https://crm.example.com")
    assert client.get(old).status_code == 404 and client.get(new).status_code == 200
    assert "Turn off your calendar feed?" in client.get("/calendar/off/").content.decode()
    assert client.get(new).status_code == 200
    assert client.post("/calendar/off/").status_code == 302
    assert client.get(new).status_code == 404
    assert not CalendarFeed.objects.exists()


def test_a_teammates_feed_is_neither_shown_nor_turned_off(client, alice, bob, north):
    bobs = feed_url(bob)
    client.force_login(alice)
    client.post("/calendar/off/")
    assert client.get(bobs).status_code == 200
    assert "Make my calendar address" in client.get("/accounts/profile/").content.decode()


def test_other_teams_are_in_no_feed(client, alice, charlie, north, south):
    norths = book_of(alice, north, "Northwind")["uids"]
    souths = book_of(charlie, south, "Southco")["uids"]
    assert not norths & set(events(client, feed_url(charlie))[1])
    assert not souths & set(events(client, feed_url(alice))[1])
