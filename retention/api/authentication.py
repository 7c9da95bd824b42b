"""
How the API knows who is calling: ``Authorization: Bearer <token>``, a token of ``tokens.py``.

``authenticate`` answers ``(user, token)``: ``request.user`` is the token's owner, seeing exactly
what they see in the browser, and ``request.auth`` the ``ApiToken``. A request without a bearer
header is left to the other authentication classes (None); one with a bearer token that is
unknown, revoked or expired, or whose user is inactive, is refused with 401 and a ``detail`` that
says which. ``authenticate_header`` is what makes DRF answer 401 rather than 403.
"""

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .tokens import api_token_for_secret, api_token_used

KEYWORD = "Bearer"


class TokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: send “Authorization: Bearer <token>”.")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        token = api_token_for_secret(secret)
        now = timezone.now()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This token has been revoked.")
        if token.is_expired(now):
            raise exceptions.AuthenticationFailed("This token has expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The user of this token is inactive.")
        api_token_used(token, now)
        return token.user, token

    def authenticate_header(self, request):
        return f'{KEYWORD} realm="api"'
