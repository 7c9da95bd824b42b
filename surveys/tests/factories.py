"""Factories for surveys and invitations, for the tests."""

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from customers.tests.factories import ContactFactory
from surveys.models import Invitation, Survey


class SurveyFactory(DjangoModelFactory):
    class Meta:
        model = Survey
        django_get_or_create = ("name",)

    name = "NPS"
    kind = Survey.Kind.NPS
    question = "How likely are you to recommend us to a friend or colleague?"


class InvitationFactory(DjangoModelFactory):
    class Meta:
        model = Invitation

    survey = factory.SubFactory(SurveyFactory)
    contact = factory.SubFactory(ContactFactory)
    customer = factory.LazyAttribute(lambda i: i.contact.customer)
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))
