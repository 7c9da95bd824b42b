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
from django import forms
from django.core import mail
from django.test import Client
from django.urls import get_resolver, resolve
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.csv_io.columns import FORMULA_STARTS
from customers.forms import PurchaseForm
from customers.models import Contact, Customer
from retention.typed import TypedDates
from surveys.models import Response
from surveys.services import invitation_create
from surveys.tests.factories import SurveyFactory
from touchpoints.models import Complaint, OutboxMessage, Promise, Touchpoint

from .routes import project_routes
from .test_access_sweep import client_of

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
    required: bool = False


@dataclass
class Form:
    page: str
    method: str
    targets: list
    fields: list

    def data(self):
        """
        What the browser sends for the form as it stands: values, chosen options, ticked boxes,
        and the first of a group of radio buttons none of which is ticked (a person picks one).
        """
        data = {}
        radios = {f.name for f in self.fields if f.kind == "radio"}
        ticked = {f.name for f in self.fields if f.kind == "radio" and f.on}
        for f in self.fields:
            if f.kind == "radio" and f.name in radios - ticked:
                ticked.add(f.name)
                data[f.name] = [f.value]
                continue
            if f.kind in ("checkbox", "radio") and not f.on:
                continue
            if f.kind in ("submit", "file") or (f.kind == "button" and f.name in data):
                continue  # a browser sends the one button clicked: here the first
            data.setdefault(f.name, []).append(f.value)
        return data

    def fuzzable(self):
        """The fields to send bad values in: all but the file, the CSRF token and Django's copies of
        initial values (``initial-…``, compared only to tell whether a field changed)."""
        return sorted({f.name for f in self.fields if f.kind != "file" and f.name != "csrfmiddlewaretoken"
                       and not f.name.startswith("initial-")})


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
        elif tag == "option" and self.select is not None:
            self.select.options.append(a.get("value", ""))
            if "selected" in a or len(self.select.options) == 1:
                self.select.value = a.get("value", "")
        elif self.form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            self.form.fields.append(Field(a["name"], kind, a.get("value", "on" if kind == "checkbox" else ""),
                                          on="checked" in a or kind not in ("checkbox", "radio"),
                                          required="required" in a))
        elif tag == "button":
            self.form.fields.append(Field(a["name"], "button", a.get("value", ""), on=True))
        elif tag == "select":
            self.select = Field(a["name"], "select", required="required" in a)
            self.form.fields.append(self.select)
        elif tag == "textarea":
            self.textarea = Field(a["name"], "textarea", required="required" in a)
            self.form.fields.append(self.textarea)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.textarea.value = self.textarea.value.removeprefix("\n")  # as browsers read it
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
def world(request, settings, admin_user, mail_locmem):
    """North's book, a survey waiting for its answer, and the values each route's parameters take."""
    north_book = request.getfixturevalue("book")
    settings.PUBLIC_RATE_LIMIT_PER_MINUTE = 1_000_000
    customer, contact = north_book["objects"]["customer"], north_book["contact"]
    survey = SurveyFactory(name="Onboarding")
    for kind, text, choices in (("scale", "How easy was it?", ""), ("text", "What else?", ""),
                                ("choice", "Which part?", "Setup\nTraining")):
        survey.questions.create(kind=kind, text=text, choices=choices, position=survey.questions.count())
    waiting = invitation_create(survey=survey, customer=customer, contact=contact)
    return {
        "int": north_book["ids"],
        "username": north_book["people"],
        "name": ["Onboarding", north_book["objects"]["invitation"].survey.name],
        "token": [waiting.token, north_book["objects"]["invitation"].token, contact.unsubscribe_token],
        "key": ["birthday", "thank_you", "post_purchase", "card_reminder", "checkin"],
        "trigger": ["after_active", "periodic"],
        "name.csv": ["at-risk", "figures", "cohorts"],
        "uidb64": ["MQ"],
    }


def parameter_values(route, name, world):
    """The values a route's parameter takes in the sweep: the world's objects of that kind."""
    if route.parameters[name] == "int":
        return world["int"]
    if route.path.endswith("<slug:name>.csv"):
        return world["name.csv"]
    return world.get(name, ["not-a-real-token"])


def candidate_urls(route, world):
    """The route with each combination of the values its parameters take."""
    choices = [parameter_values(route, name, world) for name in route.parameters]
    return [route.url(**dict(zip(route.parameters, combo, strict=True)))
            for combo in itertools.product(*choices)]


