"""Factories for touchpoints, follow-ups, promises and complaints, for the tests."""

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from customers.tests.factories import CustomerFactory
from touchpoints.models import Complaint, FollowUp, Promise, Touchpoint
from touchpoints.services import complaint_target_hours


class TouchpointFactory(DjangoModelFactory):
    class Meta:
        model = Touchpoint

    customer = factory.SubFactory(CustomerFactory)
    author = factory.LazyAttribute(lambda t: t.customer.owner)
    kind = Touchpoint.Kind.CALL
    happened_at = factory.LazyFunction(timezone.now)
    summary = factory.Faker("sentence", nb_words=6)
    notes = factory.Faker("paragraph")


class FollowUpFactory(DjangoModelFactory):
    class Meta:
        model = FollowUp

    customer = factory.SubFactory(CustomerFactory)
    assignee = factory.LazyAttribute(lambda f: f.customer.owner)
    kind = FollowUp.Kind.TASK
    title = factory.Faker("sentence", nb_words=4)
    due_on = factory.LazyFunction(timezone.localdate)


class PromiseFactory(DjangoModelFactory):
    """A promise as ``promise_create`` makes it; close it through ``promise_close``."""

    class Meta:
        model = Promise

    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda p: p.customer.owner)
    description = factory.Faker("sentence", nb_words=5)
    due_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=7))


def _target(complaint, which):
    """The deadline ``complaint_open`` would set: ``which`` 0 to respond, 1 to resolve."""
    return complaint.opened_at + datetime.timedelta(hours=complaint_target_hours(complaint.severity)[which])


class ComplaintFactory(DjangoModelFactory):
    """A complaint with its severity's targets (medium: 24 h to respond, 120 h to resolve)."""

    class Meta:
        model = Complaint

    customer = factory.SubFactory(CustomerFactory)
    summary = factory.Faker("sentence", nb_words=5)
    severity = Complaint.Severity.MEDIUM
    opened_at = factory.LazyFunction(timezone.now)
    first_response_due_at = factory.LazyAttribute(lambda c: _target(c, 0))
    resolution_due_at = factory.LazyAttribute(lambda c: _target(c, 1))
