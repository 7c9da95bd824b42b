"""
What the webhook tests share: a real receiver (``http.server`` on 127.0.0.1, in a thread) that
answers as it is told and keeps what it got, endpoints registered through the service, and a
cache without another test's subscriptions.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache

from customers.events import EventType
from customers.tests.factories import CustomerFactory
from retention.webhooks.events import SUBSCRIPTIONS_KEY
from retention.webhooks.services import endpoint_create

ALL_EVENTS = [value for name, value in vars(EventType).items() if name.isupper()]


class Receiver:
    """A webhook receiver: ``answers`` are the statuses to give in turn (the last one repeats)."""

    def __init__(self):
        self.requests = []  # {"path", "headers", "body"} of each POST
        self.answers = [204]
        self.location = None  # sent with a 3xx answer
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.answers[min(len(receiver.requests), len(receiver.answers)) - 1]
                self.send_response(status)
                if receiver.location and 300 <= status < 400:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, host="127.0.0.1", path="/hook"):
        return f"http://{host}:{self.port}{path}"

    def events(self):
        return [json.loads(request["body"]) for request in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def fresh_subscriptions():
    """The cached table of subscriptions is the database's, not another test's."""
    cache.delete(SUBSCRIPTIONS_KEY)
    yield
    cache.delete(SUBSCRIPTIONS_KEY)


@pytest.fixture
def local_receivers_allowed(settings):
    """Receivers on 127.0.0.1 over http: what production refuses, for the tests' own receivers."""
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def receiver(local_receivers_allowed):
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def second_receiver(local_receivers_allowed):
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_user(
        username="root", email="root@example.com", password="x", is_superuser=True, is_staff=True)


def subscribe(url, events=("complaint.opened",), user=None):
    """An endpoint registered as an admin registers one (to complaints opened unless told); returns
    ``(endpoint, secret)``."""
    return endpoint_create(user=user, url=url, description="CRM sync", events=events)


@pytest.fixture
def customer(north, alice):
    return CustomerFactory(team=north, owner=alice, name="Northwind", external_id="NW-1")