def read_forms(client, urls, htmx=True):
    """Every form of the pages at ``urls`` that answer 200 (as pages and as htmx fragments), each
    once: the same form for another object of the same kind is the same form."""
    forms = {}
    for url in urls:
        for as_htmx in (False, True) if htmx else (False,):
            response = client.get(url, headers={"HX-Request": "true"} if as_htmx else {})
            assert response.status_code < 500, f"GET {url}: {response.status_code}"
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            reader = FormReader(url)
            reader.feed(response.content.decode())
            for form in reader.forms:
                key = (form.method, tuple(resolve(urlsplit(t).path).view_name for t in form.targets),
                       tuple(f.name for f in form.fields))
                if form.fuzzable() and not any(t.startswith(("/accounts/logout", "/admin/"))
                                               for t in form.targets):
                    forms.setdefault(key, form)
    return list(forms.values())


def the_pages(world):
    """(role, route, urls) of every route but the admin's and signing out; the public ones are for
    someone not signed in ("public"), the rest for an admin ("staff"), who may use every page."""
    for route in project_routes():
        if route.name in NEVER_SWEPT:
            continue
        yield ("public" if route.name in PUBLIC else "staff"), route, candidate_urls(route, world)


@pytest.fixture
def clients(admin_user):
    return {"staff": client_of(admin_user), "public": Client()}


# --- the sweep ------------------------------------------------------------------------------------


TEXT_KINDS = {"text", "search", "textarea"}
# What a person fills in where a form's field is empty, so that the probe is what gets stored.
PLAUSIBLE = {"email": "probe@example.com", "number": "3", "text": "Probe", "textarea": "Probe"}


def plausible(form):
    """The form as a person fills it in: its values, and something sensible in each empty field."""
    data = form.data()
    soon = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    for f in form.fields:
        if not f.required or data.get(f.name) != [""]:
            continue
        if f.kind == "select":
            data[f.name] = [next((o for o in f.options if o), "")]
        else:
            data[f.name] = [soon if f.kind == "date" else PLAUSIBLE.get(f.kind, "")]
    return data


# Each field of each form gets these, the rest of the form filled in as a person would: the values
# a form lets through and the database refuses (too long, NUL, out of the integer's or date's range).
EVERY_FIELD_GETS = ["x" * 100_000, "a\x00b", "99999999999999999999", "9999-12-31", "0001-01-01T00:00"]


def sweep_form(client, form, examples):
    def attempt(name, value, htmx, target):
        data = plausible(form)
        data[name] = [value]
        response = send(client, form.method, target, data, htmx=htmx)
        assert response.status_code < 500, f"{form.method.upper()} {target} {name}={value[:80]!r}"

    for name in form.fuzzable():
        for value in EVERY_FIELD_GETS:
            attempt(name, value, False, form.targets[0])

    given(name=st.sampled_from(form.fuzzable()), value=nasty, htmx=st.booleans(),
          target=st.sampled_from(form.targets))(
        settings(max_examples=examples, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))(attempt)
    )()


def test_every_form_answers_bad_input_without_a_server_error(world, clients):
    swept = []
    for role, route, urls in the_pages(world):
        for form in read_forms(clients[role], urls):
            sweep_form(clients[role], form, examples=min(20, 2 * len(form.fuzzable())))
            swept.append((route.name, form.method, form.targets[0]))
    # The sweep reached the forms that matter: one missing means it reads the pages wrong.
    names = {name for name, _, _ in swept}
    assert {"customers:new", "customers:edit", "customers:contact_new", "customer_detail",
            "touchpoints:quick_log", "touchpoints:meeting_notes", "health_override", "profile",
            "surveys:survey_new", "surveys:campaign_new", "surveys:suggestion_detail", "program_edit",
            "dashboard_task", "login", "password_reset", "surveys:answer"} <= names, names


# Values a tampered or mistyped address puts where a route expects an id, a key or a token.
MALFORMED = {
    "int": ["0", "99999999999999999999999999", "9223372036854775808", "2147483648"],
    "slug": ["x" * 5000, "--", "_"],
    "str": ["%00", "a%00b", "%ED%A0%80", "%FF%FE", "x" * 5000, "%3Cscript%3E", "..", "%20", "%E2%80%AE"],
}


# Django's password reset says on its own page that the link is invalid.
REFUSED_ON_A_PAGE = {"password_reset_confirm"}


def test_a_malformed_id_key_or_token_in_an_address_answers_404_or_400(world, clients):
    answered = []
    for role, route, _ in the_pages(world):
        if not route.parameters:
            continue
        for name, converter in route.parameters.items():
            for bad in MALFORMED.get(converter, MALFORMED["str"]):
                url = route.url(**{n: bad if n == name else parameter_values(route, n, world)[0]
                                   for n in route.parameters})
                for method in ("get", "post"):
                    response = getattr(clients[role], method)(url)
                    refusals = (200, 400, 404, 405) if route.name in REFUSED_ON_A_PAGE else (400, 404, 405)
                    if response.status_code not in refusals:
                        answered.append(f"{method.upper()} {url[:80]} ({route.name}): {response.status_code}")
    assert not answered, "\n".join(answered)


