"""``manage.py seed_bench``: scale data that is consistent, skewed like a real book, and logs in."""

import datetime
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Max, Q, Sum
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone

from customers.models import Contact, Customer, Purchase
from retention.models import BookDay, HealthSnapshot
from touchpoints.models import Complaint, ComplaintTarget, FollowUp, Promise, Touchpoint
from touchpoints.services import complaint_target_hours

DEMO_USERNAMES = ["admin", "manager1", "manager2", "am1", "am2", "am3", "am4", "am5", "am6"]
N = 200

pytestmark = pytest.mark.django_db


def seed(customers=N, **options):
    out = StringIO()
    call_command("seed_bench", customers=customers, stdout=out, **options)
    return out.getvalue()


def bench():
    return Customer.objects.filter(external_id__startswith="BENCH-")


def test_it_creates_n_customers_with_contacts_touchpoints_and_purchases_in_realistic_ranges():
    output = seed()

    assert bench().count() == N
    assert "200/200 customers" in output
    assert 2.5 <= Contact.objects.count() / N <= 3.5
    # ≈20 a customer plus the key account's thousands.
    per_customer = dict(bench().annotate(n=Count("touchpoints")).values_list("external_id", "n"))
    assert per_customer["BENCH-0000001"] >= 3_000
    ordinary = [n for external_id, n in per_customer.items() if external_id != "BENCH-0000001"]
    assert 10 <= sum(ordinary) / len(ordinary) <= 30
    assert min(ordinary) >= 2
    assert 2 <= Purchase.objects.count() / N <= 8
    # Birthdays, some without the year.
    assert Contact.objects.filter(birthday_month__isnull=False, birthday_year__isnull=False).exists()
    assert Contact.objects.filter(birthday_month__isnull=False, birthday_year__isnull=True).exists()
    assert bench().filter(referred_by__isnull=False).exists()
    assert bench().filter(tags__isnull=False).distinct().count() == N
    assert set(bench().values_list("status", flat=True)) == set(Customer.Status.values)
    assert bench().values("timezone").distinct().count() >= 4
    # Every owner works in the customer's team; am1 … am6 hold most of the book.
    assert not bench().exclude(owner__teams=F("team")).exists()
    assert bench().filter(owner__username__in=DEMO_USERNAMES).count() > N / 2
    key_account = bench().get(external_id="BENCH-0000001")
    assert (key_account.owner.username, key_account.team.name) == ("am1", "North")
    for model, low, high in ((Promise, 0.2, 1.0), (Complaint, 0.01, 0.2)):
        count = model.objects.filter(customer__in=bench()).count()
        assert low * N <= count <= high * N, model.__name__


def test_it_keeps_the_denormalised_fields_consistent_and_opens_checkins_for_those_due():
    seed()
    today = timezone.localdate()

    latest = dict(bench().annotate(latest=Max(
        "touchpoints__happened_at", filter=Q(touchpoints__kind__in=Touchpoint.CONTACT_KINDS)
    )).values_list("pk", "latest"))
    totals = dict(bench().annotate(total=Sum("purchases__amount")).values_list("pk", "total"))
    recent = dict(bench().annotate(total=Sum(
        "purchases__amount", filter=Q(purchases__date__gt=today - datetime.timedelta(days=365))
    )).values_list("pk", "total"))
    for customer in bench():
        assert customer.last_contacted_at == latest[customer.pk]
        assert customer.next_checkin_due == customer.compute_next_checkin_due()
        assert customer.lifetime_value == (totals[customer.pk] or 0)
        assert customer.value_last_12_months == (recent[customer.pk] or 0)
    assert bench().filter(lifetime_value__gt=0).count() > N / 2

    # Due by each customer's own calendar, as the scan decides (around midnight UTC, a customer
    # in New York is still on yesterday).
    in_program = list(bench().in_program())
    due = {c.pk for c in in_program if c.next_checkin_due and c.next_checkin_due <= c.local_today()}
    assert 0.15 <= len(due) / len(in_program) <= 0.5
    open_checkins = FollowUp.objects.open().filter(kind=FollowUp.Kind.CHECKIN)
    assert due <= set(open_checkins.values_list("customer", flat=True))


def test_the_demo_users_log_in_with_the_demo_password():
    output = seed()

    for username in DEMO_USERNAMES:
        assert Client().login(request=HttpRequest(), username=username, password="retention-demo"), username
    assert Client().login(request=HttpRequest(), username="bench-am-001", password="retention-demo")
    assert "retention-demo" in output


def test_it_tops_up_to_a_larger_n_and_changes_nothing_when_asked_for_no_more():
    seed(customers=120)
    seed(customers=N)
    assert bench().count() == N
    assert bench().filter(external_id="BENCH-0000200").exists()
    counts = (Touchpoint.objects.count(), Contact.objects.count(), FollowUp.objects.count())

    output = seed(customers=N)

    assert "nothing to add" in output
    assert bench().count() == N
    assert (Touchpoint.objects.count(), Contact.objects.count(), FollowUp.objects.count()) == counts
    # The topped-up customers got their denormalised fields too.
    last = bench().get(external_id="BENCH-0000200")
    assert last.last_contacted_at is not None and last.next_checkin_due is not None


