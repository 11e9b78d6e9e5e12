"""Who made a change, attached to the change history rows the database triggers write."""

from collections.abc import Callable

import pghistory
from django.db import connection
from django.http import HttpRequest, HttpResponse

from audit.log import client_address, request_id, write_noted_reads


class HistoryContextMiddleware:
    """Tags every change made while answering a request with user, address and request id.

    PostgreSQL only: django-pghistory passes the context to its triggers in session variables."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if connection.vendor != "postgresql" or request.method in ("GET", "HEAD", "OPTIONS"):
            return self.get_response(request)
        user = request.user
        with pghistory.context(
            user=user.pk if user.is_authenticated else None,
            username=user.get_username() if user.is_authenticated else "",
            address=client_address(request),
            request_id=request_id(request),
            path=request.path[:300],
        ):
            return self.get_response(request)


class ReadAuditMiddleware:
    """Writes the read entries a view noted (audit.log.note_reads) once its response is a page
    that shows them: every response showing a child's name or an escalation's details is in
    the audit log (SPEC section 3; the ICO asks that consultation be logged, not only change)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        write_noted_reads(request, response.status_code)
        return response
