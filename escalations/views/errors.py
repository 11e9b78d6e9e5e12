"""Error pages that say nothing about any record: a forbidden record and a missing one answer
with the same page. Used with DEBUG on too (escalation_portal.errors)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from escalation_portal import request_ids


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return HttpResponse(render_to_string("404.html", request=request), status=404)


def forbidden(request: HttpRequest, exception=None) -> HttpResponse:
    return HttpResponse(render_to_string("403.html", request=request), status=403)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    # No request context: what was sent could not be read, the session included.
    return HttpResponse(render_to_string("400.html"), status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the failure may be in what a context processor needs. The reference
    # is the request id, on the log line with the traceback.
    reference = request_ids.for_request(request)
    return HttpResponse(render_to_string("500.html", {"reference": reference}), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return HttpResponse(render_to_string("403_csrf.html", request=request), status=403)
