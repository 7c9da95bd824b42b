"""
Which addresses a webhook may be posted to: the guard against a webhook used to reach the
installation's own network (server-side request forgery).

- The URL is ``https`` (plain ``http`` only with ``DEBUG`` or ``WEBHOOKS_ALLOW_HTTP``), names a
  host, and carries no user name or password.
- Every address the host resolves to is public: none private, loopback, link-local, multicast,
  reserved, unspecified or otherwise not global, IPv4 or IPv6, an IPv4-mapped IPv6 address judged
  as the IPv4 address it maps (unless ``WEBHOOKS_ALLOW_PRIVATE``: development and tests).

The form checks at save time, for a clear message; the delivery checks again at each attempt and
connects to the very address it checked (``transport.py``), so a name that later resolves
elsewhere (DNS rebinding) is caught, never followed.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class AddressRefused(ValueError):
    """A URL a webhook may not be posted to; the message says why, for the admin."""


@dataclass(frozen=True)
class Target:
    """Where to post: the checked address to connect to, and the name to present (Host, SNI)."""

    scheme: str
    host: str
    port: int
    ip: str
    path: str  # with its query

    @property
    def host_header(self):
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def url_check(url):
    """The parts of ``url`` once its form passes (scheme, host, port, path); raises ``AddressRefused``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise AddressRefused(f"This is not a URL a webhook can use ({error}).") from None
    scheme = parts.scheme.lower()
    if scheme == "http" and not http_allowed():
        raise AddressRefused("Use an https:// URL: events are sent over TLS only.")
    if scheme not in ("http", "https"):
        raise AddressRefused("Use an https:// URL.")
    if not parts.hostname:
        raise AddressRefused("The URL needs a host name, e.g. https://hooks.example.com/retention.")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("Leave the user name and password out of the URL: requests are "
                             "authenticated by their signature.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def target_for(url):
    """Resolve ``url``'s host once and check every address; the ``Target`` to connect to."""
    scheme, host, port, path = url_check(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise AddressRefused(f"The host {host} could not be found ({error}).") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not private_allowed():
        for address in addresses:
            if not is_public(address):
                raise AddressRefused(
                    f"{host} resolves to {address}, a private, local or reserved address: "
                    "webhooks go to public addresses only.")
    if not addresses:
        raise AddressRefused(f"The host {host} has no address.")
    return Target(scheme=scheme, host=host, port=port, ip=addresses[0], path=path)


def is_public(address):
    """Whether ``address`` (a string, IPv4 or IPv6, with or without a zone) is a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified) and ip.is_global


def http_allowed():
    return settings.DEBUG or settings.WEBHOOKS_ALLOW_HTTP


def private_allowed():
    return settings.WEBHOOKS_ALLOW_PRIVATE
