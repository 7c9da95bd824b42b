"""Factories for teams, users, customers and contacts: used by the tests and by ``seed_demo``."""

import datetime
import random
import zoneinfo
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

from customers.models import Contact, Customer, KeyDate, Purchase, Team

TIMEZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles",
             "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland", "Pacific/Honolulu"]


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
    next_checkin_due = factory.LazyAttribute(
        lambda c: (c.customer_since or timezone.localdate()) + datetime.timedelta(days=c.cadence_days)
    )
    cadence_days = 30
    cadence_max_days = 45


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


def random_timezone():
    return zoneinfo.ZoneInfo(random.choice(TIMEZONES)).key
