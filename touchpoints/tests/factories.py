import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from customers.tests.factories import CustomerFactory
from touchpoints.models import FollowUp, Touchpoint


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
