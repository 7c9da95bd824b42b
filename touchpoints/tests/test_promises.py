"""Promises: recorded from a touchpoint or on their own, closed once, and the kept-on-time rate."""

import datetime

import pytest

from customers.tests.factories import ContactFactory, CustomerFactory, UserFactory
from touchpoints.models import Promise
from touchpoints.selectors import promise_rates
from touchpoints.services import TransitionRefused, promise_close, promise_create
from touchpoints.tests.factories import PromiseFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


def days(n):
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def customer(north, alice):
    return CustomerFactory(team=north, owner=alice, timezone="UTC")


@pytest.fixture
def promise(customer, alice):
    return promise_create(customer=customer, user=alice, description="Send the quote",
                          due_on=days(3))


# Transitions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status, kept_on, expected", [
    ("kept", days(0), "kept"),
    ("kept", None, "kept"),
    ("late", days(0), "kept"),          # "late" is decided by the date, not asked for
    ("exceeded", days(0), "exceeded"),
    ("broken", days(0), "broken"),
])
def test_an_open_promise_closes_as_asked_on_time(promise, alice, status, kept_on, expected):
    promise_close(promise=promise, user=alice, status=status, kept_on=kept_on)
    promise.refresh_from_db()
    assert promise.status == expected and promise.closed_at == NOW
    assert promise.kept_on == (None if expected == "broken" else TODAY)


@pytest.mark.parametrize("status", ["kept", "exceeded"])
def test_delivering_after_the_due_date_is_late(promise, alice, time_machine, status):
    time_machine.move_to(NOW + datetime.timedelta(days=5), tick=False)
    promise_close(promise=promise, user=alice, status=status)
    promise.refresh_from_db()
    assert promise.status == "late" and promise.kept_on == days(5)


def test_delivering_on_the_due_date_itself_is_on_time(promise, alice, time_machine):
    time_machine.move_to(NOW + datetime.timedelta(days=3), tick=False)
    promise_close(promise=promise, user=alice, status="kept")
    assert promise.status == "kept"


@pytest.mark.parametrize("first", ["kept", "broken", "exceeded"])
@pytest.mark.parametrize("then", ["kept", "broken", "exceeded", "late"])
def test_a_closed_promise_cannot_be_closed_again(promise, alice, first, then):
    promise_close(promise=promise, user=alice, status=first)
    stale = Promise.objects.get(pk=promise.pk)
    with pytest.raises(TransitionRefused, match="only an open promise can be closed"):
        promise_close(promise=stale, user=alice, status=then)
    stale.refresh_from_db()
    assert stale.status == first


@pytest.mark.parametrize("status", ["open", "reopened", ""])
def test_anything_but_kept_exceeded_or_broken_is_refused(promise, alice, status):
    with pytest.raises(TransitionRefused, match="kept, exceeded or broken"):
        promise_close(promise=promise, user=alice, status=status)
    promise.refresh_from_db()
    assert promise.status == "open"


def test_a_promise_cannot_be_kept_in_the_future_or_before_it_was_made(promise, alice):
    with pytest.raises(TransitionRefused, match="future"):
        promise_close(promise=promise, user=alice, status="kept", kept_on=days(1))
    with pytest.raises(TransitionRefused, match="before it was made"):
        promise_close(promise=promise, user=alice, status="kept", kept_on=days(-1))
    promise.refresh_from_db()
    assert promise.status == "open"


def test_a_promise_to_another_customers_contact_is_refused(customer, alice, north):
    stranger = ContactFactory(customer=CustomerFactory(team=north))
    with pytest.raises(Exception, match="this customer's contacts"):
        promise_create(customer=customer, user=alice, description="x", due_on=days(1),
                       contact=stranger)
    assert not Promise.objects.exists()


# Through the pages ---------------------------------------------------------------------------


def test_a_promise_made_during_a_call_is_recorded_with_it(client, alice, customer):
    contact = ContactFactory(customer=customer, name="Olga Owens")
    client.force_login(alice)
    response = client.post(f"/touchpoints/customers/{customer.pk}/log/", {
        "kind": "call", "direction": "outbound", "summary": "Renewal call",
        "happened_at": NOW.strftime("%Y-%m-%dT%H:%M"), "contacts": [contact.pk],
        "promise_description": "Send the revised quote", "promise_due_on": days(2).isoformat(),
    }, headers={"HX-Request": "true"})

    assert response.status_code == 200
    promise = Promise.objects.get()
    assert promise.touchpoint.summary == "Renewal call" and promise.contact == contact
    assert promise.owner == alice and promise.due_on == days(2) and promise.status == "open"
    html = response.content.decode()
    assert 'id="customer-promises" hx-swap-oob="true"' in html and "Send the revised quote" in html


@pytest.mark.parametrize("data, field", [
    ({"promise_description": "Send it"}, "promise_due_on"),
    ({"promise_due_on": "2026-03-12"}, "promise_description"),
    ({"promise_description": "Send it", "promise_due_on": "2026-03-01"}, "promise_due_on"),
])
def test_a_half_filled_promise_on_the_log_form_logs_nothing(client, alice, customer, data, field):
    client.force_login(alice)
    response = client.post(f"/touchpoints/customers/{customer.pk}/log/", {
        "kind": "call", "direction": "outbound", "summary": "Renewal call",
        "happened_at": NOW.strftime("%Y-%m-%dT%H:%M"), **data,
    }, headers={"HX-Request": "true"})
    assert field in response.context["form"].errors
    assert not customer.touchpoints.exists() and not Promise.objects.exists()


