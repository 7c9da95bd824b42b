"""How dates, date-times and money read: one filter each (retention/templatetags/display.py)."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.template import Context, Template
from django.utils import timezone

from customers.models import Contact
from retention.templatetags.display import relative_words

TODAY = datetime.date(2026, 11, 26)


def render(source, **context):
    return Template(source).render(Context(context))


@pytest.mark.parametrize(("day", "mode", "words"), [
    (TODAY, "", "today"),
    (TODAY + datetime.timedelta(days=1), "", "tomorrow"),
    (TODAY - datetime.timedelta(days=1), "", "yesterday"),
    (TODAY - datetime.timedelta(days=12), "", "12 days ago"),
    (TODAY + datetime.timedelta(days=3), "", "in 3 days"),
    (TODAY, "due", "due today"),
    (TODAY + datetime.timedelta(days=1), "due", "due tomorrow"),
    (TODAY + datetime.timedelta(days=3), "due", "due in 3 days"),
    (TODAY - datetime.timedelta(days=1), "due", "overdue 1 day"),
    (TODAY - datetime.timedelta(days=12), "due", "overdue 12 days"),
    (TODAY - datetime.timedelta(days=60), "due", "overdue 60 days"),
])
def test_it_says_near_days_in_words(day, mode, words):
    assert relative_words(day, TODAY, mode) == words


@pytest.mark.parametrize(("day", "mode", "words"), [
    (datetime.date(2026, 9, 7), "", "7 Sep 2026"),
    (datetime.date(2027, 9, 7), "", "7 Sep 2027"),
    (datetime.date(2025, 9, 7), "due", "overdue 445 days"),  # lateness is always counted
    (datetime.date(2027, 9, 7), "due", "due 7 Sep 2027"),
])
def test_it_gives_far_days_as_dates(day, mode, words):
    assert relative_words(day, TODAY, mode) == words


@time_machine.travel(datetime.datetime(2026, 11, 26, 23, 30, tzinfo=datetime.UTC), tick=False)
def test_it_counts_days_in_the_current_time_zone():
    moment = datetime.datetime(2026, 11, 25, 23, 30, tzinfo=datetime.UTC)  # 26 Nov in Tokyo
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        html = render("{{ moment|relative }}", moment=moment)
    assert html == '<time datetime="2026-11-26" title="26 Nov 2026">yesterday</time>'


def test_it_shows_nothing_known_as_a_dash():
    assert render("{{ day|relative:'due' }}|{{ amount|money }}", day=None, amount=None) == "—|—"


def test_it_shows_one_date_and_one_date_time_style(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    moment = datetime.datetime(2026, 9, 7, 8, 5, tzinfo=datetime.UTC)
    html = render('{{ day|date }}|{{ moment|date:"DATETIME_FORMAT" }}|{{ moment|zoned }}',
                  day=datetime.date(2026, 9, 7), moment=moment)
    assert html == "7 Sep 2026|7 Sep 2026, 10:05|7 Sep 2026, 10:05 CEST"


def test_it_names_the_currency_with_every_amount(settings):
    settings.CURRENCY = "EUR"
    html = render("{{ a|money }}|{{ b|money:2 }}|{{ c|money }}",
                  a=Decimal("12400.4"), b=Decimal("1234.5"), c=0)
    assert html == "12,400\u00a0EUR|1,234.50\u00a0EUR|0\u00a0EUR"


@pytest.mark.parametrize(("year", "words"), [(1959, "30 May 1959"), (None, "30 May"), (None, "29 Feb")])
def test_it_shows_a_birthday_with_or_without_its_year(year, words):
    month, day = (2, 29) if words == "29 Feb" else (5, 30)
    contact = Contact(birthday_year=year, birthday_month=month, birthday_day=day)
    assert render("{{ contact|birthday }}", contact=contact) == words


@pytest.mark.parametrize(("seconds", "words"), [
    (0.4, "0 s"), (12, "12 s"), (60, "1 min"), (100, "1 min 40 s"), (3600, "1 h"), (7500, "2 h 5 min"),
])
def test_it_says_how_long_something_took(seconds, words):
    assert render("{{ d|elapsed }}", d=datetime.timedelta(seconds=seconds)) == words
