"""The services announce, once committed, what happened to a customer (``customers.events``)."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from customers.events import customer_activity
from customers.services import contact_unsubscribe, purchase_add
from customers.tests.factories import ContactFactory, CustomerFactory
from touchpoints.services import complaint_open, promise_create, touchpoint_log


@pytest.fixture
def heard():
    events = []

    def listener(sender, customer_id, what, **kwargs):
        events.append((customer_id, what))

    customer_activity.connect(listener)
    yield events
    customer_activity.disconnect(listener)


@pytest.mark.django_db(transaction=True)
def test_each_change_is_announced_after_its_transaction_commits(heard, alice):
    customer = CustomerFactory()
    contact = ContactFactory(customer=customer)
    with transaction.atomic():
        touchpoint_log(customer=customer, user=alice, kind="call", summary="Called")
        assert heard == []  # not before the commit
    promise_create(customer=customer, user=alice, description="Send the quote",
                   due_on=datetime.date.today() + datetime.timedelta(days=3))
    complaint_open(customer=customer, user=alice, summary="Late delivery", severity="low")
    purchase_add(customer=customer, user=alice, date=datetime.date.today(), amount=Decimal("10"))
    contact_unsubscribe(contact=contact)
    contact_unsubscribe(contact=contact)  # already unsubscribed: nothing happened

    assert heard == [(customer.pk, what) for what in
                     ("touchpoint", "promise", "complaint", "purchase", "unsubscribe")]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_announces_nothing(heard, alice):
    customer = CustomerFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        touchpoint_log(customer=customer, user=alice, kind="call", summary="Called")
        raise RuntimeError

    assert heard == []