def test_a_promise_is_recorded_on_its_own_from_the_customer_page(client, alice, customer):
    contact = ContactFactory(customer=customer, is_primary=True)
    client.force_login(alice)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "Record a promise" in page and "No open promises" in page

    response = client.post(f"/touchpoints/customers/{customer.pk}/promises/new/", {
        "description": "Visit the new site", "contact": contact.pk, "due_on": days(10).isoformat(),
    }, headers={"HX-Request": "true"})

    assert response.status_code == 200 and "Visit the new site" in response.content.decode()
    promise = Promise.objects.get()
    assert promise.touchpoint is None and promise.contact == contact and promise.owner == alice
    assert "Visit the new site" in client.get(customer.get_absolute_url()).content.decode()


def test_a_bad_promise_form_is_shown_again_with_its_errors(client, alice, customer):
    client.force_login(alice)
    response = client.post(f"/touchpoints/customers/{customer.pk}/promises/new/", {
        "description": "", "due_on": "2020-01-01",
    }, headers={"HX-Request": "true"})
    form = response.context["promise_form"]
    assert {"description", "due_on"} <= set(form.errors) and not Promise.objects.exists()


def test_marking_a_promise_kept_from_the_customer_page_refreshes_the_panel(client, alice, promise):
    client.force_login(alice)
    response = client.post(f"/touchpoints/promises/{promise.pk}/close/",
                           {"status": "kept", "kept_on": TODAY.isoformat(), "panel": "customer"},
                           headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and 'id="customer-promises"' in html
    assert "kept on 2026-03-10" in html and 'hx-swap-oob="true"' in html  # the timeline too
    promise.refresh_from_db()
    assert promise.status == "kept"


def test_closing_twice_from_today_says_why_and_changes_nothing(client, alice, promise):
    client.force_login(alice)
    url = f"/touchpoints/promises/{promise.pk}/close/"
    first = client.post(url, {"status": "kept"}, headers={"HX-Request": "true"})
    second = client.post(url, {"status": "broken"}, headers={"HX-Request": "true"})
    assert "kept" in first.content.decode() and first["HX-Retarget"] == "closest li"
    assert "already kept" in second.content.decode()
    promise.refresh_from_db()
    assert promise.status == "kept"


def test_without_htmx_closing_redirects_back(client, alice, promise):
    client.force_login(alice)
    response = client.post(f"/touchpoints/promises/{promise.pk}/close/",
                           {"status": "exceeded", "next": "/today/"})
    assert response.status_code == 302 and response["Location"] == "/today/"


def test_the_customer_page_lists_only_open_promises(client, alice, customer):
    PromiseFactory(customer=customer, description="Still open")
    PromiseFactory(customer=customer, description="Done already", status="kept", kept_on=TODAY)
    client.force_login(alice)
    response = client.get(customer.get_absolute_url())
    assert [p.description for p in response.context["open_promises"]] == ["Still open"]


# The kept-on-time rate -----------------------------------------------------------------------


def test_the_kept_on_time_rate_counts_the_last_90_days(customer, alice, bob, admin_user):
    def make(due, status="open", owner=alice):
        return PromiseFactory(customer=customer, owner=owner, due_on=due, status=status)

    make(days(-1), "kept")
    make(days(-10), "exceeded")
    make(days(-20), "late")
    make(days(-30), "broken")
    make(days(-5))                        # open and overdue: counts against
    make(days(0))                         # due today, still open: not yet overdue
    make(days(3))                         # due later: not counted
    make(days(-90), "kept")               # the window's first day
    make(days(-91), "kept")               # outside the window
    make(days(-120))                      # open long past its date: overdue, not in the rate
    make(days(-2), "kept", owner=bob)     # someone else's

    rates = promise_rates(viewer=admin_user, owners=[alice, bob], today=TODAY)

    assert (rates[alice.pk].on_time, rates[alice.pk].counted, rates[alice.pk].percent) == (3, 6, 50)
    assert rates[alice.pk].overdue == 2
    assert (rates[bob.pk].on_time, rates[bob.pk].counted) == (1, 1)


def test_an_account_manager_without_promises_has_no_rate(customer, admin_user):
    nobody = UserFactory()
    rates = promise_rates(viewer=admin_user, owners=[nobody], today=TODAY)
    assert rates[nobody.pk].counted == 0 and rates[nobody.pk].percent is None


def test_the_rate_is_two_queries_for_any_number_of_account_managers(customer, admin_user,
                                                                    django_assert_num_queries):
    owners = UserFactory.create_batch(12)
    for owner in owners:
        PromiseFactory.create_batch(3, customer=customer, owner=owner, due_on=days(-3), status="kept")
    with django_assert_num_queries(2):
        rates = promise_rates(viewer=admin_user, owners=owners, today=TODAY)
    assert all(rate.percent == 100 for rate in rates.values())


def test_the_records_page_shows_each_managed_account_manager(client, maria, alice, charlie, north, south,
                                                             customer, django_assert_max_num_queries):
    PromiseFactory(customer=customer, owner=alice, due_on=days(-3), status="kept")
    PromiseFactory(customer=customer, owner=alice, due_on=days(-4), status="broken")
    client.force_login(maria)
    with django_assert_max_num_queries(9):
        response = client.get("/records/")
    rows = {row["user"].username: row["promises"].percent for row in response.context["rows"]}
    assert rows == {"alice": 50, "bob": None, "charlie": None}
    assert "/today/alice/" in response.content.decode()


def test_the_records_page_is_for_managers_only(client, alice, north):
    client.force_login(alice)
    assert client.get("/records/").status_code == 404
