"""
The customer book: the list's filters, sorts and bulk reassign; the status lifecycle; key dates;
referrals and top referrers; and the query counts of the list and the customer page.

Purchases and lifetime value are in ``test_value.py``.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from customers.forms import CustomerForm
from customers.models import Customer, CustomerChange, KeyDate, Tag
from customers.services import customer_update, purchase_add
from customers.tests.factories import (
    ContactFactory,
    CustomerFactory,
    KeyDateFactory,
    TeamFactory,
    UserFactory,
)
from customers.tests.test_customer_pages import count_queries, form_data

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 10)


@pytest.fixture
def today(time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC), tick=False)
    return TODAY


def listed(client, query=""):
    response = client.get(f"/customers/?{query}")
    assert response.status_code == 200
    return [c.name for c in response.context["page"]]


def due_customer(team, name, *, due, cadence=30, maximum=45, **fields):
    """A customer never contacted whose check-in is due on ``due`` (so its clock started then − cadence)."""
    return CustomerFactory(
        team=team, name=name, cadence_days=cadence, cadence_max_days=maximum,
        customer_since=due - datetime.timedelta(days=cadence), next_checkin_due=due, **fields,
    )


# The list: search, filters and sorts ------------------------------------------------------------


@pytest.mark.parametrize("query", ["ACME", "ext-42", "Dana", "dana@example.com", "+49 30 1234"])
def test_the_search_finds_a_customer_by_name_external_id_and_contact_details(client, alice, north, query):
    client.force_login(alice)
    acme = CustomerFactory(team=north, name="Acme Ltd", external_id="ext-42")
    ContactFactory(customer=acme, name="Dana Doe", email="dana@example.com", phone="+49 30 1234")
    CustomerFactory(team=north, name="Other Corp", external_id="ext-43")
    assert listed(client, f"q={query}") == ["Acme Ltd"]


def test_it_filters_by_status_and_team(client, maria, north, south):
    client.force_login(maria)
    CustomerFactory(team=north, name="North active")
    CustomerFactory(team=north, name="North churned", status="churned", churn_reason="price")
    CustomerFactory(team=south, name="South active")
    assert listed(client, "status=churned") == ["North churned"]
    assert listed(client, f"team={south.pk}") == ["South active"]
    assert listed(client, f"team={north.pk}&status=active") == ["North active"]


def test_it_filters_by_owner_among_assignable_users_or_nobody(client, alice, bob, charlie, north, south):
    client.force_login(alice)
    CustomerFactory(team=north, owner=alice, name="Alice's")
    CustomerFactory(team=north, owner=bob, name="Bob's")
    CustomerFactory(team=north, owner=None, name="Nobody's")
    CustomerFactory(team=south, owner=charlie, name="Charlie's")

    assert listed(client, f"owner={bob.pk}") == ["Bob's"]
    assert listed(client, "owner=none") == ["Nobody's"]
    assert listed(client, f"owner={charlie.pk}") == []  # not someone alice may pick
    page = client.get("/customers/").content.decode()
    assert f'<option value="{bob.pk}">Bob Baker</option>' in page
    assert f'value="{charlie.pk}"' not in page


def test_it_filters_by_tag_whatever_its_case_once_per_customer(client, alice, north):
    client.force_login(alice)
    vip = CustomerFactory(team=north, name="Tagged")
    vip.tags.create(name="VIP")
    vip.tags.create(name="renewal")
    CustomerFactory(team=north, name="Untagged").tags.create(name="vip-ish")
    assert listed(client, "tag=vip") == ["Tagged"]
    assert listed(client, "tag=renewal") == ["Tagged"]
    assert listed(client, "tag=nothing-like-it") == []


def test_the_overdue_filter_keeps_customers_past_their_maximum(client, alice, north, today):
    client.force_login(alice)
    day = datetime.timedelta(days=1)
    customers = [
        due_customer(north, "Overdue today", due=today - 15 * day),  # 30/45: overdue 15 days after due
        due_customer(north, "Overdue long ago", due=today - 100 * day),
        due_customer(north, "Due, not overdue", due=today - 14 * day),
        due_customer(north, "Not due", due=today + 5 * day),
        due_customer(north, "Short cadence overdue", due=today - 2 * day, cadence=10, maximum=12),
        due_customer(north, "Short cadence due", due=today - 1 * day, cadence=10, maximum=12),
    ]
    overdue = listed(client, "overdue=1")
    assert overdue == ["Overdue long ago", "Overdue today", "Short cadence overdue"]
    # The set-based filter agrees with the customer's own reckoning.
    assert sorted(overdue) == sorted(c.name for c in customers if c.checkin_state(today) == "overdue")
    assert "Due, not overdue" in listed(client, "due=1")


def test_the_birthday_filter_keeps_customers_with_a_contact_born_this_month(client, alice, north, today):
    client.force_login(alice)
    march = CustomerFactory(team=north, name="March birthdays")
    ContactFactory(customer=march, birthday_month=3, birthday_day=28)
    ContactFactory(customer=march, birthday_month=3, birthday_day=1, birthday_year=1980)
    april = CustomerFactory(team=north, name="April birthday")
    ContactFactory(customer=april, birthday_month=4, birthday_day=10)
    CustomerFactory(team=north, name="No birthdays")
    assert listed(client, "birthdays=1") == ["March birthdays"]


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("name", ["Alpha", "Bravo", "Charlie"]),
        ("-name", ["Charlie", "Bravo", "Alpha"]),
        ("last_contact", ["Bravo", "Charlie", "Alpha"]),
        ("-last_contact", ["Alpha", "Charlie", "Bravo"]),
        ("value", ["Charlie", "Alpha", "Bravo"]),
        ("customer_since", ["Charlie", "Bravo", "Alpha"]),
        ("-customer_since", ["Alpha", "Bravo", "Charlie"]),
        ("due", ["Bravo", "Alpha", "Charlie"]),
        ("nonsense", ["Alpha", "Bravo", "Charlie"]),
    ],
)
def test_it_sorts_the_list(client, alice, north, sort, expected):
    client.force_login(alice)
    at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    rows = {
        "Alpha": (3, "500.00", 2024, 20),
        "Bravo": (1, "100.00", 2022, 5),
        "Charlie": (2, "900.00", 2020, 30),
    }
    for name, (contacted, value, since, due) in rows.items():
        CustomerFactory(
            team=north, name=name, last_contacted_at=at + datetime.timedelta(days=contacted),
            lifetime_value=Decimal(value), customer_since=datetime.date(since, 1, 1),
            next_checkin_due=datetime.date(2026, 4, due),
        )
    assert listed(client, f"sort={sort}") == expected


def test_filters_stay_in_the_url_of_the_next_page_and_the_form(client, alice, bob, north):
    client.force_login(alice)
    vip = Tag.objects.create(name="vip")
    for n in range(51):
        CustomerFactory(team=north, owner=bob, name=f"Customer {n:02d}").tags.add(vip)
    response = client.get(f"/customers/?owner={bob.pk}&tag=vip&sort=value")
    page = response.content.decode()
    assert response.context["page"].has_next
    assert f"?owner={bob.pk}&amp;tag=vip&amp;sort=value&amp;page=2" in page
    assert f'<option value="{bob.pk}" selected>' in page
    assert 'value="vip"' in page and '<option value="value" selected>' in page


# Bulk reassign --------------------------------------------------------------------------------


def test_a_manager_reassigns_the_ticked_customers_with_history(client, maria, alice, bob, north):
    first = CustomerFactory(team=north, owner=alice, name="First")
    second = CustomerFactory(team=north, owner=None, name="Second")
    kept = CustomerFactory(team=north, owner=alice, name="Not ticked")
    client.force_login(maria)

    response = client.post("/customers/reassign/", {
        "customers": [first.pk, second.pk], "owner": bob.pk, "querystring": "status=active&page=1",
    })

    assert response.status_code == 302
    assert response["Location"] == "/customers/?status=active&page=1"
    for customer in (first, second, kept):
        customer.refresh_from_db()
    assert (first.owner, second.owner, kept.owner) == (bob, bob, alice)
    assert (first.version, second.version, kept.version) == (2, 2, 1)
    changes = CustomerChange.objects.filter(field="owner").order_by("customer__name")
    assert [(c.customer.name, c.user, c.old_value, c.new_value, c.version) for c in changes] == [
        ("First", maria, "alice", "bob", 2),
        ("Second", maria, "", "bob", 2),
    ]
    assert "2 customer(s) reassigned to Bob Baker" in client.get("/customers/").content.decode()


def test_an_account_manager_sees_no_bulk_controls_and_gets_404(client, alice, bob, north):
    customer = CustomerFactory(team=north, owner=alice)
    client.force_login(alice)
    page = client.get("/customers/").content.decode()
    assert "/customers/reassign/" not in page and 'name="customers"' not in page

    response = client.post("/customers/reassign/", {"customers": [customer.pk], "owner": bob.pk})
    assert response.status_code == 404
    customer.refresh_from_db()
    assert customer.owner == alice and customer.version == 1


def test_an_owner_outside_a_customers_team_refuses_the_whole_action(
    client, maria, alice, charlie, north, south
):
    in_north = CustomerFactory(team=north, owner=None, name="North")
    in_south = CustomerFactory(team=south, owner=charlie, name="South")
    client.force_login(maria)

    response = client.post("/customers/reassign/", {"customers": [in_north.pk, in_south.pk],
                                                    "owner": alice.pk}, follow=True)

    in_north.refresh_from_db()
    in_south.refresh_from_db()
    assert (in_north.owner, in_south.owner) == (None, charlie)
    assert in_north.version == in_south.version == 1
    assert not CustomerChange.objects.filter(field="owner").exists()
    page = response.content.decode()
    assert "Alice Archer is not a member of South" in page and "Nothing was changed" in page


def test_customers_of_teams_the_manager_does_not_manage_are_untouched(
    client, alice, bob, charlie, north, south
):
    mona = UserFactory(username="mona")
    north.managers.add(mona)
    south.members.add(mona)  # she sees South's customers but does not manage them
    norths = CustomerFactory(team=north, owner=alice)
    souths = CustomerFactory(team=south, owner=charlie)
    client.force_login(mona)

    page = client.get("/customers/").content.decode()
    assert f'name="customers" value="{norths.pk}"' in page
    assert f'name="customers" value="{souths.pk}"' not in page

    client.post("/customers/reassign/", {"customers": [norths.pk, souths.pk], "owner": bob.pk})
    norths.refresh_from_db()
    souths.refresh_from_db()
    assert norths.owner == bob
    assert souths.owner == charlie and souths.version == 1


def test_an_outsiders_customers_cannot_be_reassigned_by_another_teams_manager(client, alice, bob, north):
    west = TeamFactory(name="West", members=[bob], managers=[UserFactory(username="wes")])
    hidden = CustomerFactory(team=north, owner=alice)
    client.force_login(west.managers.get())
    response = client.post("/customers/reassign/", {"customers": [hidden.pk], "owner": bob.pk}, follow=True)
    hidden.refresh_from_db()
    assert hidden.owner == alice
    assert "None of the ticked customers is in a team you manage" in response.content.decode()


def test_reassign_without_ticks_or_owner_says_what_is_missing(client, maria, bob, north):
    client.force_login(maria)
    response = client.post("/customers/reassign/", {"owner": bob.pk}, follow=True)
    assert "Tick the customers to reassign first." in response.content.decode()
    customer = CustomerFactory(team=north)
    response = client.post("/customers/reassign/", {"customers": [customer.pk]}, follow=True)
    assert "Choose the new owner." in response.content.decode()


# The status lifecycle -------------------------------------------------------------------------

ALLOWED = [
    ("prospect", "active"), ("prospect", "churned"), ("active", "inactive"), ("active", "churned"),
    ("inactive", "active"), ("inactive", "churned"), ("churned", "active"),
]
REFUSED = [
    ("prospect", "inactive"), ("active", "prospect"), ("inactive", "prospect"),
    ("churned", "inactive"), ("churned", "prospect"),
]


@pytest.mark.parametrize("old, new", ALLOWED)
def test_an_allowed_status_change_is_dated_and_kept_in_history(alice, north, time_machine, old, new):
    customer = CustomerFactory(team=north, status=old, churn_reason="price" if old == "churned" else "")
    when = datetime.datetime(2026, 5, 1, 9, 30, tzinfo=datetime.UTC)
    time_machine.move_to(when, tick=False)
    data = {"status": new, "churn_reason": "Moved to a competitor"} if new == "churned" else {"status": new}

    customer, changed = customer_update(customer=customer, user=alice, data=data, version=1)

    customer.refresh_from_db()
    assert customer.status == new and customer.status_changed_at == when and customer.version == 2
    change = customer.changes.get(field="status")
    assert (change.old_value, change.new_value, change.user, change.changed_at) == (old, new, alice, when)


@pytest.mark.parametrize("old, new", REFUSED)
def test_a_status_change_outside_the_lifecycle_is_refused_by_the_service(alice, north, old, new):
    customer = CustomerFactory(team=north, status=old, churn_reason="price" if old == "churned" else "")
    with pytest.raises(ValidationError) as error:
        customer_update(customer=customer, user=alice, data={"status": new}, version=1)
    assert f"cannot go from {old} to {new}" in error.value.message_dict["status"][0]
    customer.refresh_from_db()
    assert customer.status == old and customer.version == 1 and not customer.changes.exists()


def test_the_edit_page_shows_a_refused_transition_on_the_status_field(client, alice, north):
    client.force_login(alice)
    customer = CustomerFactory(team=north, owner=alice, status="prospect")
    response = client.post(f"/customers/{customer.pk}/edit/", form_data(customer, status="inactive"))
    assert response.status_code == 200
    assert response.context["form"].errors["status"] == [
        "A customer cannot go from prospect to inactive; from prospect it can become active or churned."
    ]
    customer.refresh_from_db()
    assert customer.status == "prospect"


def test_the_service_refuses_a_transition_even_when_the_form_lets_it_through(alice, north):
    customer = CustomerFactory(team=north, owner=alice, status="churned", churn_reason="Price")
    # The form judged the edit against a copy that was still active, which may become inactive.
    seen_by_the_form = Customer.objects.get(pk=customer.pk)
    seen_by_the_form.status = "active"
    form = CustomerForm(form_data(customer, status="inactive"), instance=seen_by_the_form, user=alice)
    assert form.is_valid(), form.errors

    with pytest.raises(ValidationError) as error:
        customer_update(customer=customer, user=alice, data=form.service_data(), version=1)

    assert "cannot go from churned to inactive" in error.value.message_dict["status"][0]
    customer.refresh_from_db()
    assert customer.status == "churned" and customer.version == 1 and not customer.changes.exists()


def test_a_churn_needs_a_reason_even_past_the_form(alice, north):
    customer = CustomerFactory(team=north, status="active")
    with pytest.raises(ValidationError) as error:
        customer_update(customer=customer, user=alice, data={"status": "churned"}, version=1)
    assert error.value.message_dict == {"churn_reason": ["Say why the customer churned."]}
    customer.refresh_from_db()
    assert customer.status == "active"


def test_a_win_back_clears_the_churn_reason_which_history_keeps(alice, north):
    customer = CustomerFactory(team=north, status="churned", churn_reason="Too expensive")
    customer, _ = customer_update(customer=customer, user=alice,
                                  data={"status": "active", "churn_reason": "Too expensive"}, version=1)
    customer.refresh_from_db()
    assert customer.status == "active" and customer.churn_reason == ""
    assert customer.changes.get(field="churn_reason").old_value == "Too expensive"


def test_the_customer_page_shows_the_status_history(client, alice, bob, north):
    customer = CustomerFactory(team=north, status="prospect")
    customer, _ = customer_update(customer=customer, user=alice, data={"status": "active"}, version=1)
    customer_update(customer=customer, user=bob, data={"status": "churned", "churn_reason": "Closed"},
                    version=2)
    client.force_login(alice)
    response = client.get(customer.get_absolute_url())
    history = [(c.old_value, c.new_value, c.user) for c in response.context["status_history"]]
    assert history == [("active", "churned", bob), ("prospect", "active", alice)]
    page = response.content.decode()
    assert "Status history" in page and "Prospect → <strong>Active</strong>" in page


# Key dates ------------------------------------------------------------------------------------


def test_a_key_date_is_added_for_a_contact_of_the_customer(client, alice, north):
    client.force_login(alice)
    customer = CustomerFactory(team=north)
    contact = ContactFactory(customer=customer, name="Dana Doe")
    response = client.post(f"/customers/{customer.pk}/key-dates/new/", {
        "key_date-name": "Wedding anniversary", "key_date-date": "2015-06-20",
        "key_date-recurrence": "yearly", "key_date-contact": contact.pk,
    })
    assert response.status_code == 302 and response["Location"].endswith("#key-dates")
    key_date = customer.key_dates.get()
    assert (key_date.name, key_date.date, key_date.recurrence, key_date.contact) == (
        "Wedding anniversary", datetime.date(2015, 6, 20), "yearly", contact)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "Wedding anniversary" in page and "20 June" in page


def test_a_key_date_cannot_name_another_customers_contact(client, alice, north):
    client.force_login(alice)
    customer = CustomerFactory(team=north)
    stranger = ContactFactory(customer=CustomerFactory(team=north))
    response = client.post(f"/customers/{customer.pk}/key-dates/new/", {
        "key_date-name": "Party", "key_date-date": "2026-01-01", "key_date-recurrence": "once",
        "key_date-contact": stranger.pk,
    })
    assert response.status_code == 200 and "contact" in response.context["form"].errors
    assert not KeyDate.objects.exists()


def test_a_key_date_needs_a_name_and_a_date(client, alice, north):
    client.force_login(alice)
    customer = CustomerFactory(team=north)
    response = client.post(f"/customers/{customer.pk}/key-dates/new/", {"key_date-recurrence": "yearly"})
    assert set(response.context["form"].errors) == {"name", "date"}
    assert 'autofocus' in response.content.decode()


def test_a_key_date_is_edited_and_deleted_after_confirmation(client, alice, north):
    client.force_login(alice)
    key_date = KeyDateFactory(customer=CustomerFactory(team=north), name="Founding day",
                              date=datetime.date(2001, 4, 2))
    response = client.post(f"/customers/key-dates/{key_date.pk}/edit/", {
        "key_date-name": "Founded", "key_date-date": "2001-04-03", "key_date-recurrence": "once",
    })
    assert response.status_code == 302
    key_date.refresh_from_db()
    assert (key_date.name, key_date.date, key_date.recurrence) == (
        "Founded", datetime.date(2001, 4, 3), "once")

    confirm = client.get(f"/customers/key-dates/{key_date.pk}/delete/")
    assert confirm.status_code == 200 and "Delete this key date?" in confirm.content.decode()
    assert KeyDate.objects.filter(pk=key_date.pk).exists()
    client.post(f"/customers/key-dates/{key_date.pk}/delete/")
    assert not KeyDate.objects.filter(pk=key_date.pk).exists()


# Referrals ------------------------------------------------------------------------------------


@pytest.fixture
def referrer(north):
    return CustomerFactory(team=north, name="Referrer Inc", external_id="R-1")


@pytest.mark.parametrize("typed", ["R-1", "Referrer Inc", "referrer inc"])
def test_referred_by_is_typed_as_an_external_id_or_exact_name(client, alice, north, referrer, typed):
    client.force_login(alice)
    customer = CustomerFactory(team=north, owner=alice)
    response = client.post(f"/customers/{customer.pk}/edit/", form_data(customer, referred_by=typed))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.referred_by == referrer
    assert customer.changes.get(field="referred_by").new_value == "Referrer Inc"


@pytest.mark.parametrize(
    "typed, message",
    [
        ("Nobody Ltd", "No customer you can see has the external id or the name “Nobody Ltd”."),
        ("Twin", "More than one customer is called “Twin”; type its external id instead."),
        ("Southern", "No customer you can see has the external id or the name “Southern”."),
        ("SELF-1", "A customer cannot refer itself."),
    ],
)
def test_referred_by_refuses_what_it_cannot_resolve(client, alice, north, south, typed, message):
    CustomerFactory(team=north, name="Twin")
    CustomerFactory(team=north, name="Twin")
    CustomerFactory(team=south, name="Southern")  # another team's: alice cannot see it
    customer = CustomerFactory(team=north, owner=alice, external_id="SELF-1")
    client.force_login(alice)
    response = client.post(f"/customers/{customer.pk}/edit/", form_data(customer, referred_by=typed))
    assert response.status_code == 200
    assert response.context["form"].errors["referred_by"] == [message]
    customer.refresh_from_db()
    assert customer.referred_by is None and customer.version == 1


def test_an_unchanged_referrer_stays_even_when_its_name_became_ambiguous(client, alice, north):
    referrer = CustomerFactory(team=north, name="Twin")
    customer = CustomerFactory(team=north, owner=alice, referred_by=referrer)
    CustomerFactory(team=north, name="Twin")
    client.force_login(alice)
    assert client.get(f"/customers/{customer.pk}/edit/").context["form"]["referred_by"].value() == "Twin"
    response = client.post(f"/customers/{customer.pk}/edit/", form_data(customer, referred_by="Twin",
                                                                        needs="More seats"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.referred_by == referrer and customer.needs == "More seats"


def test_a_new_customer_can_be_created_with_its_referrer(client, alice, north, referrer):
    client.force_login(alice)
    client.post("/customers/new/", {
        "name": "Newco", "status": "prospect", "team": north.pk, "timezone": "UTC",
        "cadence_days": 30, "cadence_max_days": 45, "referred_by": "R-1",
    })
    assert Customer.objects.get(name="Newco").referred_by == referrer


def test_the_customer_page_shows_who_referred_it_and_whom_it_referred_with_their_value(
    client, alice, north, south, referrer
):
    CustomerFactory(team=north, name="Brought A", referred_by=referrer, lifetime_value=Decimal("100.50"))
    CustomerFactory(team=north, name="Brought B", referred_by=referrer, lifetime_value=Decimal("20.25"))
    CustomerFactory(team=south, name="Hidden C", referred_by=referrer, lifetime_value=Decimal("999"))
    grandchild = CustomerFactory(team=north, name="Grandchild",
                                 referred_by=Customer.objects.get(name="Brought A"))
    client.force_login(alice)

    response = client.get(referrer.get_absolute_url())
    referrals = response.context["referrals"]
    assert [c.name for c in referrals["rows"]] == ["Brought A", "Brought B"]
    assert (referrals["count"], referrals["value"]) == (2, Decimal("120.75"))
    page = response.content.decode()
    assert "Referred <strong>2</strong> customers" in page and "120.75" in page
    assert "Hidden C" not in page

    child_page = client.get(grandchild.get_absolute_url()).content.decode()
    assert "Brought A</a>" in child_page


def test_a_referrer_in_another_team_is_not_named(client, alice, north, south):
    hidden = CustomerFactory(team=south, name="Southern Secret")
    customer = CustomerFactory(team=north, referred_by=hidden)
    client.force_login(alice)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "Southern Secret" not in page and "a customer outside your teams" in page


def test_many_referrals_are_counted_in_the_database(client, alice, north, referrer):
    for n in range(12):
        CustomerFactory(team=north, name=f"Brought {n:02d}", referred_by=referrer, lifetime_value=n)
    client.force_login(alice)
    referrals = client.get(referrer.get_absolute_url()).context["referrals"]
    assert len(referrals["rows"]) == 10 and referrals["rows"][0].name == "Brought 11"
    assert (referrals["count"], referrals["value"]) == (12, Decimal(sum(range(12))))


def test_top_referrers_ranks_by_count_then_value_among_visible_customers(client, alice, north, south):
    one_big = CustomerFactory(team=north, name="One big")
    two_small = CustomerFactory(team=north, name="Two small")
    one_small = CustomerFactory(team=north, name="One small")
    southern = CustomerFactory(team=south, name="Southern")
    CustomerFactory(team=north, referred_by=one_big, lifetime_value=Decimal("1000"))
    CustomerFactory(team=north, referred_by=two_small, lifetime_value=Decimal("10"))
    CustomerFactory(team=north, referred_by=two_small, lifetime_value=Decimal("20"))
    CustomerFactory(team=north, referred_by=one_small, lifetime_value=Decimal("5"))
    CustomerFactory(team=south, referred_by=one_small, lifetime_value=Decimal("500"))  # unseen
    CustomerFactory(team=south, referred_by=southern, lifetime_value=Decimal("70"))
    client.force_login(alice)

    response = client.get("/customers/referrers/")
    rows = [(r["rank"], r["customer"].name, r["referral_count"], r["referral_value"])
            for r in response.context["page"]]
    assert rows == [
        (1, "Two small", 2, Decimal("30")),
        (2, "One big", 1, Decimal("1000")),
        (3, "One small", 1, Decimal("5")),
    ]
    assert "Southern" not in response.content.decode()
    assert "/customers/referrers/" in client.get("/customers/").content.decode()


def test_top_referrers_pages_with_a_bounded_number_of_queries(client, alice, north):
    client.force_login(alice)

    def make_referrers(count):
        for _ in range(count):
            CustomerFactory(team=north, referred_by=CustomerFactory(team=north, owner=alice))

    make_referrers(2)
    few = count_queries(lambda: client.get("/customers/referrers/"))
    make_referrers(28)
    assert count_queries(lambda: client.get("/customers/referrers/")) == few
    first = client.get("/customers/referrers/").context["page"]
    second = client.get("/customers/referrers/?page=2").context["page"]
    assert (len(first), first.has_next, len(second), second.has_next) == (25, True, 5, False)
    assert second.object_list[0]["rank"] == 26


def test_top_referrers_says_what_to_do_when_empty(client, alice, north):
    client.force_login(alice)
    page = client.get("/customers/referrers/").content.decode()
    assert "No referrals recorded yet." in page and "Referred by" in page


# Visibility of the new pages and actions --------------------------------------------------------


def test_an_outsider_gets_404_on_every_new_page_and_action(client, charlie, alice, bob, north, south):
    customer = CustomerFactory(team=north, owner=alice, name="North's")
    purchase = purchase_add(customer=customer, user=alice, date=datetime.date(2026, 1, 5),
                            amount=Decimal("10.00"))
    key_date = KeyDateFactory(customer=customer)
    client.force_login(charlie)

    gets = [f"/customers/{customer.pk}/purchases/new/", f"/customers/purchases/{purchase.pk}/delete/",
            f"/customers/{customer.pk}/key-dates/new/", f"/customers/key-dates/{key_date.pk}/edit/",
            f"/customers/key-dates/{key_date.pk}/delete/"]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = {
        f"/customers/{customer.pk}/purchases/new/": {"purchase-date": "2026-01-06", "purchase-amount": "5"},
        f"/customers/purchases/{purchase.pk}/delete/": {},
        f"/customers/{customer.pk}/key-dates/new/": {"key_date-name": "X", "key_date-date": "2026-01-01",
                                                     "key_date-recurrence": "once"},
        f"/customers/key-dates/{key_date.pk}/edit/": {"key_date-name": "Hijacked",
                                                      "key_date-date": "2026-01-01",
                                                      "key_date-recurrence": "once"},
        f"/customers/key-dates/{key_date.pk}/delete/": {},
        "/customers/reassign/": {"customers": [customer.pk], "owner": bob.pk},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 404, url

    customer.refresh_from_db()
    key_date.refresh_from_db()
    assert customer.purchases.count() == 1 and customer.lifetime_value == Decimal("10.00")
    assert key_date.name != "Hijacked" and customer.key_dates.count() == 1
    assert customer.owner == alice


# Query counts ---------------------------------------------------------------------------------


def test_the_list_query_count_does_not_grow_with_rows_filters_or_bulk_controls(client, maria, alice, north):
    client.force_login(maria)
    url = f"/customers/?owner={alice.pk}&tag=vip&overdue=1&birthdays=1&sort=value&q=o"
    plain = "/customers/?sort=value"

    vip = Tag.objects.create(name="vip")

    def make(count):
        for _ in range(count):
            customer = CustomerFactory(team=north, owner=alice, name="Some co", next_checkin_due=TODAY)
            customer.tags.add(vip)
            ContactFactory(customer=customer, birthday_month=3, birthday_day=3)

    make(3)
    few, few_plain = count_queries(lambda: client.get(url)), count_queries(lambda: client.get(plain))
    make(40)
    assert count_queries(lambda: client.get(plain)) == few_plain
    assert count_queries(lambda: client.get(url)) == few


def test_the_customer_page_runs_a_bounded_number_of_queries(
    client, alice, bob, north, django_assert_max_num_queries
):
    client.force_login(alice)
    customer = CustomerFactory(team=north, owner=alice, status="prospect")

    def grow(n):
        contacts = ContactFactory.create_batch(n, customer=customer)
        for i in range(n):
            purchase_add(customer=customer, user=alice, date=datetime.date(2025, 1, 1 + i),
                         amount=Decimal("10"))
            KeyDateFactory(customer=customer, contact=contacts[i])
            CustomerFactory(team=north, referred_by=customer)

    grow(1)
    customer.refresh_from_db()
    customer_update(customer=customer, user=bob, data={"status": "active"}, version=customer.version)
    customer.referred_by = CustomerFactory(team=north)
    customer.save(update_fields=["referred_by"])
    few = count_queries(lambda: client.get(customer.get_absolute_url()))
    grow(15)
    with django_assert_max_num_queries(few):
        response = client.get(customer.get_absolute_url())
    assert response.status_code == 200
    assert len(response.context["purchases"]) == 10 and response.context["referrals"]["count"] == 16
    assert few <= 20  # the whole page, every app's panels included (forms load on demand)
