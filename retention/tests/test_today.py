"""
Today on a frozen date: exactly what is due, in order, nothing from another team; each item acted
on in place; a manager opening an account manager's day; queries that do not grow with the lists.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer, CustomerChange
from customers.tests.factories import ContactFactory, CustomerFactory, KeyDateFactory
from retention.today import TODAY_FIRST
from touchpoints.checkins import checkin_snooze
from touchpoints.models import FollowUp, OutboxMessage, Touchpoint
from touchpoints.tests.factories import (
    ComplaintFactory,
    FollowUpFactory,
    PromiseFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=datetime.UTC)  # a Tuesday
TODAY = NOW.date()
EVIL = '<script>alert("x")</script>'


def days(n):
    return TODAY + datetime.timedelta(days=n)


def hours_ago(n):
    return NOW - datetime.timedelta(hours=n)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def complaint(customer, summary, *, opened_hours_ago, status="new", **fields):
    """A medium complaint: 24 hours to respond, 120 to resolve."""
    opened = hours_ago(opened_hours_ago)
    return ComplaintFactory(customer=customer, summary=summary, status=status, opened_at=opened,
                            first_response_due_at=opened + datetime.timedelta(hours=24),
                            resolution_due_at=opened + datetime.timedelta(hours=120), **fields)


def meeting(customer, summary, *, hours, author, **fields):
    return TouchpointFactory(customer=customer, author=author, kind="meeting", summary=summary,
                             happened_at=hours_ago(hours), **fields)


def outbox(customer, key, program, **fields):
    return OutboxMessage.objects.create(occasion_key=key, program=program, customer=customer,
                                        to="x@example.com", subject="s", body_text="b", **fields)


@pytest.fixture
def day(north, south, alice, bob, charlie):
    """Alice's book with one of everything, and the same things for Bob and for South."""
    def book(owner, team, prefix):
        c = {name: CustomerFactory(team=team, owner=owner, name=f"{prefix} {name}", timezone="UTC",
                                   customer_since=datetime.date(2020, 1, 5),
                                   next_checkin_due=days(20), status_changed_at=hours_ago(24 * 400))
             for name in ["Late", "Due", "Fine", "Big", "New", "Thanked", "Old"]}
        Customer.objects.filter(pk=c["Late"].pk).update(next_checkin_due=days(-30),
                                                         last_contacted_at=NOW - datetime.timedelta(days=60))
        Customer.objects.filter(pk=c["Due"].pk).update(next_checkin_due=days(0), lifetime_value=10,
                                                        last_contacted_at=NOW - datetime.timedelta(days=30))
        Customer.objects.filter(pk=c["Big"].pk).update(next_checkin_due=days(0), lifetime_value=9000,
                                                        last_contacted_at=NOW - datetime.timedelta(days=30))
        # Complaints: breached, near, fine, and one already resolved.
        complaint(c["Fine"], f"{prefix} breached", opened_hours_ago=30)
        complaint(c["Fine"], f"{prefix} near", opened_hours_ago=21)
        complaint(c["Fine"], f"{prefix} fine", opened_hours_ago=30, status="acknowledged")
        complaint(c["Fine"], f"{prefix} resolved", opened_hours_ago=30, status="resolved")
        # Promises: overdue, today, in a week, beyond the week, kept.
        for due, what in [(-2, "overdue"), (0, "today"), (7, "in a week"), (8, "later")]:
            PromiseFactory(customer=c["Fine"], owner=owner, due_on=days(due), description=f"{prefix} {what}")
        PromiseFactory(customer=c["Fine"], owner=owner, due_on=days(-1), status="kept",
                       description=f"{prefix} kept")
        # Meetings: notes overdue; too recent; too old; sent; not needed; on their way.
        meeting(c["Fine"], f"{prefix} notes due", hours=30, author=owner)
        meeting(c["Fine"], f"{prefix} just now", hours=2, author=owner)
        meeting(c["Fine"], f"{prefix} ancient", hours=24 * 40, author=owner)
        meeting(c["Fine"], f"{prefix} sent", hours=30, author=owner, notes_sent_at=hours_ago(29))
        meeting(c["Fine"], f"{prefix} no need", hours=30, author=owner, notes_not_needed=True)
        queued = meeting(c["Fine"], f"{prefix} queued", hours=30, author=owner)
        outbox(c["Fine"], f"meeting_notes:{queued.pk}", "meeting_notes", related_touchpoint=queued)
        # Dates: a birthday, an anniversary, yearly and one-off key dates (in and out of the week).
        ContactFactory(customer=c["Fine"], name=f"{prefix} Birthday", birthday_month=3, birthday_day=12)
        ContactFactory(customer=c["Fine"], name=f"{prefix} Later", birthday_month=3, birthday_day=17)
        Customer.objects.filter(pk=c["Old"].pk).update(customer_since=datetime.date(2019, 3, 16))
        KeyDateFactory(customer=c["Fine"], name=f"{prefix} founding", date=datetime.date(2001, 3, 10))
        KeyDateFactory(customer=c["Fine"], name=f"{prefix} opening", date=days(1), recurrence="once")
        KeyDateFactory(customer=c["Fine"], name=f"{prefix} last year", date=datetime.date(2025, 3, 11),
                       recurrence="once")
        # New customers: one not thanked yet, one thanked by the program.
        for name in ["New", "Thanked"]:
            Customer.objects.filter(pk=c[name].pk).update(status_changed_at=hours_ago(48))
        outbox(c["Thanked"], f"thank_you:{c['Thanked'].pk}", "thank_you")
        return c

    return {"alice": book(alice, north, "A"), "bob": book(bob, north, "B"),
            "charlie": book(charlie, south, "C")}


