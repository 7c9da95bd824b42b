import datetime
import re

import pytest

from customers.tests.factories import ContactFactory, CustomerFactory, TeamFactory
from retention.health.tally import book_days_record
from retention.today import today_lists
from touchpoints.tests.factories import FollowUpFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def test_today_lists_due_checkins_most_overdue_first_and_only_mine(client, alice, bob, north, charlie, south):
    late = CustomerFactory(
        team=north,
        owner=alice,
        name="Late",
        next_checkin_due=TODAY - datetime.timedelta(days=30),
        customer_since=TODAY - datetime.timedelta(days=60),
    )
    due = CustomerFactory(
        team=north,
        owner=alice,
        name="Due",
        next_checkin_due=TODAY,
        customer_since=TODAY - datetime.timedelta(days=30),
    )
    CustomerFactory(team=north, owner=alice, name="Fine", next_checkin_due=TODAY + datetime.timedelta(days=1))
    CustomerFactory(team=north, owner=bob, name="Bobs", next_checkin_due=TODAY)
    CustomerFactory(team=south, owner=charlie, name="Souths", next_checkin_due=TODAY)
    client.force_login(alice)

    checkins = client.get("/today/").context["checkins"]

    assert [(c.name, state) for c, state in checkins] == [(late.name, "overdue"), (due.name, "due")]


def test_today_shows_birthdays_of_the_next_seven_days(client, alice, north):
    customer = CustomerFactory(team=north, owner=alice)
    ContactFactory(customer=customer, name="Today Person", birthday_month=3, birthday_day=10)
    ContactFactory(customer=customer, name="Sunday Person", birthday_month=3, birthday_day=16)
    ContactFactory(customer=customer, name="Too Late", birthday_month=3, birthday_day=17)
    ContactFactory(customer=customer, name="Yesterday", birthday_month=3, birthday_day=9)
    client.force_login(alice)

    birthdays = client.get("/today/").context["birthdays"]

    assert [(c.name, d) for c, d in birthdays] == [
        ("Today Person", datetime.date(2026, 3, 10)),
        ("Sunday Person", datetime.date(2026, 3, 16)),
    ]


def test_birthdays_are_of_the_books_customers_in_the_program_only(client, alice, bob, north):
    kept = CustomerFactory(team=north, owner=alice, name="Kept")
    ContactFactory(customer=kept, name="Active", birthday_month=3, birthday_day=11)
    ContactFactory(customer=CustomerFactory(team=north, owner=alice, status="inactive", name="Quiet"),
                   name="Inactive", birthday_month=3, birthday_day=12)
    archived = datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC)
    for name, fields in {"Prospect": {"status": "prospect"}, "Churned": {"status": "churned"},
                         "Archived": {"archived_at": archived}}.items():
        ContactFactory(customer=CustomerFactory(team=north, owner=alice, **fields), name=name,
                       birthday_month=3, birthday_day=11)
    ContactFactory(customer=CustomerFactory(team=north, owner=bob), name="Bob's",
                   birthday_month=3, birthday_day=11)
    client.force_login(alice)

    birthdays = client.get("/today/").context["birthdays"]

    assert [(c.name, c.customer.name) for c, _ in birthdays] == [("Active", "Kept"), ("Inactive", "Quiet")]
    assert birthdays.total == 2


def test_a_leap_day_birthday_is_greeted_on_28_february_in_other_years(client, alice, north, time_machine):
    time_machine.move_to(datetime.datetime(2027, 2, 25, 9, 0, tzinfo=datetime.UTC), tick=False)
    ContactFactory(
        customer=CustomerFactory(team=north, owner=alice), name="Leap", birthday_month=2, birthday_day=29
    )
    client.force_login(alice)
    birthdays = client.get("/today/").context["birthdays"]
    assert [(c.name, d) for c, d in birthdays] == [("Leap", datetime.date(2027, 2, 28))]


def test_today_has_empty_states_that_say_what_good_looks_like(client, alice, north):
    client.force_login(alice)
    page = client.get("/today/").content.decode()
    assert "contacted within their cadence" in page and "No open follow-ups" in page


def test_closing_a_followup_from_today(client, alice, north):
    follow_up = FollowUpFactory(customer=CustomerFactory(team=north, owner=alice), assignee=alice)
    client.force_login(alice)
    response = client.post(
        f"/touchpoints/follow-ups/{follow_up.pk}/close/",
        {"status": "done", "next": "https://evil.example.com/"},
    )
    assert response["Location"] == "/today/"
    follow_up.refresh_from_db()
    assert follow_up.status == "done" and follow_up.closed_by == alice


def test_today_query_count_does_not_grow(client, alice, north, django_assert_max_num_queries):
    for _ in range(30):
        customer = CustomerFactory(team=north, owner=alice, next_checkin_due=TODAY)
        ContactFactory(customer=customer, birthday_month=3, birthday_day=11)
        FollowUpFactory(customer=customer, assignee=alice)
    client.force_login(alice)
    # One query per list (recoveries, complaints, check-ins, promises, meetings, follow-ups,
    # birthdays, anniversaries, key dates, new customers, recent touches, the promise rate's two),
    # plus the session.
    with django_assert_max_num_queries(18):
        client.get("/today/")


