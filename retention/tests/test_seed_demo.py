"""``manage.py seed_demo``: demo users who can log in, a believable book, and safe to run twice."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import F, Max, Q, Sum
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone

from customers.models import Contact, Customer, Purchase, Team
from retention.seeding import book
from retention.seeding.demo import COMPLAINTS
from surveys.models import Campaign, Invitation, Response, Suggestion, Survey
from touchpoints.models import Complaint, FollowUp, OutboxMessage, Promise, Touchpoint

DEMO_USERNAMES = ["admin", "manager1", "manager2", "am1", "am2", "am3", "am4", "am5", "am6"]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # Nine logins per test with the production hasher would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(**options):
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def counts():
    return {model.__name__: model.objects.count()
            for model in (Customer, Contact, Touchpoint, Purchase, FollowUp, Invitation, Response,
                          Team)}


def can_log_in(username, password):
    # The lockout backend needs the request a real login has.
    return Client().login(request=HttpRequest(), username=username, password=password)


def test_it_creates_demo_users_who_can_log_in_and_a_book_of_customers(settings):
    output = seed()

    for username in DEMO_USERNAMES:
        assert can_log_in(username, "retention-demo"), username
        assert username in output
    assert f"{settings.SITE_URL}/accounts/login/" in output

    assert 250 <= Customer.objects.count() <= 350
    assert Contact.objects.count() >= Customer.objects.count()
    assert Touchpoint.objects.count() >= 10 * Customer.objects.in_program().count()
    assert Purchase.objects.exists()
    assert Response.objects.exists()
    assert Invitation.objects.filter(answered_at__isnull=True,
                                     expires_at__gt=timezone.now()).exists()
    assert dict(Survey.objects.values_list("name", "kind")) == {"NPS": "nps", "CSAT": "csat"}
    # Campaigns sent through the outbox, answered with comments that became suggestions.
    assert set(Response.objects.values_list("invitation__survey__name", flat=True)) == {"NPS", "CSAT"}
    assert Campaign.objects.filter(status="sent").count() == 2
    assert OutboxMessage.objects.filter(program="survey").count() == Invitation.objects.count()
    # What went out shows its wording in the outbox, as the sender wrote it.
    sent = OutboxMessage.objects.filter(program="survey", status="sent")
    assert sent.exists() and not sent.filter(compose_at_send=True).exists()
    assert not sent.filter(subject="").exists()
    assert Suggestion.objects.filter(status="done").exists()
    assert Suggestion.objects.filter(status="new").exists()
    # Every customer's owner works in the customer's team.
    assert not Customer.objects.exclude(owner__teams=F("team")).exists()


def test_it_keeps_the_denormalized_fields_consistent_and_opens_checkins_for_the_overdue():
    seed()

    # Two aggregates over two joins would multiply each other: one query each.
    latest = dict(Customer.objects.annotate(latest=Max(
        "touchpoints__happened_at", filter=Q(touchpoints__kind__in=Touchpoint.CONTACT_KINDS)
    )).values_list("pk", "latest"))
    totals = dict(Customer.objects.annotate(total=Sum("purchases__amount"))
                  .values_list("pk", "total"))
    for customer in Customer.objects.all():
        assert customer.last_contacted_at == latest[customer.pk]
        assert customer.next_checkin_due == customer.compute_next_checkin_due()
        assert customer.lifetime_value == (totals[customer.pk] or 0)

    # Due by each customer's own calendar, as the scan decides (around midnight UTC, a customer
    # in New York is still on yesterday).
    in_program = list(Customer.objects.in_program())
    due = {c.pk for c in in_program if c.next_checkin_due and c.next_checkin_due <= c.local_today()}
    assert 0.15 <= len(due) / len(in_program) <= 0.5
    open_checkins = FollowUp.objects.open().filter(kind=FollowUp.Kind.CHECKIN)
    assert set(open_checkins.values_list("customer", flat=True)) == due


def test_it_does_not_duplicate_anything_when_run_twice():
    seed()
    before = counts()

    output = seed()

    assert counts() == before
    assert "already present" in output


def test_it_sets_the_password_given_on_every_run():
    seed(password="first-secret-1")
    assert can_log_in("am1", "first-secret-1")

    seed(password="second-secret-2")

    for username in DEMO_USERNAMES:
        assert can_log_in(username, "second-secret-2"), username
        assert not can_log_in(username, "first-secret-1"), username


def test_it_prints_each_login_with_its_role():
    output = seed()

    lines = {line.split()[0]: line for line in output.splitlines() if line.startswith("  ")}
    assert "admin (superuser)" in lines["admin"]
    assert "manager: North, South" in lines["manager1"]
    assert "manager: West" in lines["manager2"]
    assert "account manager: North" in lines["am1"]
    assert "account manager: West" in lines["am6"]
    assert all(line.rstrip().endswith("retention-demo") for name, line in lines.items()
               if name != "username")
    assert Team.objects.get(name="North").managers.get().username == "manager1"
    assert set(Team.objects.get(name="West").members.values_list("username", flat=True)) == {"am5", "am6"}


def test_it_refuses_an_empty_password_and_writes_nothing():
    with pytest.raises(CommandError, match="must not be empty"):
        seed(password="")

    assert not get_user_model().objects.exists()
    assert not Customer.objects.exists()


def test_every_page_has_something_true_to_show_in_plain_business_language():
    seed()

    notes = set(Touchpoint.objects.exclude(notes="").values_list("notes", flat=True))
    written = {note for kind_notes in book.NOTES.values() for note in kind_notes}
    assert notes and notes <= written  # curated notes, no generated filler
    needs = set(Customer.objects.exclude(needs="").values_list("needs", flat=True))
    assert needs and needs <= set(book.NEEDS)
    complaints = Complaint.objects.all()
    assert set(complaints.values_list("description", flat=True)) <= {c[1] for c in COMPLAINTS}
    assert complaints.filter(status="resolved").exists() and complaints.filter(status="closed").exists()
    assert not complaints.filter(status__in=["resolved", "closed"], resolution_notes="").exists()
    assert Promise.objects.filter(status="broken").exists()
    assert Response.objects.exclude(comment="").exists()
