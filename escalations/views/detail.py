"""The escalation page: the whole record and only the actions this person may take."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from audit.log import record_read
from escalations import approvals, moving, presenters, services
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
    (
        Act.ASK_TO_ESCALATE,
        "ask-to-escalate",
        "Ask them to escalate",
        "govuk-button govuk-button--secondary",
    ),
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
    (
        Act.RECORD_CHILD_FILE,
        "child-file",
        "Confirm it is recorded on your child's file",
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
    direct = services.direct_stage(escalation) if Act.ESCALATE in allowed else None
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
        if act == Act.ESCALATE and direct is not None:
            # Kirklees step 6 from any stage ("significant policy issues"), with its reason.
            links.append(
                {
                    "href": f"/escalations/{escalation.reference}/refer-directly/",
                    "label": f"Refer straight to stage {direct.number}: {direct.name}",
                    "classes": "govuk-button govuk-button--secondary",
                }
            )
    return links


# The services record an event with every note, position, response, approval and outcome, in
# the same transaction: the page reads those tables only when the log says there is something.
LOGGED_IN = {
    "notes": {EventKind.NOTE},
    "positions": {EventKind.POSITION},
    "responses": {EventKind.RESPONSE},
    "outcomes": {EventKind.RESOLVED},
}


@login_required
@never_cache
def escalation_page(request: HttpRequest, reference: str) -> HttpResponse:
    person = current_person(request)
    escalation = visible_escalation(request, reference)
    record_read(request, escalation, "escalation page")
    allowed = allowed_actions(person, escalation, participant=escalation.viewer_takes_part)
    stages = list(escalation.ladder.stages.all())
    events = list(escalation.events.select_related("actor", "actor_agency").order_by("-sequence"))
    # Every event records the stage it left the escalation at, so the log tells which stages
    # it reached (an immediate-risk challenge starts higher and skips the ones below).
    visited = {event.to_stage for event in events if event.to_stage} | {escalation.stage.number}
    logged = {event.kind for event in events}

    def logged_rows(name: str, rows) -> list:
        return list(rows) if logged & LOGGED_IN[name] else []

    outcomes = logged_rows(
        "outcomes",
        escalation.outcomes.select_related("recorded_by").prefetch_related(
            Prefetch("actions", queryset=Action.objects.select_related("done_by"))
        ),
    )
    calendar = escalation.partnership.calendar()
    deadline = presenters.deadline(escalation, now=timezone.now(), calendar=calendar)
    approval_request = None
    if escalation.state == State.AWAITING_APPROVAL:
        approval_request = next(
            (event for event in events if event.kind == EventKind.APPROVAL_REQUESTED), None
        )
    episode = (
        escalation.episodes.filter(ended_at__isnull=True).select_related("counterpart").last()
        if escalation.state == State.OPEN
        else None
    )
    standing = presenters.standing(
        escalation,
        counterpart=episode.counterpart if episode else None,
        approvers=approvals.approvers(
            escalation, escalation.pending_stage, escalation.approval_requested_by
        ).people
        if approval_request and escalation.pending_stage
        else None,
        deadline=deadline,
    )
    # Where the next stage names who moves it there, everyone else sees who may (issue 15).
    following = (
        moving.following_stage(escalation, stages) if escalation.state == State.OPEN else None
    )
    moved_by_words = (
        moving.who_may_move_into(escalation, following)
        if following is not None and following.moved_by and Act.ESCALATE not in allowed
        else ""
    )
    # Copies are frozen only on entering a stage that requires the record.
    frozen = any(stage.record_required and stage.number in visited for stage in stages)
    context = {
        "escalation": escalation,
        "natures": escalation.nature_labels(),
        "steps": presenters.ladder_steps(escalation, stages, visited=visited),
        "events": events,
        "notes": logged_rows("notes", escalation.notes.select_related("author", "agency")),
        "positions": logged_rows(
            "positions", escalation.positions.select_related("agency", "author")
        ),
        "responses": logged_rows(
            "responses", escalation.responses.select_related("responder_agency")
        ),
        "outcomes": outcomes,
        "deadline": deadline,
        # What the policy says at the stage it stands at, with each rule's source (issue 15).
        "policy_rules": presenters.policy_at_stage(escalation.stage, escalation.partnership)
        if escalation.is_live
        else [],
        "standing": standing,
        "approval_request": approval_request,
        "child_files": services.child_file_status(escalation)
        if services.child_file_asked_now(escalation)
        else [],
        "approval_gate": approvals.pending_gate(escalation) if approval_request else None,
        # The request as escalate() typed it: the asker's words, and who was asked where
        # stand-ins were (escalations.approvals.request_note).
        "approval_reason": escalation.approval_reason
        or (approval_request.reason if approval_request else ""),
        "approval_stand_in": approvals.request_note(escalation) if approval_request else "",
        "actions": action_links(escalation, allowed),
        "moved_by_words": moved_by_words,
        "may_mark_done": Act.MARK_ACTION_DONE in allowed,
        "record_copies": record_copies_for(escalation) if frozen else [],
        "immediate_risk": escalation.immediate_risk,
        "LIVE": escalation.is_live,
        "State": State,
    }
    return render(request, "escalations/escalation.html", context)
