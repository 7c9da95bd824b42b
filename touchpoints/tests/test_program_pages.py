"""The Programs page (admins) and the Outbox page (managers and admins)."""

import datetime

import pytest
from django.core import mail

from customers.tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory
from touchpoints.messaging.ledger import outbox_enqueue
from touchpoints.messaging.wording import program_settings
from touchpoints.models import OutboxMessage, Program

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def buyer(north, alice):
    customer = CustomerFactory(team=north, owner=alice, name="Acme <b>Corp</b>",
                               customer_since=datetime.date(2021, 5, 1))
    ContactFactory(customer=customer, name="Dana Scully", email="dana@example.com", is_primary=True)
    return customer


# Programs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "maria", "nobody"])
def test_programs_are_for_admins_only(client, request, north, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/programs/").status_code == 404
    assert client.get("/programs/birthday/").status_code == 404
    assert client.post("/programs/birthday/", {"subject": "x", "body": "y"}).status_code == 404
    assert client.post("/programs/birthday/switch/", {"enabled": "0"}).status_code == 404
    assert Program.objects.get(key="birthday").enabled


def test_the_list_shows_every_program_and_switches_one_off(admin_client):
    response = admin_client.get("/programs/")
    assert response.status_code == 200
    for label in ("Birthday greeting", "Thank-you note to a new customer", "Card reminder to the owner"):
        assert label in response.content.decode()

    admin_client.post("/programs/birthday/switch/", {"enabled": "0"})
    assert not Program.objects.get(key="birthday").enabled
    admin_client.post("/programs/birthday/switch/", {"enabled": "1"})
    assert Program.objects.get(key="birthday").enabled


def test_an_admin_tunes_a_program(admin_client):
    response = admin_client.post("/programs/post_purchase/", {
        "enabled": "on", "send_hour": "10", "days": "5", "audience": "all",
        "subject": "How is {{ purchase.description }}?",
        "body": "Hello {{ contact.first_name }},\n\nall well?\n\n{{ owner_name }}",
    })

    assert response.status_code == 302
    program = Program.objects.get(key="post_purchase")
    assert (program.send_hour, program.days, program.audience, program.subject) == (
        10, 5, "all", "How is {{ purchase.description }}?"
    )


@pytest.mark.parametrize(("body", "message"), [
    ("Hello {{ contact.first_name|shout }}", "Invalid filter"),
    ("{% if years %}no end", "Unclosed tag"),
    ("{% load static %}{% static 'x' %}", "Invalid block tag on line 1: &#x27;load&#x27;"),
    ("{% include 'base.html' %}", "Invalid block tag"),
    ("{% debug %}", "Invalid block tag"),
    ("{{ years|divisibleby:0 }}", "ZeroDivisionError"),
])
def test_broken_wording_is_refused_and_nothing_saved(admin_client, body, message):
    before = Program.objects.get(key="birthday").body

    response = admin_client.post("/programs/birthday/", {
        "enabled": "on", "send_hour": "9", "subject": "Happy birthday", "body": body,
    })

    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was saved" in page and message in page
    assert Program.objects.get(key="birthday").body == before


def test_the_preview_renders_for_a_real_customer_and_escapes_its_name(admin_client, buyer, alice):
    other = CustomerFactory(team=buyer.team, owner=alice, name="Other Ltd")

    response = admin_client.get(f"/programs/anniversary/?customer={buyer.pk}")
    page = response.content.decode()
    assert response.status_code == 200
    assert f'value="{buyer.pk}"' in page  # the customer's id, to change it
    assert "Hello Dana," in page and "dana@example.com" in page and "Alice Archer" in page
    # The HTML part sits, escaped, in a sandboxed iframe; the customer's markup is escaped twice
    # there (once in the email, once in the attribute) and never live.
    assert "<b>Corp</b>" not in page
    assert "Acme &amp;lt;b&amp;gt;Corp&amp;lt;/b&amp;gt; became" in page
    assert 'sandbox=""' in page

    response = admin_client.get(f"/programs/anniversary/?customer={other.pk}")
    assert "Other Ltd" in response.content.decode()


def test_the_live_preview_renders_unsaved_wording(admin_client, buyer):
    response = admin_client.post("/programs/birthday/preview/", {
        "customer": buyer.pk, "subject": "Many happy returns, {{ contact.first_name }}", "body": "Hi",
    })
    assert response.status_code == 200
    assert "Many happy returns, Dana" in response.content.decode()
    assert Program.objects.get(key="birthday").subject == "Happy birthday, {{ contact.first_name }}!"

    response = admin_client.post("/programs/birthday/preview/", {
        "customer": buyer.pk, "subject": "{% if %}", "body": "Hi",
    })
    assert "The subject:" in response.content.decode()


def test_the_preview_says_so_for_an_unknown_customer(admin_client, buyer):
    response = admin_client.get("/programs/birthday/?customer=999999")
    assert "There is no customer #999999" in response.content.decode()


def test_the_preview_customer_is_found_by_name(admin_client, buyer, alice):
    other = CustomerFactory(team=buyer.team, owner=alice, name="Acme Holdings")
    CustomerFactory(team=buyer.team, owner=alice, name="Acme Gone",
                    archived_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    CustomerFactory(team=buyer.team, owner=alice, name="Zenith")

    found = admin_client.get("/programs/birthday/preview/customers/", {"find": " acme "},
                             headers={"HX-Request": "true"}).content.decode()

    assert "<html" not in found
    assert found.index("Acme &lt;b&gt;Corp&lt;/b&gt;") < found.index("Acme Holdings")  # by name
    assert f'data-preview-customer="{other.pk}"' in found and f"?customer={other.pk}" in found
    assert "Acme Gone" not in found and "Zenith" not in found  # archived, or not so named
    assert "has “nobody” in their name" in admin_client.get(
        "/programs/birthday/preview/customers/", {"find": "nobody"}).content.decode()
    assert "list-group" not in admin_client.get(
        "/programs/birthday/preview/customers/", {"find": "  "}).content.decode()


def test_without_script_the_search_is_a_page_of_links(admin_client, buyer):
    page = admin_client.get("/programs/birthday/", {"find": "Acme"}).content.decode()
    assert f'href="/programs/birthday/?customer={buyer.pk}"' in page
    assert 'hx-get="/programs/birthday/preview/customers/"' in page
    assert 'class="col-lg-6"' in page  # the preview beside the form on wide screens


def test_the_live_preview_names_placeholders_that_do_not_exist(admin_client, buyer):
    response = admin_client.post("/programs/post_purchase/preview/", {
        "customer": buyer.pk, "subject": "Hello {{ contact.frist_name }}",
        "body": "{{ owner_name }} thanks you for {{ purchase.description|lower }} "
                "({{ purchase.date.year }}).{% for p in purchases %} {{ p.description }}{% endfor %}"
                "{{ bogus }} {{ contact.frist_name }}",
    })
    page = response.content.decode()
    assert "No such placeholders:" in page
    assert "<code>{{ contact.frist_name }}</code>, <code>{{ bogus }}</code>." in page
    assert "purchase.description" not in page.split("No such")[1].split("</div>")[0]

    fine = admin_client.post("/programs/birthday/preview/", {
        "customer": buyer.pk, "subject": "Happy birthday, {{ contact.first_name }}", "body": "Hi",
    }).content.decode()
    assert "No such placeholder" not in fine and "Happy birthday, Dana" in fine


def test_an_admin_sets_who_gets_a_program(admin_client):
    page = admin_client.get("/programs/anniversary/").content.decode()
    assert "Every contact with an email address" in page
    assert admin_client.get("/programs/birthday/").context["form"].fields.get("audience") is None


def test_missing_program_rows_come_back_with_their_defaults():
    Program.objects.filter(key="birthday").delete()
    assert program_settings()["birthday"].subject == "Happy birthday, {{ contact.first_name }}!"


# Outbox ----------------------------------------------------------------------------------------


def message(customer, key, *, status="pending", program="birthday", subject="Happy birthday", **fields):
    contact = customer.contacts.first()
    row, _ = outbox_enqueue(occasion_key=key, program=program, customer=customer, contact=contact,
                            to=[contact.email], subject=subject, body_text="All the best",
                            body_html="<p>All the <script>best</script></p>", **fields)
    OutboxMessage.objects.filter(pk=row.pk).update(status=status)
    row.refresh_from_db()
    return row


@pytest.fixture
def south_buyer(south, charlie):
    customer = CustomerFactory(team=south, owner=charlie, name="Southern Ltd")
    ContactFactory(customer=customer, email="south@example.com", is_primary=True)
    return customer


def test_account_managers_do_not_see_the_outbox(client, alice, buyer):
    row = message(buyer, "birthday:1:2026")
    client.force_login(alice)
    assert client.get("/outbox/").status_code == 404
    assert client.get(f"/outbox/{row.pk}/").status_code == 404
    assert client.post(f"/outbox/{row.pk}/retry/").status_code == 404


def test_a_manager_sees_the_messages_of_the_teams_they_manage(client, buyer, south_buyer):
    north_manager = UserFactory(username="nora")
    TeamFactory(name="North").managers.add(north_manager)
    mine, theirs = message(buyer, "birthday:1:2026"), message(south_buyer, "birthday:2:2026")
    client.force_login(north_manager)

    page = client.get("/outbox/").content.decode()

    assert f"/outbox/{mine.pk}/" in page and f"/outbox/{theirs.pk}/" not in page
    assert client.get(f"/outbox/{theirs.pk}/").status_code == 404
    assert client.post(f"/outbox/{theirs.pk}/retry/").status_code == 404


def test_the_outbox_filters_by_program_status_and_date(client, maria, buyer, south_buyer):
    birthday = message(buyer, "birthday:1:2026", status="sent",
                       send_after=datetime.datetime(2026, 3, 10, 9, tzinfo=datetime.UTC))
    checkin = message(south_buyer, "checkin:2:2026-03-01", program="checkin", status="failed",
                      send_after=datetime.datetime(2026, 3, 12, 9, tzinfo=datetime.UTC))
    client.force_login(maria)

    def shown(query):
        page = client.get(f"/outbox/?{query}").content.decode()
        return {row.pk for row in (birthday, checkin) if f"/outbox/{row.pk}/" in page}

    assert shown("") == {birthday.pk, checkin.pk}
    assert shown("program=checkin") == {checkin.pk}
    assert shown("status=sent") == {birthday.pk}
    assert shown("date_from=2026-03-11") == {checkin.pk}
    assert shown("date_to=2026-03-10") == {birthday.pk}
    assert shown("date_from=2026-03-11&date_to=2026-03-01") == {birthday.pk, checkin.pk}  # refused


def test_the_outbox_list_runs_a_bounded_number_of_queries(client, maria, buyer, south_buyer,
                                                          django_assert_max_num_queries):
    for n in range(30):
        message(buyer if n % 2 else south_buyer, f"birthday:{n}:2026")
    client.force_login(maria)
    # The page, the mail server's state and backlog, and the daily counts: whatever the rows.
    with django_assert_max_num_queries(12):
        response = client.get("/outbox/")
    assert response.status_code == 200


def test_a_message_opens_as_it_was_sent(client, maria, buyer, settings):
    settings.SITE_URL = "https://retention.example.com"
    row = message(buyer, "birthday:1:2026", status="failed")
    OutboxMessage.objects.filter(pk=row.pk).update(attempts=6, last_error="SMTPRecipientsRefused: 550")
    client.force_login(maria)

    page = client.get(f"/outbox/{row.pk}/").content.decode()

    token = buyer.contacts.first().unsubscribe_token
    assert f"&lt;https://retention.example.com/u/{token}/&gt;" in page  # List-Unsubscribe
    assert "List-Unsubscribe=One-Click" in page and "birthday:1:2026" in page
    assert "SMTPRecipientsRefused: 550" in page and ">6<" in page
    # The HTML part only inside the sandboxed iframe, escaped into its srcdoc.
    assert "<script>best</script>" not in page
    assert 'sandbox="" srcdoc="&lt;p&gt;All the &lt;script&gt;best' in page


def test_a_failed_message_can_be_retried(client, maria, buyer, mail_locmem):
    row = message(buyer, "birthday:1:2026", status="failed")
    OutboxMessage.objects.filter(pk=row.pk).update(attempts=6, last_error="gave up")
    client.force_login(maria)

    assert client.get(f"/outbox/{row.pk}/retry/").status_code == 405
    response = client.post(f"/outbox/{row.pk}/retry/")

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 0


def test_only_a_failed_message_is_retried(client, maria, buyer, mail_locmem):
    row = message(buyer, "birthday:1:2026", status="sent")
    client.force_login(maria)

    response = client.post(f"/outbox/{row.pk}/retry/", follow=True)

    assert "Only a failed message can be retried" in response.content.decode()
    row.refresh_from_db()
    assert row.status == "sent" and not mail.outbox


def test_nav_links_follow_the_role(client, alice, maria, admin_user, north):
    client.force_login(alice)
    page = client.get("/today/").content.decode()
    assert 'href="/outbox/"' not in page and 'href="/programs/"' not in page
    client.force_login(maria)
    page = client.get("/today/").content.decode()
    assert 'href="/outbox/"' in page and 'href="/programs/"' not in page
    client.force_login(admin_user)
    page = client.get("/today/").content.decode()
    assert 'href="/outbox/"' in page and 'href="/programs/"' in page
