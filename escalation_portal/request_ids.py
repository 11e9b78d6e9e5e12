"""Every request has an id: in the response's X-Request-ID header, on each log line written while
answering it, in the audit log and change history, and on the server error page. A person who
reports a problem quotes it; the log line with the traceback carries the same id.

Light on imports: the logging configuration loads RequestIdLogFilter before the apps are ready."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
NO_REQUEST = "-"
_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default=NO_REQUEST)
# What a proxy in front may hand on (nginx's $request_id is 32 hex digits). Anything else, and
# anything at all without a trusted proxy, is replaced: a client does not choose the id that
# its requests carry into the audit log.
GIVEN_BY_PROXY = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def for_request(request: HttpRequest) -> str:
    """The request's id, given on first asking (RequestIdMiddleware asks first)."""
    request_id = getattr(request, "request_id", None)
    if request_id is None:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        from_proxy = settings.TRUSTED_PROXY_COUNT > 0 and GIVEN_BY_PROXY.fullmatch(given)
        request_id = given if from_proxy else uuid.uuid4().hex
        request.request_id = request_id
    return request_id


def current() -> str:
    """The id of the request being answered in this thread, or "-" outside one."""
    return _current.get()


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every response, an error page or a redirect included, names it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current.set(for_request(request))
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request.request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Puts the current request's id on every log record, for the formatter's %(request_id)s."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx or 5xx response with the request attached, after the middleware
        # has returned (so after the id left this thread's context).
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or current()
        return True
