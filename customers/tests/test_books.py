"""The copies of a customer's book on its contacts, promises and survey rows, kept by the database."""

import datetime

import pytest
from django.utils import timezone

from customers import books
from customers.models import Contact, Customer
from customers.tests.factories import ContactFactory, CustomerFactory
from touchpoints.models import Complaint, Promise

pytestmark = pytest.mark.django_db


def promise_for(customer, owner):
    return Promise.objects.create(customer=customer, owner=owner, description="A call back",
                                  due_on=datetime.date(2026, 12, 1))


def complaint_for(customer):
    now = timezone.now()
    return Complaint.objects.create(customer=customer, summary="Late delivery",
                                    first_response_due_at=now, resolution_due_at=now)


def book_of(row):
    """A contact's or a complaint's copy of its customer's team and account manager."""
    row.refresh_from_db()
    return row.team_id, row.owner_id


def team_of(promise):
    promise.refresh_from_db()
    return promise.team_id


def test_a_row_written_without_its_copy_gets_its_customers(north, alice):
    customer = CustomerFactory(team=north, owner=alice)
    contact, promise = ContactFactory(customer=customer), promise_for(customer, alice)
    assert book_of(contact) == book_of(complaint_for(customer)) == (north.pk, alice.pk)
    assert team_of(promise) == north.pk
    bulk = Contact.objects.bulk_create([Contact(customer=customer, name="Imported")])[0]
    assert Contact.objects.get(pk=bulk.pk).owner_id == alice.pk


@pytest.mark.parametrize("how", ["save", "update"])
def test_a_customer_moved_to_another_book_takes_its_rows_along(north, south, alice, charlie, how):
    customer = CustomerFactory(team=north, owner=alice)
    contact, promise, complaint = ContactFactory(customer=customer), promise_for(customer, alice), \
        complaint_for(customer)
    if how == "save":
        customer.team, customer.owner = south, charlie
        customer.save()
    else:
        Customer.objects.filter(pk=customer.pk).update(team=south, owner=charlie)
    assert book_of(contact) == book_of(complaint) == (south.pk, charlie.pk)
    assert team_of(promise) == south.pk
    assert promise.owner_id == alice.pk, "the promise's own owner is whoever made it"


def test_a_row_moved_to_another_customer_takes_that_customers_book(north, south, alice, charlie):
    contact = ContactFactory(customer=CustomerFactory(team=north, owner=alice))
    contact.customer = CustomerFactory(team=south, owner=charlie)
    contact.save()
    assert book_of(contact) == (south.pk, charlie.pk)


def test_an_instance_read_before_its_customer_moved_cannot_write_the_old_book_back(north, south, alice,
                                                                                  charlie):
    customer = CustomerFactory(team=north, owner=alice)
    stale = ContactFactory(customer=customer)
    stale.refresh_from_db()
    Customer.objects.filter(pk=customer.pk).update(team=south, owner=charlie)
    stale.name = "Renamed"
    stale.save()  # writes every column, the old copy among them
    assert book_of(stale) == (south.pk, charlie.pk)
    assert stale.name == "Renamed"


def test_the_triggers_are_made_again_for_every_copy_and_dropped_one_table_at_a_time(north, alice, charlie):
    assert set(books.present()) == set(books.COPIES)
    books.uninstall(["customers_contact"])
    try:
        customer = CustomerFactory(team=north, owner=alice)
        contact, promise = ContactFactory(customer=customer), promise_for(customer, alice)
        assert book_of(contact) == (None, None), "no trigger left on the contacts"
        assert team_of(promise) == north.pk, "the promises' are kept"
        Customer.objects.filter(pk=customer.pk).update(owner=charlie)
        assert book_of(contact) == (None, None)
    finally:
        books.install()
    books.backfill(["customers_contact"])
    assert book_of(contact) == (north.pk, charlie.pk)
