"""Purchases, the stored value totals, the lifetime value and its projections, and the daily recompute."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from customers.models import Purchase
from customers.services import customer_values_recompute_all, purchase_add
from customers.tasks import recompute_customer_values
from customers.tests.factories import CustomerFactory, PurchaseFactory
from customers.value import lifetime_value

pytestmark = pytest.mark.django_db

NOON = datetime.time(12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def on(time_machine):
    """``on(date)`` moves the clock to noon UTC on that day."""

    def move(day):
        time_machine.move_to(datetime.datetime.combine(day, NOON), tick=False)
        return day

    return move


@pytest.fixture
def customer(north, alice):
    return CustomerFactory(team=north, owner=alice, name="Acme Ltd")


def add_purchase(client, customer, **fields):
    data = {f"purchase-{k}": v for k, v in fields.items()}
    return client.post(f"/customers/{customer.pk}/purchases/new/", data)


def test_purchases_added_on_the_page_give_exact_totals_and_projections(client, alice, customer, on):
    on(datetime.date(2026, 6, 15))
    client.force_login(alice)
    for date, amount in [("2026-06-01", "100.10"), ("2025-06-16", "200.25"), ("2025-06-15", "50.00")]:
        response = add_purchase(client, customer, date=date, amount=amount, description="Licences")
        assert response.status_code == 302 and response["Location"].endswith("#purchases")

    customer.refresh_from_db()
    # 2025-06-16 is 364 days before 2026-06-15 and counts; 2025-06-15 is 365 days old and does not.
    assert customer.lifetime_value == Decimal("350.35")
    assert customer.value_last_12_months == Decimal("300.35")
    value = lifetime_value(customer)
    assert value.total == Decimal("350.35")
    assert value.monthly_average == Decimal("25.03")  # 300.35 / 12 = 25.029…
    assert value.retention_rate == Decimal("0.85")
    # A × Σ 0.85^k, k < N: 1 → 300.35; 2 → 300.35 × 1.85; 10 → 300.35 × 5.3541706… = 1608.125…
    assert value.projections == {1: Decimal("300.35"), 2: Decimal("555.65"), 10: Decimal("1608.13")}


def test_the_projection_follows_the_configured_retention_rate(north, settings):
    settings.LTV_RETENTION_RATE = 0.5
    customer = CustomerFactory(team=north, value_last_12_months=Decimal("300.35"))
    # 300.35 × (1 + 0.5 + … + 0.5^9) = 300.35 × 1.998046875 = 600.1133…
    assert lifetime_value(customer).projections == {
        1: Decimal("300.35"), 2: Decimal("450.53"), 10: Decimal("600.11"),
    }


def test_a_churned_customer_projects_nothing(north):
    customer = CustomerFactory(team=north, status="churned", churn_reason="Gone",
                               lifetime_value=Decimal("900"), value_last_12_months=Decimal("300"))
    value = lifetime_value(customer)
    assert value.total == Decimal("900") and value.monthly_average == Decimal("25.00")
    assert set(value.projections.values()) == {Decimal("0")}


def test_the_customer_page_shows_the_value_panel_with_its_formula(client, alice, customer, on, settings):
    settings.CURRENCY = "CHF"
    on(datetime.date(2026, 6, 15))
    purchase_add(customer=customer, user=alice, date=datetime.date(2026, 6, 1), amount=Decimal("1200.00"),
                 description="Annual plan")
    client.force_login(alice)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "Lifetime value" in page
    assert "Annual plan" in page and "1,200.00\u00a0CHF" in page  # every amount with its currency
    assert "100.00" in page  # the monthly average
    assert "2,220.00" in page  # 2 years: 1200 × 1.85
    assert "How it is worked out" in page and "85% of customers who buy in one year" in page


def test_an_empty_purchase_list_says_what_to_do(client, alice, customer):
    client.force_login(alice)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "No purchases yet. Add each purchase as it happens" in page


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"date": "2026-06-01", "amount": "0"}, "amount", "more than zero"),
        ({"date": "2026-06-01", "amount": "-5"}, "amount", "more than zero"),
        ({"date": "2026-06-01", "amount": "ten"}, "amount", "Enter a number"),
        ({"date": "2026-06-16", "amount": "5"}, "date", "cannot be in the future"),
        ({"date": "", "amount": "5"}, "date", "This field is required"),
    ],
)
def test_a_bad_purchase_is_refused_with_a_clear_message(client, alice, customer, on, fields, field, message):
    on(datetime.date(2026, 6, 15))
    client.force_login(alice)
    response = add_purchase(client, customer, **fields)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert 'autofocus' in response.content.decode()
    assert not Purchase.objects.exists()
    customer.refresh_from_db()
    assert customer.lifetime_value == 0


def test_a_purchase_is_deleted_only_after_confirmation_and_the_value_follows(client, alice, customer, on):
    on(datetime.date(2026, 6, 15))
    kept = purchase_add(customer=customer, user=alice, date=datetime.date(2026, 1, 1), amount=Decimal("70"))
    gone = purchase_add(customer=customer, user=alice, date=datetime.date(2026, 2, 1), amount=Decimal("30"),
                        description="Extra seats")
    client.force_login(alice)

    confirm = client.get(f"/customers/purchases/{gone.pk}/delete/")
    assert confirm.status_code == 200
    assert "Delete this purchase?" in confirm.content.decode() and "Extra seats" in confirm.content.decode()
    assert Purchase.objects.filter(pk=gone.pk).exists()

    response = client.post(f"/customers/purchases/{gone.pk}/delete/")
    assert response.status_code == 302
    assert list(Purchase.objects.all()) == [kept]
    customer.refresh_from_db()
    assert (customer.lifetime_value, customer.value_last_12_months) == (Decimal("70"), Decimal("70"))
    assert [c.old_value for c in customer.changes.filter(field="purchase", new_value="")] == [
        "30.00 EUR on 2026-02-01: Extra seats"
    ]


def test_purchases_page_ten_at_a_time_on_the_customer_page(client, alice, customer):
    for day in range(1, 13):
        purchase_add(customer=customer, user=alice, date=datetime.date(2025, 1, day), amount=Decimal("1"))
    client.force_login(alice)
    first = client.get(customer.get_absolute_url()).context["purchases"]
    older = client.get(customer.get_absolute_url() + "?purchases_page=2").context["purchases"]
    assert [p.date.day for p in first] == list(range(12, 2, -1)) and first.has_next
    assert [p.date.day for p in older] == [2, 1] and not older.has_next


# The daily recompute --------------------------------------------------------------------------


def test_the_daily_job_ages_purchases_out_of_the_last_12_months(alice, customer, north, on):
    on(datetime.date(2026, 1, 10))
    purchase_add(customer=customer, user=alice, date=datetime.date(2025, 3, 1), amount=Decimal("40.00"))
    purchase_add(customer=customer, user=alice, date=datetime.date(2025, 12, 1), amount=Decimal("60.00"))
    untouched = CustomerFactory(team=north)
    customer.refresh_from_db()
    assert customer.value_last_12_months == Decimal("100.00")

    on(datetime.date(2026, 3, 1))  # 2025-03-01 is now 365 days old
    call_command("run_daily_jobs")

    customer.refresh_from_db()
    assert customer.value_last_12_months == Decimal("60.00")
    assert customer.lifetime_value == Decimal("100.00")
    untouched.refresh_from_db()
    assert untouched.value_last_12_months == 0 and untouched.lifetime_value == 0


def test_the_daily_job_dry_run_counts_and_changes_nothing(alice, customer, on, capsys):
    on(datetime.date(2026, 1, 10))
    purchase_add(customer=customer, user=alice, date=datetime.date(2025, 3, 1), amount=Decimal("40.00"))
    on(datetime.date(2026, 6, 1))
    call_command("run_daily_jobs", dry_run=True)
    assert "1 customer value(s) would be recomputed; nothing was changed." in capsys.readouterr().out
    customer.refresh_from_db()
    assert customer.value_last_12_months == Decimal("40.00")


def test_the_recompute_writes_only_stale_customers_in_batches_and_mends_totals(alice, north, on):
    on(datetime.date(2026, 1, 10))
    customers = CustomerFactory.create_batch(7, team=north)
    for customer in customers:
        purchase_add(customer=customer, user=alice, date=datetime.date(2026, 1, 1), amount=Decimal("10.10"))
    # A purchase saved around the services, as the admin does:
    PurchaseFactory(customer=customers[0], date=datetime.date(2026, 1, 2), amount=Decimal("5.05"))

    assert customer_values_recompute_all(batch_size=3) == 1
    customers[0].refresh_from_db()
    assert customers[0].lifetime_value == Decimal("15.15") == customers[0].value_last_12_months
    assert customer_values_recompute_all(batch_size=3) == 0  # nothing left to do

    on(datetime.date(2027, 1, 2))  # the purchases of 2026-01-01 and -02 are now 366 and 365 days old
    assert customer_values_recompute_all(batch_size=3) == 7
    assert {c.value_last_12_months for c in type(customers[0]).objects.all()} == {Decimal("0")}


def test_the_celery_task_runs_the_recompute_for_a_given_day(alice, customer, on):
    on(datetime.date(2026, 1, 10))
    purchase_add(customer=customer, user=alice, date=datetime.date(2025, 6, 1), amount=Decimal("40.00"))
    assert recompute_customer_values("2026-05-31") == 0  # 364 days: still in
    assert recompute_customer_values("2026-06-01") == 1
    customer.refresh_from_db()
    assert customer.value_last_12_months == 0


def test_the_recompute_is_scheduled_daily():
    from retention.celery import app

    entry = app.conf.beat_schedule["customer-values"]
    assert entry["task"] == "customers.tasks.recompute_customer_values"
    assert entry["schedule"].hour == {2} and entry["schedule"].minute == {15}


def test_a_purchase_added_and_deleted_in_the_admin_updates_the_totals(admin_client, customer, on):
    on(datetime.date(2026, 6, 15))
    response = admin_client.post("/admin/customers/purchase/add/", {
        "customer": customer.pk, "date": "2026-06-01", "amount": "12.50", "description": "By hand",
    })
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.lifetime_value == customer.value_last_12_months == Decimal("12.50")

    purchase = Purchase.objects.get()
    admin_client.post(f"/admin/customers/purchase/{purchase.pk}/delete/", {"post": "yes"})
    customer.refresh_from_db()
    assert customer.lifetime_value == customer.value_last_12_months == 0
