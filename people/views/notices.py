"""Notices whose email gave up: the list, and "Send again" (people.undelivered)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from escalations.notices.summary import notice_summary
from people import undelivered as undelivered_notices
from people.scope import Can, Refused, Scope
from people.views.common import context, done, scoped

PER_PAGE = 50


@scoped(Can.RESEND_NOTICES)
@require_http_methods(["GET"])
def undelivered_list(request: HttpRequest, scope: Scope) -> HttpResponse:
    if not scope.is_partnership:
        raise Http404
    page = Paginator(undelivered_notices.given_up(scope), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [(notice, notice_summary(notice)) for notice in page.object_list]
    return render(
        request,
        "people/undelivered.html",
        context(scope, section="undelivered", rows=rows, page=page),
    )


@scoped(Can.RESEND_NOTICES)
@require_http_methods(["POST"])
def send_again(request: HttpRequest, scope: Scope, pk: int) -> HttpResponse:
    if not scope.is_partnership:
        raise Http404
    try:
        notice = undelivered_notices.send_again(pk, scope=scope, request=request)
    except Refused as refusal:
        messages.error(request, str(refusal))
        return HttpResponseRedirect(f"{scope.base}undelivered-notices/")
    return done(
        request,
        f"{notice.get_kind_display()} to {notice.recipient.full_name}: it will be sent again"
        " at the relay's next run.",
        f"{scope.base}undelivered-notices/",
    )