def test_a_nul_in_a_search_says_the_request_could_not_be_read(clients, world):
    response = clients["staff"].get("/customers/?q=Acme%00")
    assert response.status_code == 400
    assert "couldn’t read that request" in response.content.decode()


# --- stored text shows inert -----------------------------------------------------------------------


def live_in(content):
    return [marker.decode() for marker in LIVE if marker in content]


def test_text_typed_into_any_form_shows_inert_on_every_page_email_and_export(world, clients):
    # A formula start too: every CSV export must neutralise it.
    typed = f"=2+3 {SCRIPT}"
    pages = list(the_pages(world))
    for role, _, urls in pages:
        client = clients[role]
        for url in urls:
            for index, form in enumerate(read_forms(client, [url], htmx=False)):
                for name in [f.name for f in form.fields if f.kind in TEXT_KINDS]:
                    for target in form.targets:
                        # Each from the page as it is now: an edit on a stale form is refused.
                        now = read_forms(client, [url], htmx=False)
                        form = now[index] if index < len(now) else form
                        data = plausible(form)
                        data[name] = [typed]
                        assert send(client, form.method, target, data).status_code < 500

    # It was stored where people and customers read it: the check below is not of empty pages.
    assert Customer.objects.filter(needs__contains=PROBE).exists()
    assert Contact.objects.filter(role__contains=PROBE).exists()
    assert OutboxMessage.objects.filter(subject__contains=PROBE, body_html__contains=PROBE).exists()
    assert Touchpoint.objects.filter(summary__contains=PROBE).exists()
    assert Promise.objects.filter(description__contains=PROBE).exists()
    assert Complaint.objects.filter(summary__contains=PROBE).exists()
    assert Response.objects.filter(comment__contains=PROBE).exists()

    live, formulas = [], []
    for role, _, urls in pages:
        for url in urls:
            for htmx in (False, True):
                response = clients[role].get(url, headers={"HX-Request": "true"} if htmx else {})
                content_type = response.get("Content-Type", "")
                body = b"".join(response.streaming_content) if response.streaming else response.content
                if "csv" in content_type:
                    rows = csv.reader(io.StringIO(body.decode("utf-8-sig")))
                    formulas += [f"{url}: {cell[:40]!r}" for row in rows for cell in row
                                 if PROBE in cell and cell.startswith(FORMULA_STARTS)]
                elif "html" in content_type:
                    live += [f"{url}{' (htmx)' if htmx else ''}: {m}" for m in live_in(body)]
    for message in mail.outbox:
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                live += [f"email “{message.subject[:40]}”: {m}" for m in live_in(content.encode())]
    for html in OutboxMessage.objects.values_list("body_html", flat=True):
        live += [f"outbox: {m}" for m in live_in(html.encode())]

    assert not live, "live HTML from typed text:\n" + "\n".join(sorted(set(live)))
    assert not formulas, "a CSV cell a spreadsheet would run:\n" + "\n".join(sorted(set(formulas)))


# --- dates in range -------------------------------------------------------------------------------


def project_form_classes():
    """Every form class of the project's own modules (the URL configuration imports them all)."""
    get_resolver().url_patterns  # noqa: B018  (loads every view module, and so every form)
    seen, todo = set(), [forms.BaseForm]
    while todo:
        for cls in todo.pop().__subclasses__():
            if cls not in seen:
                seen.add(cls)
                todo.append(cls)
    return [cls for cls in seen if cls.__module__.split(".")[0] in ("customers", "touchpoints", "surveys",
                                                                   "retention")
            and ".tests." not in cls.__module__]


def test_every_form_with_a_date_takes_only_dates_in_range():
    dated = (forms.DateField, forms.DateTimeField)
    with_dates = [cls for cls in project_form_classes()
                  if any(isinstance(f, dated) for f in cls.base_fields.values())]
    assert len(with_dates) >= 10
    assert not [cls.__qualname__ for cls in with_dates if not issubclass(cls, TypedDates)]


@pytest.mark.parametrize("value", ["0001-01-01", "1799-12-31", "2200-01-01", "9999-12-31"])
def test_a_date_out_of_range_is_refused_with_a_message(value, alice, north):
    form = PurchaseForm({"purchase-date": value, "purchase-amount": "10"},
                        customer=Customer(team=north, timezone="UTC"))
    assert form.errors["date"] == ["Enter a date between 1800 and 2199."]
