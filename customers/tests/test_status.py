"""
The status lifecycle (prospect → active → inactive → churned, churned → active): which changes the
service allows, the form's and the service's refusals, the churn reason, and the status history.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError

from customers.forms import CustomerForm
from customers.models import Customer
from customers.services import customer_update
from customers.tests.factories import CustomerFactory
from customers.tests.helpers import form_data

pytestmark = pytest.mark.django_db


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
    assert customer.status == "prospect" and customer.version == 1 and not customer.changes.exists()


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
    assert customer.status == "active" and customer.version == 1 and not customer.changes.exists()


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
