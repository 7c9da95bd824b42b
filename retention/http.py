"""
Small request helpers shared by the apps: one of the shared helpers they may import from
``retention`` (``SHARED_HELPERS`` in retention/tests/test_layering.py), so it imports no app.
"""

from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, default):
    """
    The ``next`` parameter if it is a path of this site, else ``default``. A path, because a bare
    word would be taken for a URL name; printable ASCII, because the pages send it percent-encoded.
    """
    target = request.POST.get("next") or request.GET.get("next")
    if (
        target and target.startswith("/") and target.isascii() and target.isprintable()
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    ):
        return target
    return resolve_url(default)
