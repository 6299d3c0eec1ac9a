"""DRF authentication: Bearer API tokens, HTTP Basic with email and password, the UI session."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import ApiToken, User
from accounts.selectors import api_token_find_active
from accounts.services import api_token_touch


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer avy_...`. A wrong, revoked or expired token is a 401, never a
    fall-through to anonymous."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'")
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("invalid API token") from None
        token = api_token_find_active(raw=raw)
        if token is None:
            raise exceptions.AuthenticationFailed("invalid, revoked or expired API token")
        api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class EmailBasicAuthentication(authentication.BasicAuthentication):
    """HTTP Basic where the user id is the email address."""

    def authenticate_credentials(
        self, userid: str, password: str, request: Any = None
    ) -> tuple[User, None]:
        return super().authenticate_credentials(userid.strip().lower(), password, request)


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """The admin UI's session; unsafe methods need the CSRF token (DRF enforces it)."""
