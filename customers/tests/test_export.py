"""Customer export: the columns, formula neutralising, visibility and filters, the log, the round trip."""

import csv
import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.csv_io.columns import COLUMNS
from customers.csv_io.export import export_lines
from customers.csv_io.importer import CsvImport
from customers.models import Customer, CustomerChange, ExportLog, Tag
from customers.services import customer_archive
from customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def parse(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def export_command(*args):
    out = io.StringIO()
    call_command("export_customers", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def web_export(client, query=""):
    response = client.get(f"/customers/export/{query}")
    assert response.status_code == 200
    assert response.streaming
    return response, b"".join(response.streaming_content).decode()


def test_it_exports_the_columns_in_order_with_the_primary_contact(alice, north):
    referrer = CustomerFactory(team=north, owner=alice, name="Referrer", external_id="R-1")
    customer = CustomerFactory(
        team=north, owner=alice, name="Acme Ltd", external_id="A-1", status="prospect",
        customer_since=datetime.date(2021, 4, 1), timezone="Europe/Berlin", cadence_days=14,
        referred_by=referrer,
    )
    customer.tags.add(Tag.objects.create(name="vip"), Tag.objects.create(name="enterprise"))
    ContactFactory(customer=customer, name="Aaron Other", email="other@acme.example", is_primary=False)
    ContactFactory(customer=customer, name="Dana Doe", email="dana@acme.example", phone="030 1234",
                   birthday_month=3, birthday_day=14, is_primary=True)

    rows = parse(export_command())

    assert rows[0] == list(COLUMNS)
    assert rows[1] == ["A-1", "Acme Ltd", "prospect", "2021-04-01", "alice", "North", "Europe/Berlin", "14",
                       "enterprise; vip", "R-1", "Dana Doe", "dana@acme.example", "030 1234", "'--03-14",
                       ""]
    assert rows[2][:2] == ["R-1", "Referrer"] and rows[2][10:] == ["", "", "", "", ""]
    assert len(rows) == 3


def test_the_command_exports_current_customers_to_a_file_and_logs_it(tmp_path, alice, north):
    CustomerFactory(team=north, name="Kept")
    customer_archive(customer=CustomerFactory(team=north, name="Archived"), user=alice)
    path = tmp_path / "out.csv"

    export_command(str(path))

    rows = parse(path.read_text(encoding="utf-8"))
    assert [row[1] for row in rows[1:]] == ["Kept"]
    log = ExportLog.objects.get()
    assert (log.source, log.row_count, log.user) == ("command", 1, None)


@pytest.mark.parametrize(
    "name, exported",
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+49 30 1234", "'+49 30 1234"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTabbed", "'\tTabbed"),
        ("\rReturn", "'\rReturn"),
        ("'quoted", "''quoted"),  # so that import, which drops one apostrophe, gets it back
        ("Plain = fine", "Plain = fine"),
    ],
)
def test_cells_a_spreadsheet_would_run_are_neutralised(alice, north, name, exported):
    customer = CustomerFactory(team=north, owner=alice, name=name)
    ContactFactory(customer=customer, name=name, phone=name[:50], email="", is_primary=True)
    row = parse(export_command())[1]
    assert row[1] == exported
    assert row[10] == exported and row[12] == exported[:51]


TRICKY = [
    ("T-1", "=cmd|' /C calc'!A0", "+49 30 1234"),
    ("T-2", "-x", "-"),
    ("T-3", "@home", "'literal"),
    ("T-4", 'Müller "&" Söhne, GmbH; Köln', "\t(030) 1"),
    ("T-5", "Two\nlines\r\nand a CR\r", "=1+1"),
    ("T-6", "日本語の会社 🚀", ""),
    ("T-7", "'", "''"),
]


def customers_as_columns():
    """Every customer, keyed by external id, as the values the CSV columns carry."""
    result = {}
    customers = Customer.objects.select_related("owner", "team", "referred_by").prefetch_related(
        "tags", "contacts"
    )
    for customer in customers:
        contact = customer.primary_contact()
        result[customer.external_id] = (
            customer.name, customer.status, customer.customer_since,
            customer.owner.username if customer.owner else None, customer.team.name, customer.timezone,
            customer.cadence_days, sorted(tag.name for tag in customer.tags.all()),
            customer.referred_by.external_id if customer.referred_by else None,
            (contact.name, contact.email, contact.phone, contact.birthday_year, contact.birthday_month,
             contact.birthday_day) if contact else None,
        )
    return result


def make_tricky_customers(alice, bob, north, south):
    previous = None
    for n, (external_id, name, phone) in enumerate(TRICKY):
        customer = CustomerFactory(
            team=north if n % 3 else south, owner=(alice if n % 2 else bob) if n % 3 else None,
            external_id=external_id, name=name, status=["active", "prospect", "churned", "inactive"][n % 4],
            customer_since=None if n == 2 else datetime.date(2020, 1, 1) + datetime.timedelta(days=n * 40),
            timezone=["UTC", "Asia/Tokyo", "America/New_York"][n % 3], cadence_days=7 + n,
            referred_by=previous,
        )
        tags = ["vip", f"tag {n}", "Ünï"][: n % 4]
        customer.tags.add(*[Tag.objects.get_or_create(name=tag)[0] for tag in tags])
        if n != 5:
            ContactFactory(customer=customer, name=f"{name[:20]} contact", email=f"c{n}@example.com",
                           phone=phone, is_primary=True, birthday_year=1980 if n % 2 else None,
                           birthday_month=2, birthday_day=29)
        previous = customer if n % 2 else previous


def test_export_then_import_round_trip_is_lossless(tmp_path, alice, bob, charlie, north, south):
    make_tricky_customers(alice, bob, north, south)
    original = customers_as_columns()
    path = tmp_path / "export.csv"
    export_command(str(path))
    changes = CustomerChange.objects.count()

    # Back into the same database: nothing changes.
    out = io.StringIO()
    call_command("import_customers", str(path), stdout=out)
    assert out.getvalue().strip() == (
        f"Imported {len(TRICKY)} row(s): 0 created, 0 updated, {len(TRICKY)} unchanged."
    )
    assert CustomerChange.objects.count() == changes
    assert customers_as_columns() == original

    # Into an empty database: the same customers, field by field.
    Customer.objects.all().delete()
    call_command("import_customers", str(path), stdout=io.StringIO())
    assert customers_as_columns() == original


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
        .filter(str.strip), min_size=1, max_size=4,
    ),
    phone=st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=50)
    .filter(str.strip),
)
def test_any_text_survives_the_round_trip(tmp_path_factory, alice, north, names, phone):
    path = tmp_path_factory.mktemp("round") / "export.csv"
    with transaction.atomic():
        for n, name in enumerate(names):
            customer = CustomerFactory(team=north, owner=alice, external_id=f"H-{n}", name=name)
            ContactFactory(customer=customer, name=name, phone=phone, is_primary=True)
        original = customers_as_columns()
        with open(path, "w", encoding="utf-8", newline="") as out:
            out.writelines(export_lines(Customer.objects.all()))

        report = CsvImport().run(path)
        assert (report.created, report.updated, report.unchanged) == (0, 0, len(names))

        Customer.objects.all().delete()
        CsvImport().run(path)
        assert customers_as_columns() == original
        transaction.set_rollback(True)


