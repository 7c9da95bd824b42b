"""Factories for teams, users, customers, contacts, purchases and key dates, for the tests."""

import random
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from customers.checkin import default_cadence_max
from customers.models import Contact, Customer, KeyDate, Purchase, Team


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "retention-test")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")

    @factory.post_generation
    def members(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.members.add(*extracted)

    @factory.post_generation
    def managers(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.managers.add(*extracted)


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("company")
    team = factory.SubFactory(TeamFactory)
    owner = None
    status = Customer.Status.ACTIVE
    customer_since = factory.Faker("date_between", start_date="-6y", end_date="-30d")
    timezone = "UTC"
    # As the services set them on a new customer: the model's clock and the default maximum.
    next_checkin_due = factory.LazyAttribute(
        lambda c: Customer(
            last_contacted_at=getattr(c, "last_contacted_at", None), customer_since=c.customer_since,
            timezone=c.timezone, cadence_days=c.cadence_days,
        ).compute_next_checkin_due()
    )
    cadence_days = 30
    cadence_max_days = factory.LazyAttribute(lambda c: default_cadence_max(c.cadence_days))


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name")
    role = factory.Faker("job")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    phone = factory.Faker("phone_number")
    is_primary = False


class PurchaseFactory(DjangoModelFactory):
    class Meta:
        model = Purchase

    customer = factory.SubFactory(CustomerFactory)
    date = factory.Faker("date_between", start_date="-18M", end_date="today")
    amount = factory.LazyFunction(lambda: Decimal(random.randrange(100_00, 20_000_00)) / 100)
    description = factory.Faker("bs")


class KeyDateFactory(DjangoModelFactory):
    class Meta:
        model = KeyDate

    customer = factory.SubFactory(CustomerFactory)
    name = "Founding day"
    date = factory.Faker("date_between", start_date="-20y", end_date="-1y")
