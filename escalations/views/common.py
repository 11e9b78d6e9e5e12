"""What every page needs: the signed-in person, and an escalation only if they may see it."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest

from audit.log import note_reads
from cases.models import Person
from cases.people import person_for
from escalations.models import Escalation, Participant

PAGE_SIZE = 20


def current_person(request: HttpRequest) -> Person:
    """The signed-in person, memberships loaded once; 404 for an account with no person."""
    person = person_for(request.user)
    if person is None:
        raise Http404
    # visible_to() reads user.person: hand it this one, memberships already loaded.
    request.user.person = person
    return person


def visible_escalations(request: HttpRequest):
    current_person(request)
    return Escalation.objects.visible_to(request.user)


def visible_escalation(request: HttpRequest, reference: str) -> Escalation:
    """The escalation by reference, through visible_to; another's and a missing one are the
    same 404."""
    person = current_person(request)
    escalation = (
        Escalation.objects.visible_to(request.user)
        .with_summary()
        .select_related("ladder", "receiving_person", "pending_stage", "approval_requested_by")
        .prefetch_related("ladder__stages")
        .with_nature_list()
        # Who may approve in a lead's absence, and whether the viewer was added to it, for
        # allowed_actions, in the same query.
        .with_approvers_present()
        .annotate(
            viewer_takes_part=Exists(
                Participant.objects.filter(escalation=OuterRef("pk"), person=person)
            )
        )
        .filter(reference=reference)
        .first()
    )
    if escalation is None:
        raise Http404
    # Every page that looks an escalation up shows it (its child, its details): audited.
    match = request.resolver_match
    note_reads(request, [escalation], match.url_name if match and match.url_name else "page")
    return escalation


def paginate(
    request: HttpRequest,
    queryset,
    *,
    param: str = "page",
    size: int = PAGE_SIZE,
    count: int | None = None,
) -> Page:
    """A page of the queryset; count, where the caller already counted it, saves the query."""
    paginator = Paginator(queryset, size)
    if count is not None:
        paginator.count = count  # a cached_property: set, it is not computed
    return paginator.get_page(request.GET.get(param))
