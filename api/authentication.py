"""Authorization: Bearer <token> for the case-system API."""

from __future__ import annotations

from rest_framework import authentication, exceptions, permissions

from api import tokens
from api.principal import CaseSystem


class CaseSystemTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer' followed by the token, with no spaces in the token."
            )
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                "The token has characters a token never has."
            ) from None
        token = tokens.find(secret)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not known or has been revoked.")
        tokens.touch(token)
        return CaseSystem(token), token

    def authenticate_header(self, request) -> str:
        # A 401 with WWW-Authenticate, not a 403, when the token is missing or wrong.
        return f'{self.keyword} realm="case-system API"'


class IsCaseSystem(permissions.BasePermission):
    message = "Send your agency's case-system token as 'Authorization: Bearer <token>'."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, CaseSystem)
