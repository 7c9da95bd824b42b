"""
North's ``book``: one of everything that belongs to a customer, made through the services, for the
sweeps that walk every route (``test_access_sweep.py``: other teams and roles;
``test_accessibility.py``: axe-core on every page).
"""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from customers.csv_io.mapping import import_mapping_save
from customers.csv_io.uploads import customer_import_upload
from customers.models import Contact, KeyDate
from customers.services import contact_save, customer_create, key_date_save, purchase_add
from retention.api.tokens import api_token_create
from retention.webhooks.services import endpoint_create
from surveys.campaigns import campaign_create
from surveys.services import invitation_create, response_record
from surveys.tests.factories import SurveyFactory
from touchpoints.messaging.ledger import outbox_enqueue
from touchpoints.models import OutboxMessage
from touchpoints.services import (
    complaint_acknowledge,
    complaint_open,
    complaint_resolve,
    meeting_notes_send,
    promise_create,
    touchpoint_log,
)
from touchpoints.tests.factories import FollowUpFactory


@pytest.fixture
def book(settings, tmp_path, alice, bob, maria, north):
    """North's book, one of everything that belongs to a customer, made as users make it."""
    settings.IMPORTS_DIR = tmp_path / "imports"
    now = timezone.now()
    customer = customer_create(user=alice, team=north, name="Northwind", owner=alice,
                               external_id="NW-1", customer_since=datetime.date(2020, 5, 1))
    referred = customer_create(user=alice, team=north, name="Northwind Junior", owner=bob,
                               referred_by=customer)
    contact = contact_save(contact=Contact(customer=customer, name="Olga North",
                                           email="olga@example.com", birthday_month=5, birthday_day=3),
                           make_primary=True)
    call = touchpoint_log(customer=customer, user=alice, kind="call", summary="Asked about renewal",
                          contacts=[contact])
    meeting = touchpoint_log(customer=customer, user=alice, kind="meeting", summary="Quarterly review",
                             contacts=[contact], happened_at=now - datetime.timedelta(days=2))
    notes, _ = meeting_notes_send(touchpoint=meeting, user=alice, contacts=[contact],
                                  subject="Our review", body="What we agreed.")
    unsent = touchpoint_log(customer=customer, user=alice, kind="meeting", summary="Site visit",
                            contacts=[contact], happened_at=now - datetime.timedelta(days=3))
    failed, _ = outbox_enqueue(occasion_key=f"sweep-{customer.pk}", program="checkin", customer=customer,
                            contact=contact, to=contact.email, subject="How are you?", body_text="Hi")
    OutboxMessage.objects.filter(pk=failed.pk).update(status=OutboxMessage.Status.FAILED)
    new = complaint_open(customer=customer, user=alice, summary="Late delivery", severity="high")
    acknowledged = complaint_open(customer=customer, user=alice, summary="Wrong invoice", severity="low")
    complaint_acknowledge(complaint=acknowledged, user=alice)
    resolved = complaint_open(customer=customer, user=alice, summary="Rude driver", severity="low")
    complaint_acknowledge(complaint=resolved, user=alice)
    complaint_resolve(complaint=resolved, user=alice, resolution_notes="Apologised")
    survey = SurveyFactory()
    campaign = campaign_create(user=maria, survey=survey, name="North's spring survey",
                               filters={"team": str(north.pk)})
    invitation = invitation_create(survey=survey, customer=customer, contact=contact, campaign=campaign)
    response = response_record(invitation=invitation, score=6, comment="Could be faster")
    upload = SimpleUploadedFile("book.csv", b"name,owner\nSouthbound,alice\n", content_type="text/csv")
    objects = {
        "customer": customer, "referred": referred, "contact": contact, "call": call,
        "meeting": meeting, "unsent meeting": unsent, "notes": notes, "failed message": failed,
        "promise": promise_create(customer=customer, user=alice, description="Send the price list",
                                  due_on=now.date() + datetime.timedelta(days=3), contact=contact),
        "complaint": new, "acknowledged complaint": acknowledged, "resolved complaint": resolved,
        "follow-up": FollowUpFactory(customer=customer, assignee=alice),
        "key date": key_date_save(key_date=KeyDate(customer=customer, name="Founding day",
                                                   date=datetime.date(1999, 6, 1))),
        "purchase": purchase_add(customer=customer, user=alice, date=now.date(), amount=Decimal("120.00")),
        "invitation": invitation, "campaign": campaign, "response": response,
        "suggestion": response.suggestion,
        "import": customer_import_upload(user=alice, upload=upload),
        "mapping": import_mapping_save(name="Book export", header=["Company", "Owner"],
                                       targets=["name", "owner"], user=alice)[0],
        "api token": api_token_create(user=alice, name="Book sync")[0],
        "webhook endpoint": endpoint_create(user=None, url="https://93.184.215.14/hook",
                                            description="Helpdesk", events=["complaint.opened"])[0],
    }
    assert all(obj.pk for obj in objects.values())
    return {"objects": objects, "ids": sorted({obj.pk for obj in objects.values()}),
            "people": [alice.username, bob.username, maria.username], "contact": contact}
