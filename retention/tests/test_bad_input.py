"""
Bad input on every form and public endpoint: whatever is typed or sent, the answer is a page, a
form error, a 400 or a 404, never a 500; and whatever text is stored shows inert wherever it
appears (pages, htmx fragments, emails, CSV exports).

The sweep is generic: it opens every page of the project (read from the URL resolver) as the role
that may use it, an admin for the team's pages and nobody for the public ones, reads the forms from
the HTML as a browser would, and sends each field values a careless or hostile client sends
(generated with hypothesis): NUL bytes, lone surrogates, control characters, overlong text, huge
and negative numbers, dates out of range, malformed ids, HTML and script. A new form is swept
without anyone editing this file.
"""

import csv
import datetime
import io
import itertools
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.csv_io.columns import FORMULA_STARTS
from customers.models import Contact, Customer
from surveys.services import invitation_create
from surveys.tests.factories import SurveyFactory
from touchpoints.models import OutboxMessage

from .routes import project_routes
from .test_access_sweep import book, client_of  # noqa: F401  (``book``: one of everything of North)

pytestmark = pytest.mark.django_db

# Text that would run if a page, a fragment or an email put it in its HTML as it is.
PROBE = "probe-7f3a"
SCRIPT = f'"><{PROBE}>&<script>{PROBE}()</script><img src=x alt="{PROBE}">'
LIVE = (f"<{PROBE}".encode(), f"<script>{PROBE}".encode())

NASTY_TEXT = [
    "\x00", "a\x00b", "\ud800", "ok\udfffok", "\x01\x02\x1b[31m\x7f", "\u202eevil", "\ufeff",
    "x" * 100_000, " " * 300, "𝕏" * 400, SCRIPT, "=HYPERLINK(\"http://example.com\")",
    "' OR 1=1 --", "../../../etc/passwd", "%s%n{0}{{ x }}{% now %}",
]
NASTY_NUMBERS = [
    "-1", "0", "-0", "1e309", "NaN", "Infinity", "-Infinity", "1.5", "0x10", "١٢",
    "99999999999999999999999999999", "-99999999999999999999999999999", "2147483648", "9223372036854775808",
]
NASTY_DATES = [
    "0000-01-01", "0001-01-01", "9999-12-31", "10000-01-01", "2023-02-31", "2024-13-01",
    "31/02/2024", "9999-12-31T23:59", "0001-01-01T00:00", "2024-02-30T10:00", "2024-01-01T25:61",
    "10000-01-01T00:00", "--02-30", "--13-01",
]
nasty = st.one_of(
    st.sampled_from(NASTY_TEXT + NASTY_NUMBERS + NASTY_DATES),
    st.text(alphabet=st.characters(codec=None), max_size=40),  # surrogates and controls included
    st.integers().map(str),
    st.dates().map(lambda d: d.isoformat()),
)


@dataclass
class Field:
    name: str
    kind: str  # an input's type, "select" or "textarea"
    value: str = ""
    options: list = field(default_factory=list)
    on: bool = True  # a checkbox or radio button is sent only when ticked


@dataclass
class Form:
    page: str
    method: str
    targets: list
    fields: list

    def data(self):
        """What the browser sends for the form as it stands: values, chosen options, ticked boxes."""
        data = {}
        for f in self.fields:
            if f.kind in ("checkbox", "radio") and not f.on:
                continue
            if f.kind in ("submit", "file"):
                continue
            data.setdefault(f.name, []).append(f.value)
        return data

    def fuzzable(self):
        return sorted({f.name for f in self.fields if f.kind not in ("file",)} - {"csrfmiddlewaretoken"})


