"""Card reminders: follow-ups for the owner a week ahead of the occasions of customers worth a card."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from touchpoints.messaging.scans import programs_scan
from touchpoints.models import FollowUp, OutboxMessage
from touchpoints.tests.program_customers import DAY, customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("program_mail")]


@pytest.fixture
def card_worthy_value(settings):
    settings.CARD_WORTHY_VALUE = 10_000


def test_card_reminders_for_customers_worth_a_card_come_a_week_ahead(north, alice, card_worthy_value):
    vip = customer(north, alice, birthday=(3, 17), email="vip@example.com")
    vip.tags.create(name="VIP")
    rich = customer(
        north,
        alice,
        customer_since=datetime.date(2016, 3, 17),
        email="rich@example.com",
        lifetime_value=Decimal("25000"),
    )
    customer(north, alice, birthday=(3, 17), email="ordinary@example.com", lifetime_value=Decimal("50"))

    programs_scan(on_date=DAY)
    programs_scan(on_date=DAY)

    cards = FollowUp.objects.filter(kind=FollowUp.Kind.CARD).order_by("occasion_key")
    assert [(c.customer, c.assignee, c.due_on) for c in cards] == [(vip, alice, DAY), (rich, alice, DAY)]
    assert cards[0].occasion_key == f"card:contact{vip.contacts.get().pk}:2026-03-17"
    assert cards[1].occasion_key == f"card:customer{rich.pk}:2026-03-17"
    assert "10 years" in cards[1].title
    assert not OutboxMessage.objects.exists()  # a reminder for the owner, not an email


def test_a_dry_run_lists_the_card_reminders_and_opens_none(north, alice, card_worthy_value, capsys):
    vip = customer(north, alice, birthday=(3, 17), email="vip@example.com")
    vip.tags.create(name="VIP")

    call_command("run_daily_jobs", date=DAY.isoformat(), dry_run=True)

    out = capsys.readouterr().out
    assert f"card reminder  card:contact{vip.contacts.get().pk}:2026-03-17" in out
    assert "card_reminder: 1 would be opened; nothing was changed." in out
    assert not FollowUp.objects.exists()
