"""
One-click unsubscribe: the link every automated message carries, in its footer and in its
``List-Unsubscribe`` header (RFC 8058). The page behind the link is ``/u/<token>/``; an unsubscribed
contact's automated messages are recorded as suppressed and never sent.
"""

import functools

from django.conf import settings
from django.urls import reverse

UNSUBSCRIBE_FOOTER = (
    "\n\n--\nYou receive this email because you are a customer of ours. "
    "To receive no more automated emails, open {url}"
)

_TOKEN_SLOT = "__token__"


def unsubscribe_url(contact):
    return unsubscribe_url_for(contact.unsubscribe_token)


def unsubscribe_url_for(token):
    # reverse() once, not once per message: a scan builds tens of thousands of these.
    return settings.SITE_URL + _unsubscribe_path().replace(_TOKEN_SLOT, token)


@functools.cache
def _unsubscribe_path():
    return reverse("unsubscribe", args=[_TOKEN_SLOT])


def with_footer(body_text, url):
    """The plain text as it is stored and sent: the body, then the unsubscribe footer."""
    return body_text + UNSUBSCRIBE_FOOTER.format(url=url)


def with_unsubscribe_footer(body_text, contact):
    return with_footer(body_text, unsubscribe_url(contact))
