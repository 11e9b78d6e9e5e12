"""Error pages that say nothing about any record: a forbidden record and a missing one answer
with the same page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return HttpResponse(render_to_string("404.html", request=request), status=404)


def forbidden(request: HttpRequest, exception=None) -> HttpResponse:
    return HttpResponse(render_to_string("403.html", request=request), status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the failure may be in what a context processor needs.
    return HttpResponse(render_to_string("500.html"), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return HttpResponse(render_to_string("403_csrf.html", request=request), status=403)
