"""The escalation page: the whole record and only the actions this person may take."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from audit.log import record_read
from escalations import presenters
from escalations.models import Action, EventKind, State
from escalations.permissions import Act, allowed_actions
from escalations.record.services import record_copies_for
from escalations.views.common import current_person, visible_escalation

# The order actions are offered in, with the page that takes each.
ACTION_LINKS = [
    (Act.APPROVE, "approve", "Approve the escalation", "govuk-button"),
    (
        Act.RETURN_WITH_COMMENTS,
        "return",
        "Return with comments",
        "govuk-button govuk-button--secondary",
    ),
    (
        Act.ADD_NOTE,
        "note",
        "Add a note or record a discussion",
        "govuk-button govuk-button--secondary",
    ),
    (
        Act.RECORD_POSITION,
        "position",
        "Record your agency's position",
        "govuk-button govuk-button--secondary",
    ),
    (
        Act.RECORD_RESPONSE,
        "response",
        "Record your agency's response",
        "govuk-button govuk-button--secondary",
    ),
    (
        Act.ADVANCE_STEP,
        "next-step",
        "Move to the next step",
        "govuk-button govuk-button--secondary",
    ),
    (Act.ESCALATE, "escalate", "Escalate to the next stage", "govuk-button"),
    (Act.RESOLVE, "resolve", "Resolve", "govuk-button"),
    (
        Act.RECORD_PARENTS,
        "parents",
        "Record whether parents or carers were told",
        "govuk-button govuk-button--secondary",
    ),
    (
        Act.RECORD_LEARNING,
        "learning",
        "Record learning and any policy gap",
        "govuk-button govuk-button--secondary",
    ),
    (Act.RECORD_DEBRIEF, "debrief", "Record the debrief", "govuk-button govuk-button--secondary"),
    (
        Act.SHARE_WITH_PARTNERSHIP,
        "share",
        "Share with the partnership",
        "govuk-button govuk-button--secondary",
    ),
    (Act.CLOSE, "close", "Close", "govuk-button"),
    (Act.REOPEN, "reopen", "Reopen", "govuk-button govuk-button--secondary"),
    (Act.WITHDRAW, "withdraw", "Withdraw", "govuk-button govuk-button--warning"),
]
# Acts shown elsewhere on the page (per action row), never as a button of their own.
INLINE_ACTS = {Act.MARK_ACTION_DONE}
AFTER_RESOLUTION_ACTS = {Act.RECORD_PARENTS, Act.RECORD_LEARNING, Act.RECORD_DEBRIEF}


def action_links(escalation, allowed: frozenset[Act]) -> list[dict]:
    links = []
    for act, slug, label, classes in ACTION_LINKS:
        if act not in allowed:
            continue
        # The after-resolution records belong once there is an outcome; before then they
        # would only distract from moving the challenge on.
        if act in AFTER_RESOLUTION_ACTS and escalation.state not in (State.RESOLVED,):
            continue
        links.append(
            {
                "href": f"/escalations/{escalation.reference}/{slug}/",
                "label": label,
                "classes": classes,
            }
        )
    return links


@login_required
@never_cache
def escalation_page(request: HttpRequest, reference: str) -> HttpResponse:
    person = current_person(request)
    escalation = visible_escalation(request, reference)
    record_read(request, escalation, "escalation page")
    allowed = allowed_actions(person, escalation)
    stages = list(escalation.ladder.stages.all())
    episodes = list(
        escalation.episodes.select_related("stage", "raising_lead", "counterpart").order_by(
            "started_at", "id"
        )
    )
    outcomes = list(
        escalation.outcomes.select_related("recorded_by").prefetch_related(
            Prefetch("actions", queryset=Action.objects.select_related("done_by"))
        )
    )
    calendar = escalation.partnership.calendar()
    deadline = presenters.deadline(escalation, now=timezone.now(), calendar=calendar)
    approval_request = None
    if escalation.state == State.AWAITING_APPROVAL:
        approval_request = (
            escalation.events.filter(kind=EventKind.APPROVAL_REQUESTED)
            .select_related("actor")
            .order_by("-sequence")
            .first()
        )
    context = {
        "escalation": escalation,
        "natures": [n.get_nature_display() for n in escalation.natures.all()],
        "steps": presenters.ladder_steps(
            escalation, stages, visited={episode.number for episode in episodes}
        ),
        "episodes": episodes,
        "events": list(
            escalation.events.select_related("actor", "actor_agency").order_by("-sequence")
        ),
        "notes": list(escalation.notes.select_related("author", "agency")),
        "positions": list(escalation.positions.select_related("agency", "author")),
        "responses": list(escalation.responses.select_related("responder_agency")),
        "approvals": list(escalation.approvals.select_related("decided_by", "stage")),
        "outcomes": outcomes,
        "deadline": deadline,
        "approval_request": approval_request,
        "actions": action_links(escalation, allowed),
        "may_mark_done": Act.MARK_ACTION_DONE in allowed,
        "record_copies": record_copies_for(escalation),
        "immediate_risk": escalation.immediate_risk,
        "LIVE": escalation.is_live,
        "State": State,
    }
    return render(request, "escalations/escalation.html", context)
