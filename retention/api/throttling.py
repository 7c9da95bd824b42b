"""
The API's rate limit: ``API_RATE_LIMIT_PER_MINUTE`` requests a minute per token (a signed-in
browser counts per user), across every worker, through the project's counters
(``retention.ratelimit``). Over it: 429 with ``Retry-After``.
"""

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from retention.ratelimit import hit
from retention.security import client_address


class PerTokenThrottle(BaseThrottle):
    def allow_request(self, request, view):
        token_id = getattr(request.auth, "pk", None)
        if token_id is not None:
            client = f"token:{token_id}"
        elif request.user and request.user.is_authenticated:
            client = f"user:{request.user.pk}"
        else:
            client = f"address:{client_address(request)}"
        self.retry_after = hit(scope="api", client=client, limit=settings.API_RATE_LIMIT_PER_MINUTE,
                               window=60)
        return not self.retry_after

    def wait(self):
        return self.retry_after
