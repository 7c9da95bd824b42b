"""
The customer list: search, filters and sorts, paging, and a query count that does not grow with the
rows or the filters.
"""

import datetime
from decimal import Decimal

import pytest
from django.http import QueryDict

from customers.models import Tag
from customers.selectors import customer_search
from customers.tests.factories import ContactFactory, CustomerFactory
from customers.tests.helpers import count_queries
from retention.pagination import _rounded, paginate, rows_needed

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


def test_the_list_searches_contacts_and_pages_without_counting(
    client, alice, north, django_assert_max_num_queries
):
    client.force_login(alice)
    for n in range(60):
        CustomerFactory(team=north, owner=alice, name=f"Customer {n:02d}")
    target = CustomerFactory(team=north, owner=alice, name="Zeta")
    ContactFactory(customer=target, email="needle@example.com")

    assert [c.name for c in client.get("/customers/?q=needle").context["page"]] == ["Zeta"]
    with django_assert_max_num_queries(9) as queries:  # the ninth: the planner's estimate of the total
        first = client.get("/customers/")
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)
    assert len(first.context["page"]) == 50 and first.context["page"].has_next
    second = client.get("/customers/?page=2")
    assert len(second.context["page"]) == 11 and not second.context["page"].has_next


def test_the_list_says_where_in_how_many_results_the_user_is(client, alice, north):
    client.force_login(alice)
    for n in range(61):
        CustomerFactory(team=north, owner=alice, name=f"Customer {n:02d}")

    first = client.get("/customers/").content.decode()
    assert "1–50 of about " in first  # an estimate while more pages follow: no COUNT at scale
    last = client.get("/customers/?page=2").content.decode()
    assert "51–61 of 61 customers" in last  # the last page knows exactly
    past_the_end = client.get("/customers/?page=9").context["page"]
    assert not past_the_end.total_is_exact and past_the_end.total >= 0


@pytest.mark.parametrize(("estimate", "shown"), [(7, 7), (999, 999), (12_437, 12_400), (98_765, 98_800)])
def test_an_estimate_is_shown_to_three_figures(estimate, shown):
    assert _rounded(estimate) == shown


def test_list_query_count_does_not_grow_with_the_page(client, alice, north):
    client.force_login(alice)
    CustomerFactory.create_batch(3, team=north, owner=alice)
    few = count_queries(lambda: client.get("/customers/"))
    CustomerFactory.create_batch(40, team=north, owner=alice)
    assert count_queries(lambda: client.get("/customers/")) == few


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


@pytest.fixture
def searchable(alice, north, south):
    """Customers matching "ber" by name, by a contact, by both, or not at all, in both teams."""
    rows = []
    for n in range(45):
        team = north if n % 5 else south
        name = f"Bergmann {n:02d}" if n % 3 == 0 else f"Acme {n:02d}"
        customer = CustomerFactory(
            team=team, owner=alice, name=name, lifetime_value=(n * 37) % 11 * 100,
            customer_since=datetime.date(2020, 1, 1) + datetime.timedelta(days=n % 7),
            next_checkin_due=datetime.date(2026, 3, 1) + datetime.timedelta(days=n % 4),
        )
        if n % 4 == 0:
            ContactFactory(customer=customer, email=f"hilde.ber{n}@example.com")
        rows.append(customer)
    return rows


@pytest.mark.parametrize("sort", ["name", "-name", "value", "due", "customer_since", "-last_contact"])
def test_a_search_page_holds_the_rows_of_one_search_in_its_order(client, alice, maria, searchable, sort):
    for user in (alice, maria):
        params = QueryDict(f"q=ber&sort={sort}")
        everything = [c.pk for c in customer_search(user=user, params=params)]  # one query, all rows
        assert len(everything) > 12
        for number in (1, 2, 3):
            # Asked for the first rows only, the search runs its halves apart: same rows, same order.
            rows = customer_search(user=user, params=params, rows=rows_needed(number, per_page=5))
            page = paginate(rows, number, per_page=5)
            assert [c.pk for c in page] == everything[(number - 1) * 5 : number * 5]
            assert page.has_next == (len(everything) > number * 5)
        client.force_login(user)
        listed = client.get("/customers/", {"q": "ber", "sort": sort}).context["page"]
        assert [c.pk for c in listed] == everything[:50]


def test_later_pages_keep_the_order_and_the_related_rows(client, alice, north, django_assert_max_num_queries):
    client.force_login(alice)
    for n in range(120):
        CustomerFactory(team=north, owner=alice, name=f"Customer {n:03d}")
    with django_assert_max_num_queries(10):  # the page's ids, then its rows, and the estimated total
        page = client.get("/customers/?page=2").context["page"]
    assert [c.name for c in page] == [f"Customer {n:03d}" for n in range(50, 100)]
    assert all(c.owner == alice for c in page) and page.has_next and page.has_previous
    last = client.get("/customers/?page=3").context["page"]
    assert len(last) == 20 and not last.has_next


@pytest.mark.parametrize(("head", "few"), [
    (2_000, 2_000),  # the first customers of the list hold the page's matches
    (1, 2_000),  # they do not: the holders' customers, looked up by id
    (1, 0),  # more holders than that: the walk through the whole list
])
def test_the_contacts_half_finds_the_same_rows_by_every_route(
    alice, maria, searchable, monkeypatch, head, few
):
    from customers import selectors

    for user in (alice, maria):
        for sort in ("name", "-last_contact", "value"):
            params = QueryDict(f"q=ber&sort={sort}")
            everything = [c.pk for c in customer_search(user=user, params=params)]  # the single OR
            monkeypatch.setattr(selectors, "HEAD", head)
            monkeypatch.setattr(selectors, "FEW_CONTACTS", few)
            for rows in (3, 12, 51):
                found = customer_search(user=user, params=params, rows=rows)
                assert [c.pk for c in found][:rows] == everything[:rows]
            monkeypatch.undo()
