"""The signed-in person's notices: a list, marking read, and the digest preference."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cases.mobile import display, uk_mobile
from cases.people import person_for
from escalations.models import Notice
from escalations.notices import notify
from escalations.notices.summary import notice_summary, still_open, visible_notices

PER_PAGE = 25


def _notices(request: HttpRequest):
    """The person's notices about escalations and conference concerns they may still see
    (SPEC section 3): the rule of the header's count, kept in Notice.hidden_at (ADR 0028)."""
    person = person_for(request.user)
    if person is None:
        raise Http404
    # scoped-lookup: allowed (the reader's own notices, hidden where they may not open them)
    return person, Notice.objects.shown_to(person)


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    return _list(request)


def _list(request: HttpRequest, *, mobile_error: str = "", typed: str | None = None):
    person, notices = _notices(request)
    page = Paginator(
        notices.select_related(
            "escalation__stage",
            "escalation__raising_agency",
            "escalation__receiving_agency",
        ).order_by("-created_at", "-pk"),
        PER_PAGE,
    ).get_page(request.GET.get("page"))
    rows = [
        {**notice_summary(n), "pk": n.pk, "unread": n.read_at is None}
        for n in still_open(request.user, list(page.object_list))
    ]
    return render(
        request,
        "notifications/list.html",
        {
            "rows": rows,
            "page": page,
            "unread": notices.filter(read_at__isnull=True).count(),
            "daily_digest": person.daily_digest,
            # Text messages go only through GOV.UK Notify: the number is asked for then.
            "texts": notify.in_use(),
            "mobile": typed if typed is not None else display(person.mobile),
            "mobile_error": mobile_error,
        },
        status=400 if mobile_error else 200,
    )


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    _, notices = _notices(request)
    mine = notices.filter(pk=pk).filter(visible_notices(request.user))  # one row, by its key
    if not mine.update(read_at=timezone.now()):
        raise Http404
    return redirect("notifications")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    _, notices = _notices(request)
    notices.filter(read_at__isnull=True).update(read_at=timezone.now())
    return redirect("notifications")


@login_required
@require_POST
def email_preference(request: HttpRequest) -> HttpResponse:
    person, _ = _notices(request)
    person.daily_digest = request.POST.get("emails") == "digest"
    person.save(update_fields=["daily_digest"])
    return redirect("notifications")


@login_required
@require_POST
def mobile_number(request: HttpRequest) -> HttpResponse:
    """The person's own mobile number for immediate-risk text messages; empty removes it."""
    person, _ = _notices(request)
    typed = request.POST.get("mobile", "")[:50]
    try:
        person.mobile = uk_mobile(typed)
    except ValidationError as error:
        return _list(request, mobile_error=error.messages[0], typed=typed)
    person.save(update_fields=["mobile"])
    messages.success(
        request,
        f"Immediate-risk alerts will also be texted to {display(person.mobile)}."
        if person.mobile
        else "Your mobile number is removed: alerts come by email only.",
    )
    return redirect("notifications")