class FormReader(HTMLParser):
    """The forms of a page, as a browser reads them (one option selected per select)."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.page, self.forms, self.form, self.select, self.textarea = page, [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            targets = {urljoin(self.page, a.get("action") or self.page)}
            for hx in ("hx-post", "hx-get"):
                if a.get(hx):
                    targets.add(urljoin(self.page, a[hx]))
            self.form = Form(self.page, (a.get("method") or "get").lower(), sorted(targets), [])
            self.forms.append(self.form)
        elif self.form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            self.form.fields.append(Field(a["name"], kind, a.get("value", "on" if kind == "checkbox" else ""),
                                          on="checked" in a or kind not in ("checkbox", "radio")))
        elif tag == "button":
            self.form.fields.append(Field(a["name"], "button", a.get("value", ""), on=True))
        elif tag == "select":
            self.select = Field(a["name"], "select")
            self.form.fields.append(self.select)
        elif tag == "textarea":
            self.textarea = Field(a["name"], "textarea")
            self.form.fields.append(self.textarea)
        if tag == "option" and self.select is not None:
            self.select.options.append(a.get("value", ""))
            if "selected" in a or len(self.select.options) == 1:
                self.select.value = a.get("value", "")

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def encoded(data):
    """Form data as a browser would send it, lone surrogates and all (as the bytes they would be)."""
    return urlencode(data, doseq=True, encoding="utf-8", errors="surrogatepass")


def send(client, method, url, data, htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    if method == "get":
        return client.get(f"{url}?{encoded(data)}", headers=headers)
    return client.post(url, encoded(data), content_type="application/x-www-form-urlencoded",
                       headers=headers)


# --- the pages and their URLs ---------------------------------------------------------------------

PUBLIC = {"login", "password_reset", "password_reset_confirm", "unsubscribe", "surveys:answer"}
NEVER_SWEPT = {"logout"}  # signing out mid-sweep would end the admin's session


@pytest.fixture
def world(book, settings, admin_user, mail_locmem):
    """North's book, a survey waiting for its answer, and the values each route's parameters take."""
    settings.PUBLIC_RATE_LIMIT_PER_MINUTE = 1_000_000
    customer, contact = book["objects"]["customer"], book["contact"]
    survey = SurveyFactory(name="Onboarding")
    for kind, text, choices in (("scale", "How easy was it?", ""), ("text", "What else?", ""),
                                ("choice", "Which part?", "Setup\nTraining")):
        survey.questions.create(kind=kind, text=text, choices=choices, position=survey.questions.count())
    waiting = invitation_create(survey=survey, customer=customer, contact=contact)
    return {
        "int": book["ids"],
        "username": book["people"],
        "name": ["Onboarding", book["objects"]["invitation"].survey.name],
        "token": [waiting.token, book["objects"]["invitation"].token, contact.unsubscribe_token],
        "key": ["birthday", "thank_you", "post_purchase", "card_reminder", "checkin"],
        "trigger": ["after_active", "periodic"],
        "name.csv": ["at-risk", "figures", "cohorts"],
        "uidb64": ["MQ"],
    }


def candidate_urls(route, world):
    """The route with each combination of the values its parameters take (a few of each)."""
    def values(name, converter):
        if converter == "int":
            return world["int"]
        if route.path.endswith("<slug:name>.csv"):
            return world["name.csv"]
        return world.get(name, ["not-a-real-token"])

    choices = [values(name, converter) for name, converter in route.parameters.items()]
    return [route.url(**dict(zip(route.parameters, combo))) for combo in itertools.product(*choices)]


def read_forms(client, urls):
    """Every form of the pages at ``urls`` that answer 200, each form once (by target and fields)."""
    forms = {}
    for url in urls:
        for htmx in (False, True):
            response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
            assert response.status_code < 500, f"GET {url}: {response.status_code}"
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            reader = FormReader(url)
            reader.feed(response.content.decode())
            for form in reader.forms:
                key = (form.method, tuple(form.targets), tuple(f.name for f in form.fields))
                if form.fuzzable() and not any(t.startswith(("/accounts/logout", "/admin/"))
                                               for t in form.targets):
                    forms.setdefault(key, form)
    return list(forms.values())


def the_pages(world):
    """(role, urls) of every route but the admin's and sign-out: public ones for nobody signed in."""
    for route in project_routes():
        if route.name in NEVER_SWEPT:
            continue
        yield ("public" if route.name in PUBLIC else "staff"), route, candidate_urls(route, world)


@pytest.fixture
def clients(admin_user):
    return {"staff": client_of(admin_user), "public": Client()}


# --- the sweep ------------------------------------------------------------------------------------


def sweep_form(client, form, examples):
    names = form.fuzzable()

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(name=st.sampled_from(names), value=nasty, htmx=st.booleans(), target=st.sampled_from(form.targets))
    def attempt(name, value, htmx, target):
        data = form.data()
        data[name] = [value]
        response = send(client, form.method, target, data, htmx=htmx)
        assert response.status_code < 500, f"{form.method.upper()} {target} {name}={value!r}"

    attempt()


def test_every_form_answers_bad_input_without_a_server_error(world, clients):
    swept = []
    for role, route, urls in the_pages(world):
        for form in read_forms(clients[role], urls):
            sweep_form(clients[role], form, examples=min(40, 6 * len(form.fuzzable())))
            swept.append((route.name, form.method, form.targets[0]))
    # The sweep reached the forms that matter: one missing means it reads the pages wrong.
    names = {name for name, _, _ in swept}
    assert {"customers:new", "customers:edit", "customers:contact_new", "customer_detail",
            "touchpoints:quick_log", "touchpoints:meeting_notes", "health_override", "profile",
            "surveys:survey_new", "surveys:campaign_new", "surveys:suggestion_detail", "program_edit",
            "dashboard_task", "login", "password_reset", "surveys:answer"} <= names, names