def test_today_lists_exactly_what_is_due_on_a_frozen_date_in_order(client, alice, day):
    client.force_login(alice)

    context = client.get("/today/").context

    assert [(c.name, state) for c, state in context["checkins"]] == [
        ("A Late", "overdue"), ("A Big", "due"), ("A Due", "due")]  # most overdue, then most valuable
    assert [(c.summary, urgency) for c, urgency in context["complaints"]] == [
        ("A breached", "breached"), ("A near", "near"), ("A fine", "ok")]
    assert [p.description for p in context["promises"]] == ["A overdue", "A today", "A in a week"]
    assert [m.summary for m in context["meetings"]] == ["A notes due"]
    assert [(c.name, d) for c, d in context["birthdays"]] == [("A Birthday", days(2))]
    assert [(d["date"], d["what"]) for d in context["dates"]] == [
        (days(0), "A founding"), (days(1), "A opening"), (days(6), "7 years as a customer")]
    assert [c.name for c in context["not_thanked"]] == ["A New"]
    rate = context["promise_rate"]
    assert (rate.on_time, rate.counted, rate.overdue) == (1, 2, 1)


def test_nothing_from_a_teammate_or_another_team_shows(client, alice, day):
    client.force_login(alice)
    html = client.get("/today/").content.decode()
    assert "A Late" in html and "A breached" in html and "A Birthday" in html
    for prefix in ("B ", "C "):
        for what in ("Late", "breached", "overdue", "notes due", "Birthday", "founding", "New"):
            assert f"{prefix}{what}" not in html


def test_a_complaint_someone_else_handles_shows_on_their_today(client, alice, bob, day):
    handled = complaint(day["bob"]["Fine"], "Handled by Alice", opened_hours_ago=1, handled_by=alice)
    mine_handled_by_bob = complaint(day["alice"]["Fine"], "Handled by Bob", opened_hours_ago=1,
                                    handled_by=bob)
    client.force_login(alice)
    complaints = [c for c, _ in client.get("/today/").context["complaints"]]
    assert handled in complaints and mine_handled_by_bob not in complaints


