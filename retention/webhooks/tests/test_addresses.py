"""
Where a webhook may go: https and public addresses only, checked when the endpoint is saved and
again at each attempt, after resolving the name once and connecting to the address checked;
redirects not followed.
"""

import socket

import pytest

from retention.webhooks import addresses
from retention.webhooks.forms import EndpointForm
from retention.webhooks.models import Delivery
from retention.webhooks.tasks import deliver_webhook
from touchpoints.services import complaint_open

from .conftest import subscribe

pytestmark = pytest.mark.django_db

PUBLIC_IP = "93.184.215.14"


def form_for(url):
    return EndpointForm(data={"url": url, "events": ["complaint.opened"]})


@pytest.mark.parametrize("url", [
    "https://localhost/hook",  # a name that resolves to 127.0.0.1
    "https://127.0.0.1/hook",
    "https://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "https://169.254.169.254/latest/meta-data",  # a cloud's metadata service
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://[::1]/hook",
    "https://[fe80::1]/hook",
    "https://[fc00::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
])
def test_the_form_refuses_a_private_loopback_or_link_local_address(url):
    form = form_for(url)
    assert not form.is_valid()
    assert "public addresses only" in form.errors["url"][0]


def test_the_form_refuses_plain_http_and_credentials_and_takes_a_public_https_url(settings):
    settings.DEBUG = False
    assert "https://" in form_for(f"http://{PUBLIC_IP}/hook").errors["url"][0]
    assert "password" in form_for(f"https://user:pw@{PUBLIC_IP}/hook").errors["url"][0]
    assert form_for(f"https://{PUBLIC_IP}/hook").is_valid()
    settings.WEBHOOKS_ALLOW_HTTP = True
    assert form_for(f"http://{PUBLIC_IP}/hook").is_valid()


def test_the_form_says_when_a_host_cannot_be_found(monkeypatch):
    def not_found(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(addresses.socket, "getaddrinfo", not_found)
    assert "could not be found" in form_for("https://hooks.example.com/x").errors["url"][0]


def test_a_delivery_to_a_name_that_now_resolves_to_loopback_is_refused(receiver, settings, customer, alice):
    """``localhost`` was allowed when saved (as in development); at delivery, private is refused."""
    subscribe(receiver.url(host="localhost"))
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    complaint_open(customer=customer, user=alice, summary="Late delivery", severity="high")
    delivery = Delivery.objects.get()

    assert deliver_webhook(delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert receiver.requests == []
    assert "Address refused" in delivery.last_error and "public addresses only" in delivery.last_error


def test_a_rebound_name_is_refused_at_delivery(receiver, settings, monkeypatch, customer, alice):
    """Public when saved, loopback at delivery (DNS rebinding): nothing goes to loopback."""
    answers = {"hooks.example.com": PUBLIC_IP}

    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(addresses.socket, "getaddrinfo", resolve)
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    url = f"http://hooks.example.com:{receiver.port}/hook"
    assert form_for(url).is_valid()
    subscribe(url)
    answers["hooks.example.com"] = "127.0.0.1"
    complaint_open(customer=customer, user=alice, summary="Late delivery", severity="high")

    assert deliver_webhook(Delivery.objects.get().pk) == "retry"
    assert receiver.requests == []
    assert "127.0.0.1" in Delivery.objects.get().last_error


def test_it_connects_to_the_address_it_checked_and_names_the_host(receiver, monkeypatch, customer, alice):
    resolved = []

    def resolve(host, port, *args, **kwargs):
        resolved.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    subscribe(f"http://receiver.example.com:{receiver.port}/hook?team=north")
    monkeypatch.setattr(addresses.socket, "getaddrinfo", resolve)
    complaint_open(customer=customer, user=alice, summary="Late delivery", severity="high")

    assert deliver_webhook(Delivery.objects.get().pk) == "delivered"
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"receiver.example.com:{receiver.port}"
    assert request["path"] == "/hook?team=north"
    # The name resolved once; the connection went to its answer (which the socket layer reads back).
    assert [host for host in resolved if host != "127.0.0.1"] == ["receiver.example.com"]


def test_a_redirect_is_not_followed(receiver, second_receiver, customer, alice):
    receiver.answers = [302]
    receiver.location = second_receiver.url()
    subscribe(receiver.url())
    complaint_open(customer=customer, user=alice, summary="Late delivery", severity="high")

    assert deliver_webhook(Delivery.objects.get().pk) == "retry"
    delivery = Delivery.objects.get()
    assert second_receiver.requests == []
    assert delivery.last_status_code == 302 and "redirects are not followed" in delivery.last_error


def test_an_ipv4_mapped_address_is_judged_as_the_ipv4_address_it_maps():
    assert addresses.is_public("::ffff:93.184.215.14")
    assert not addresses.is_public("::ffff:10.0.0.1")
    assert not addresses.is_public("::ffff:169.254.169.254")
    assert addresses.is_public("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