def test_the_same_seed_makes_the_same_book():
    seed(customers=30, seed=7)
    first = list(bench().order_by("external_id").values_list("name", "status", "timezone",
                                                              "lifetime_value"))
    Customer.objects.all().delete()

    seed(customers=30, seed=7)

    assert list(bench().order_by("external_id").values_list(
        "name", "status", "timezone", "lifetime_value")) == first


def test_complaints_get_the_targets_of_their_severity():
    # An admin's own target for "low", and "high" left to the default.
    ComplaintTarget.objects.update_or_create(
        severity="low", defaults={"first_response_hours": 36, "resolution_hours": 200})
    ComplaintTarget.objects.filter(severity="high").delete()

    seed()

    complaints = Complaint.objects.filter(customer__in=bench())
    assert {"low", "medium", "high"} <= set(complaints.values_list("severity", flat=True))
    for complaint in complaints:
        respond, resolve = complaint_target_hours(complaint.severity)
        assert complaint.first_response_due_at - complaint.opened_at == datetime.timedelta(hours=respond)
        assert complaint.resolution_due_at - complaint.opened_at == datetime.timedelta(hours=resolve)
    assert complaint_target_hours("low") == (36, 200)


@pytest.mark.parametrize("options, message", [
    ({"customers": 0}, "at least 1"),
    ({"batch_size": 0}, "at least 1"),
    ({"password": ""}, "must not be empty"),
])
def test_it_refuses_bad_options_and_writes_nothing(options, message):
    with pytest.raises(CommandError, match=message):
        seed(**options)

    assert not Customer.objects.exists()
    assert not get_user_model().objects.exists()


def _indexes_and_foreign_keys():
    from django.db import connection

    from retention.seeding.bench_book import MODELS

    tables = [model._meta.db_table for model in MODELS]
    with connection.cursor() as cursor:
        # By name: PostgreSQL may spell a rebuilt partial index's condition differently.
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s)", [tables])
        indexes = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                       " WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])", [tables])
        return indexes, set(cursor.fetchall())


needs_postgresql = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="indexes are set aside on PostgreSQL only")


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_load_outside_a_transaction_runs_in_two_processes_and_builds_every_index_and_key_again():
    before = _indexes_and_foreign_keys()
    assert len(before[0]) > 40 and len(before[1]) > 20

    output = seed(customers=40, batch_size=7)

    assert _indexes_and_foreign_keys() == before
    assert "indexes and" in output and "foreign keys built" in output
    assert "40/40 customers" in output and "peak RSS of a loading process" in output
    assert bench().count() == 40
    assert not Touchpoint.objects.exclude(customer__in=bench()).exists()
    last = bench().get(external_id="BENCH-0000040")
    assert last.last_contacted_at is not None and last.next_checkin_due is not None
    # Whichever process made a batch, BENCH-n has the n-th id; the others' ids are all distinct
    # (primary keys) and the sequences are past every one of them.
    ids = list(bench().order_by("external_id").values_list("pk", flat=True))
    assert ids == list(range(ids[0], ids[0] + 40))
    reported = {line.split()[0]: line for line in output.splitlines() if "/40 customers" in line}
    assert f"{Touchpoint.objects.count():,}" in reported["40/40"]
    # The scores, their history and the past days' tallies, each counted in processes too.
    in_program = bench().in_program()
    assert in_program.exists() and not in_program.filter(health_score__isnull=True).exists()
    assert HealthSnapshot.objects.filter(customer__in=in_program).values("customer").distinct().count() == (
        in_program.count())
    assert HealthSnapshot.objects.filter(date__lt=timezone.localdate()).exists()
    assert BookDay.objects.values("date").distinct().count() > 20
    loaded = {model: model.objects.aggregate(Max("pk"))["pk__max"] for model in (Touchpoint, Contact)}
    touchpoint = Touchpoint.objects.create(customer=last, kind=Touchpoint.Kind.NOTE, summary="After the load",
                                           happened_at=timezone.now())
    assert touchpoint.pk > loaded[Touchpoint]
    assert Contact.objects.create(customer=last, name="New contact").pk > loaded[Contact]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_indexes_set_aside_are_built_again_when_the_load_fails():
    from retention.seeding.indexes import indexes_deferred

    before = _indexes_and_foreign_keys()

    with pytest.raises(RuntimeError), indexes_deferred([Touchpoint, Contact]):
        assert len(_indexes_and_foreign_keys()[0]) < len(before[0])
        raise RuntimeError("the load failed")

    assert _indexes_and_foreign_keys() == before