def test_the_web_export_is_the_filtered_list_the_user_sees(client, alice, charlie, maria, north, south):
    CustomerFactory(team=north, owner=alice, name="North active", status="active")
    CustomerFactory(team=north, owner=alice, name="North prospect", status="prospect")
    CustomerFactory(team=south, owner=charlie, name="South active", status="active")
    customer_archive(customer=CustomerFactory(team=north, name="North archived"), user=alice)

    def names(user, query=""):
        client.force_login(user)
        return [row[1] for row in parse(web_export(client, query)[1])[1:]]

    assert names(alice) == ["North active", "North prospect"]
    assert names(alice, "?status=prospect") == ["North prospect"]
    assert names(alice, "?archived=1") == ["North archived"]
    assert names(alice, f"?team={south.pk}") == []  # another team's customers never appear
    assert names(charlie) == ["South active"]
    assert names(maria, "?q=active") == ["North active", "South active"]


def test_the_web_export_is_logged_with_its_row_count_and_filters(client, alice, north):
    CustomerFactory.create_batch(3, team=north, status="active")
    CustomerFactory(team=north, status="prospect")
    client.force_login(alice)

    response, text = web_export(client, "?status=active&sort=name&page=2")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    assert len(parse(text)) == 4
    log = ExportLog.objects.get()
    assert (log.user, log.row_count, log.source) == (alice, 3, "web")
    assert log.filters == "status=active&sort=name&page=2"


def test_an_outsider_exports_nothing(client, nobody, north):
    CustomerFactory.create_batch(2, team=north)
    client.force_login(nobody)
    assert parse(web_export(client)[1]) == [list(COLUMNS)]
    assert ExportLog.objects.get().row_count == 0


def test_the_export_runs_the_same_queries_for_few_and_many_customers(client, alice, north):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            web_export(client)
        return len(captured)

    client.force_login(alice)
    for _ in range(3):
        ContactFactory(customer=CustomerFactory(team=north, owner=alice), is_primary=True)
    few = queries()
    for n in range(30):
        customer = CustomerFactory(team=north, owner=alice)
        customer.tags.add(Tag.objects.get_or_create(name=f"t{n % 4}")[0])
        ContactFactory.create_batch(2, customer=customer)
    assert queries() == few


def test_export_needs_a_login(client):
    response = client.get("/customers/export/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ExportLog.objects.exists()
