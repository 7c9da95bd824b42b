"""
The API against its own OpenAPI schema: schemathesis generates requests for every operation from
the schema (valid and not), sends them as alice with her token, and checks that none answers 500
and that every answer is as the schema says (status code, content type, headers, body).
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from customers.tests.factories import ContactFactory, CustomerFactory, PurchaseFactory
from retention.api.tokens import api_token_create
from retention.wsgi import application
from touchpoints.tests.factories import ComplaintFactory, PromiseFactory, TouchpointFactory

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(db, alice, north):
    """The schema as the API serves it, with some of alice's records for the requests to find."""
    # Requests go through the WSGI application in this thread, inside the test's transaction:
    # as Django's test client does, a request's start and end must not close the connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    for n in range(3):
        customer = CustomerFactory(team=north, owner=alice, external_id=f"ext-{n}")
        ContactFactory(customer=customer)
        PurchaseFactory(customer=customer, external_id=f"order-{n}")
        TouchpointFactory(customer=customer)
        PromiseFactory(customer=customer)
        ComplaintFactory(customer=customer)
    yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def alices_token(alice):
    return api_token_create(user=alice, name="schemathesis")[1]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_its_schema_says(api_schema, alices_token, settings, mode):
    settings.ALLOWED_HOSTS = ["*"]
    headers = {"Authorization": f"Bearer {alices_token}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 30

    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(max_examples=15, deadline=None, derandomize=True,
                             suppress_health_check=list(HealthCheck), database=None)
        def answers_as_documented(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        answers_as_documented()