def test_a_manager_opens_the_today_of_an_account_manager_of_their_teams(client, maria, alice, day):
    client.force_login(maria)
    for url in ("/today/alice/", f"/today/?user={alice.pk}"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.context["subject"] == alice and not response.context["is_own"]
        assert [c.name for c, _ in response.context["checkins"]] == ["A Late", "A Big", "A Due"]
        assert "Today of Alice Archer" in response.content.decode()
    assert "/today/alice/" in client.get("/records/").content.decode()


@pytest.mark.parametrize("viewer, url", [
    ("alice", "/today/bob/"),         # a teammate is no manager
    ("charlie", "/today/alice/"),     # another team
    ("maria", "/today/nobody/"),      # in none of her teams
    ("maria", "/today/ghost/"),
    ("maria", "/today/?user=999999"),
    ("maria", "/today/?user=abc"),
])
def test_anyone_elses_today_is_404(client, day, nobody, django_user_model, viewer, url):
    client.force_login(django_user_model.objects.get(username=viewer))
    assert client.get(url).status_code == 404


def test_everyone_may_open_their_own_today_by_name(client, alice, day):
    client.force_login(alice)
    assert client.get("/today/alice/").context["is_own"]


def test_a_manager_sees_only_the_account_managers_items_in_teams_they_manage(
    client, alice, north, south, maria, charlie
):
    # Alice also works in a team Maria does not manage.
    from customers.tests.factories import TeamFactory

    east = TeamFactory(name="East", members=[alice])
    CustomerFactory(team=east, owner=alice, name="East Late", next_checkin_due=days(-3))
    CustomerFactory(team=north, owner=alice, name="North Late", next_checkin_due=days(-3))
    client.force_login(maria)
    checkins = client.get("/today/alice/").context["checkins"]
    assert [c.name for c, _ in checkins] == ["North Late"]


# Acting in place -------------------------------------------------------------------------------


def test_log_call_opens_an_inline_form_that_logs_with_the_primary_contact(client, alice, day):
    customer = day["alice"]["Late"]
    olga = ContactFactory(customer=customer, name="Olga Owens", is_primary=True)
    ContactFactory(customer=customer, name="Not Primary")
    client.force_login(alice)
    url = f"/touchpoints/customers/{customer.pk}/quick-log/"

    form = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in form and "autofocus" in form and "with Olga Owens" in form

    done = client.post(url, {"kind": "call", "outcome": "reached", "summary": "Renewal is fine"},
                       headers={"HX-Request": "true"})

    assert done["HX-Retarget"] == "closest li" and done["HX-Reswap"] == "outerHTML"
    row = done.content.decode()
    assert "Renewal is fine" in row and "Next check-in due 2026-04-09" in row
    touchpoint = customer.touchpoints.get(summary="Renewal is fine")
    assert list(touchpoint.contacts.all()) == [olga] and touchpoint.author == alice
    assert touchpoint.happened_at == NOW and touchpoint.outcome == "reached"
    customer.refresh_from_db()
    assert customer.last_contacted_at == NOW and customer.next_checkin_due == days(30)
    assert "A Late" not in [c.name for c, _ in client.get("/today/").context["checkins"]]


def test_an_empty_quick_log_shows_the_form_again_and_logs_nothing(client, alice, day):
    customer = day["alice"]["Late"]
    client.force_login(alice)
    response = client.post(f"/touchpoints/customers/{customer.pk}/quick-log/",
                           {"kind": "call", "summary": ""}, headers={"HX-Request": "true"})
    assert "summary" in response.context["form"].errors and "HX-Retarget" not in response
    assert not customer.touchpoints.exists()


def test_quick_log_without_javascript_is_a_page_and_a_redirect(client, alice, day):
    customer = day["alice"]["Late"]
    client.force_login(alice)
    url = f"/touchpoints/customers/{customer.pk}/quick-log/"
    assert "<html" in client.get(url).content.decode()
    response = client.post(url, {"kind": "visit", "summary": "Dropped by", "next": "/today/"})
    assert response.status_code == 302 and response["Location"] == "/today/"


def test_snoozing_a_checkin_moves_it_records_why_and_dismisses_the_follow_up(client, alice, day):
    customer = day["alice"]["Late"]
    follow_up = FollowUpFactory(customer=customer, assignee=alice, kind=FollowUp.Kind.CHECKIN)
    client.force_login(alice)

    response = client.post(f"/touchpoints/customers/{customer.pk}/snooze/",
                           {"until": days(14).isoformat(), "reason": "On holiday until the 23rd"},
                           headers={"HX-Request": "true"})

    assert "snoozed to 24 Mar 2026" in response.content.decode()
    customer.refresh_from_db()
    assert customer.next_checkin_due == days(14)
    change = CustomerChange.objects.get(customer=customer, field="next_checkin_due")
    assert change.old_value == "2026-02-08" and change.user == alice
    assert change.new_value == "2026-03-24 (check-in snoozed: On holiday until the 23rd)"
    follow_up.refresh_from_db()
    assert follow_up.status == "dismissed" and follow_up.closed_by == alice
    assert "A Late" not in [c.name for c, _ in client.get("/today/").context["checkins"]]


@pytest.mark.parametrize("until, reason, field", [
    (days(0), "Busy", "until"), (days(-3), "Busy", "until"), (days(400), "Busy", "until"),
    (days(5), "   ", "reason"),
])
def test_a_snooze_needs_a_later_date_and_a_reason(alice, day, until, reason, field):
    from django.core.exceptions import ValidationError

    customer = day["alice"]["Late"]
    with pytest.raises(ValidationError) as error:
        checkin_snooze(customer=customer, user=alice, until=until, reason=reason)
    assert field in error.value.message_dict
    customer.refresh_from_db()
    assert customer.next_checkin_due == days(-30)
    assert not CustomerChange.objects.filter(customer=customer).exists()


def test_an_invalid_snooze_form_shows_its_errors(client, alice, day):
    customer = day["alice"]["Late"]
    client.force_login(alice)
    response = client.post(f"/touchpoints/customers/{customer.pk}/snooze/",
                           {"until": "2026-03-01", "reason": ""}, headers={"HX-Request": "true"})
    assert {"until", "reason"} <= set(response.context["form"].errors)


def test_meetings_without_notes_can_be_waved_off_from_today(client, alice, day):
    client.force_login(alice)
    waiting = client.get("/today/").context["meetings"][0]
    response = client.post(f"/touchpoints/{waiting.pk}/notes/not-needed/", headers={"HX-Request": "true"})
    assert response["HX-Retarget"] == "closest li"
    assert not client.get("/today/").context["meetings"]


def test_html_typed_anywhere_renders_as_text_on_today_and_its_fragments(client, alice, day):
    customer = day["alice"]["Late"]
    meeting(customer, EVIL, hours=30, author=alice)
    PromiseFactory(customer=customer, owner=alice, due_on=days(1), description=EVIL)
    complaint(customer, EVIL, opened_hours_ago=1)
    TouchpointFactory(customer=customer, author=alice, summary=EVIL)
    client.force_login(alice)
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"

    page = client.get("/today/").content.decode()
    assert "<script>alert" not in page and page.count(escaped) >= 4

    row = client.post(f"/touchpoints/customers/{customer.pk}/quick-log/",
                      {"kind": "call", "summary": EVIL}, headers={"HX-Request": "true"}).content.decode()
    snoozed = client.post(f"/touchpoints/customers/{day['alice']['Due'].pk}/snooze/",
                          {"until": days(3).isoformat(), "reason": EVIL},
                          headers={"HX-Request": "true"}).content.decode()
    for fragment in (row, snoozed):
        assert "<script>alert" not in fragment and escaped in fragment


def test_empty_states_say_what_good_looks_like(client, alice, north):
    client.force_login(alice)
    html = client.get("/today/").content.decode()
    for text in ("contacted within their cadence", "No open complaints", "No promises due this week",
                 "Every meeting's notes are out", "Every new customer has been thanked",
                 "No promises came due in the last 90 days"):
        assert text in html


# Scale -----------------------------------------------------------------------------------------


def fill(alice, north, n):
    for i in range(n):
        customer = CustomerFactory(team=north, owner=alice, next_checkin_due=days(-1), timezone="UTC",
                                   customer_since=datetime.date(2020, 3, 11),
                                   status_changed_at=hours_ago(10))
        contact = ContactFactory(customer=customer, birthday_month=3, birthday_day=11)
        KeyDateFactory(customer=customer, contact=contact, date=datetime.date(2010, 3, 12))
        FollowUpFactory(customer=customer, assignee=alice)
        PromiseFactory(customer=customer, owner=alice, due_on=days(-1))
        complaint(customer, f"Complaint {i}", opened_hours_ago=1)
        meeting(customer, f"Meeting {i}", hours=30, author=alice).contacts.add(contact)
        TouchpointFactory(customer=customer, author=alice, happened_at=hours_ago(1))


def test_the_query_count_of_today_does_not_grow_with_its_lists(
    client, alice, north, maria, django_assert_max_num_queries
):
    fill(alice, north, 2)
    client.force_login(alice)
    with CaptureQueriesContext(connection) as small:
        client.get("/today/")
    fill(alice, north, 30)
    with django_assert_max_num_queries(len(small)):
        response = client.get("/today/")
    context = response.context
    assert (context["checkins"].total, context["complaints"].total, context["meetings"].total) == (32, 32, 32)
    assert context["dates"].total == 64
    assert {len(context[name]) for name in ("checkins", "complaints", "meetings", "dates")} == {TODAY_FIRST}
    assert len(small) <= 18
    client.force_login(maria)
    with django_assert_max_num_queries(len(small) + 3):  # the subject, the team's list, the check
        client.get("/today/alice/")


def test_quick_log_stays_in_a_few_queries(client, alice, north, django_assert_max_num_queries):
    customer = CustomerFactory(team=north, owner=alice, next_checkin_due=days(-1))
    ContactFactory.create_batch(20, customer=customer)
    client.force_login(alice)
    with django_assert_max_num_queries(16):
        client.post(f"/touchpoints/customers/{customer.pk}/quick-log/", {"kind": "call", "summary": "Hi"},
                    headers={"HX-Request": "true"})
    assert Touchpoint.objects.filter(customer=customer).count() == 1


def test_each_row_links_where_reverse_says(client, alice, north):
    """Today fills its many row links from one reversed pattern per URL name ({% row_url %})."""
    from django.urls import reverse

    due = CustomerFactory(team=north, owner=alice, next_checkin_due=days(-1), name="Due Ltd")
    contact = ContactFactory(customer=due, birthday_month=3, birthday_day=12)
    promise = PromiseFactory(customer=due, owner=alice, due_on=days(1))
    client.force_login(alice)

    page = client.get("/today/").content.decode()

    for url in (due.get_absolute_url(), reverse("touchpoints:quick_log", args=[due.pk]),
                reverse("touchpoints:snooze", args=[due.pk]),
                reverse("touchpoints:promise_close", args=[promise.pk])):
        assert f'href="{url}' in page or f'action="{url}?next=' in page
    card = reverse("touchpoints:quick_log", args=[contact.customer_id]) + "?kind=card"
    assert f'hx-get="{card}"' in page


def test_today_stays_small_however_long_its_lists(client, alice, north):
    """Each list shows its first few and a count: the page's HTML does not grow with the book."""
    fill(alice, north, 40)
    client.force_login(alice)

    html = client.get("/today/").content

    assert len(html) <= 40 * 1024, f"Today is {len(html) / 1024:.1f} KiB"
    assert html.count(b'class="list-group-item today-row') <= 8 * TODAY_FIRST


def test_an_action_opened_in_place_lands_in_its_own_row(client, alice, north):
    """
    The in-place links of a list send what they fetch to the next "today-action" box after them
    (``hx-target`` on the list): every row with such a link has its own box, after the link.
    """
    import re

    fill(alice, north, 3)
    client.force_login(alice)

    html = client.get("/today/").content.decode()

    lists = re.findall(r'<ul class="list-group list-group-flush" hx-target="next \.today-action">(.*?)</ul>',
                       html, re.S)
    rows = [row for body in lists for row in re.findall(r"<li .*?</li>", body, re.S)]
    in_place = [row for row in rows if "hx-get=" in row]
    assert len(in_place) >= 9  # the check-ins, the birthdays and the key dates: cards
    for row in in_place:
        assert row.rindex("hx-get=") < row.index('<div class="today-action"></div>'), row


def test_each_section_shows_its_most_urgent_few_and_see_all_pages_through_every_one(
        client, alice, north, maria, charlie, south, django_assert_max_num_queries):
    fill(alice, north, 30)  # 32 of each, with the two of fill's first call below
    fill(alice, north, 2)
    client.force_login(alice)
    page = client.get("/today/")
    checkins = page.context["checkins"]
    assert len(checkins) == TODAY_FIRST and checkins.total == 32
    html = page.content.decode()
    assert 'href="/today/all/checkins/"' in html and "See all 32" in html

    seen, number = [], 1
    while True:
        with django_assert_max_num_queries(12):
            part = client.get(f"/today/all/checkins/?page={number}", headers={"HX-Request": "true"})
        rows = part.context["rows"]
        seen += [customer.pk for customer, _ in rows]
        if number == part.context["pages"]:
            break
        assert f"page={number + 1}" in part.content.decode()
        number += 1
    assert number == 2 and len(seen) == len(set(seen)) == 32
    # In the order of Today: the first page begins with Today's first ten.
    assert seen[:TODAY_FIRST] == [customer.pk for customer, _ in checkins]
    assert not part.content.decode().startswith("<!doctype")  # in place: the list alone

    whole_page = client.get("/today/all/dates/")
    assert whole_page.status_code == 200 and "<html" in whole_page.content.decode()[:200]
    assert whole_page.context["rows"].total == 64
    assert client.get("/today/all/nothing-like-it/").status_code == 404

    client.force_login(maria)  # a manager pages through an account manager's day
    theirs = client.get(f"/today/all/complaints/?user={alice.pk}&page=2", headers={"HX-Request": "true"})
    assert theirs.context["rows"].total == 32 and len(theirs.context["rows"]) == 7
    assert f"user={alice.pk}&amp;page=1" in theirs.content.decode()
    client.force_login(charlie)  # another team's account manager: not their day to open
    assert client.get(f"/today/all/complaints/?user={alice.pk}").status_code == 404


def test_a_form_on_today_without_javascript_returns_to_the_day_it_came_from(client, maria, alice, day):
    """The return address rides in each form's action (``?next=``): a manager lands on the same day."""
    import html as markup
    import re

    promise = PromiseFactory(customer=day["alice"]["Fine"], owner=alice, due_on=days(0),
                             description="Send the plan")
    client.force_login(maria)
    page = client.get(f"/today/?user={alice.pk}").content.decode()

    form = rf'<form class="today-actions" method="post" action="([^"]*/promises/{promise.pk}/[^"]*)"'
    action = re.search(form, page).group(1)
    response = client.post(markup.unescape(action), {"status": "kept"})

    assert response.status_code == 302 and response["Location"] == f"/today/?user={alice.pk}"
    promise.refresh_from_db()
    assert promise.status == "kept"