def test_the_dashboard_shows_coverage_per_account_manager(client, maria, north, south, alice, charlie):
    CustomerFactory(team=north, owner=alice, next_checkin_due=TODAY + datetime.timedelta(days=3))
    CustomerFactory(
        team=north, owner=alice, next_checkin_due=TODAY - datetime.timedelta(days=3), name="Slipping"
    )
    CustomerFactory(team=north, owner=alice, next_checkin_due=TODAY, status="churned")
    CustomerFactory(team=south, owner=charlie, next_checkin_due=TODAY + datetime.timedelta(days=3))
    book_days_record(on=TODAY)  # the nightly tally the dashboard reads
    client.force_login(maria)

    response = client.get("/dashboard/")

    rows = {r["owner"].username: (r["customers"], r["covered"], r["coverage"])
            for r in response.context["coverage_rows"]}
    assert rows == {"alice": (2, 1, 50), "charlie": (1, 1, 100)}
    assert response.context["kpis"]["coverage"].value == 67


def test_the_dashboard_shows_the_lowest_coverage_first_and_all_on_request(
        client, maria, north, south, alice, charlie, monkeypatch):
    monkeypatch.setattr("retention.dashboard.views.COVERAGE_FIRST", 1)
    CustomerFactory(team=north, owner=alice, next_checkin_due=TODAY - datetime.timedelta(days=3))
    CustomerFactory(team=south, owner=charlie, next_checkin_due=TODAY + datetime.timedelta(days=3))
    book_days_record(on=TODAY)
    client.force_login(maria)

    first = client.get("/dashboard/")
    assert [row["owner"] for row in first.context["coverage_shown"]] == [alice]
    assert "The 1 lowest of 2 account managers" in first.content.decode()
    assert first.context["charts"]["coverage"]["coverage"] == [0]

    every = client.get("/dashboard/?coverage=all")
    assert [row["owner"] for row in every.context["coverage_shown"]] == [alice, charlie]
    assert "All 2 account managers, the lowest first" in every.content.decode()


def test_the_at_risk_pages_keep_the_whole_coverage_table_when_it_is_shown(client, maria, north, alice,
                                                                           monkeypatch):
    monkeypatch.setattr("retention.dashboard.at_risk.PER_PAGE", 1)
    for n in range(3):
        CustomerFactory(team=north, owner=alice, health_band="at_risk", health_score=20 + n)
    client.force_login(maria)

    def links(url, page, **headers):
        html = client.get(url, headers=headers).content.decode()
        return re.findall(rf'(href|hx-get)="\?([^"#]*page={page}[^"#]*)', html)

    first = links("/dashboard/?coverage=all", 2)
    onward = links("/dashboard/?coverage=all&page=2&fragment=at-risk", 3, HX_Request="true")
    plain = links("/dashboard/", 2)

    assert {kind for kind, _ in first} == {kind for kind, _ in onward} == {"href", "hx-get"}
    assert all("coverage=all" in url for _, url in first + onward)
    assert plain and not [url for _, url in plain if "coverage" in url]


def test_the_dashboard_query_count_does_not_grow(
    client, maria, north, south, alice, django_assert_max_num_queries
):
    CustomerFactory.create_batch(30, team=north, owner=alice, next_checkin_due=TODAY)
    client.force_login(maria)
    # The session, the scope (teams, members), the at-risk page and its reassign choices, the
    # tally (now, at the start, day by day), live complaints and the account managers' names.
    with django_assert_max_num_queries(14):
        client.get("/dashboard/")


def test_the_dashboard_counts_archived_prospects_and_empty_teams_right(client, maria, north, alice):
    TeamFactory(name="West", managers=[maria])  # no customers yet
    CustomerFactory(team=north, owner=alice, next_checkin_due=TODAY + datetime.timedelta(days=1))
    CustomerFactory(team=north, owner=alice, next_checkin_due=None, status="inactive")  # never due
    CustomerFactory(team=north, owner=alice, next_checkin_due=TODAY, status="prospect")
    CustomerFactory(team=north, owner=alice, next_checkin_due=TODAY, archived_at=NOW)
    book_days_record(on=TODAY)
    client.force_login(maria)

    rows = {
        r["owner"].username: (r["customers"], r["covered"], r["due"] + r["overdue"], r["coverage"])
        for r in client.get("/dashboard/").context["coverage_rows"]
    }

    assert rows == {"alice": (2, 1, 0, 50)}  # never due is neither covered nor due


def test_pages_show_a_customer_without_an_owner(client, maria, north):
    CustomerFactory(
        team=north, owner=None, name="Orphan", next_checkin_due=TODAY - datetime.timedelta(days=3),
        health_score=10, health_band="at_risk",
    )
    client.force_login(maria)
    for url in ("/dashboard/", "/customers/", "/customers/?due=1"):
        response = client.get(url)
        assert response.status_code == 200 and "Orphan" in response.content.decode(), url


def test_birthdays_across_the_new_year_keep_the_nearest_when_the_list_is_cut(alice, north, time_machine):
    time_machine.move_to(datetime.datetime(2026, 12, 30, 9, 0, tzinfo=datetime.UTC), tick=False)
    customer = CustomerFactory(team=north, owner=alice)
    ContactFactory(customer=customer, name="January", birthday_month=1, birthday_day=2)
    ContactFactory(customer=customer, name="December", birthday_month=12, birthday_day=31)

    birthdays = today_lists(viewer=alice, subject=alice, size=1)["birthdays"]

    assert [(c.name, d) for c, d in birthdays] == [("December", datetime.date(2026, 12, 31))]
