"""The API as a client sees it: a user's token in the ``Authorization`` header."""

import pytest
from rest_framework.test import APIClient

from retention.api.tokens import api_token_create
from touchpoints.tests.conftest import on_scan_day, program_mail  # noqa: F401 (the program's fixtures)


@pytest.fixture
def api_as():
    """``api_as(user)``: a client that calls the API with a new token of ``user``."""

    def client_for(user):
        _, secret = api_token_create(user=user, name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return client_for
