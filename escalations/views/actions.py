"""One small page per thing a person does to an escalation.

Each form posts the revision it showed; the service refuses a stale one, and the page says so
with what the person typed still in the form."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cases.models import Person
from escalations import approvals, moving, presenters, services
from escalations.forms import actions as forms
from escalations.models import Escalation, EventKind, State
from escalations.permissions import Act, allowed_actions
from escalations.services import ActionRefused, StaleEscalation
from escalations.views.common import current_person, visible_escalation


def escalate_context(
    escalation: Escalation, person: Person | None = None, *, directly: bool = False
) -> dict:
    """Says where the escalation goes next (or, `directly`, the stage it may go straight to),
    and who approves first where the stage has an approval gate (its approvers, or stand-ins
    in their absence), or that nobody can."""
    target = services.direct_stage(escalation) if directly else services.next_stage(escalation)
    if target is None:
        return {}
    context = {
        "target": target,
        "target_limit": target.time_limit_in_words(escalation.partnership),
        # The next stage as the policy gives it, each rule with its source (issue 15), and
        # who may move it there where the stage names them (Pan-Cheshire step 3).
        "policy_rules": presenters.policy_at_stage(target, escalation.partnership),
        "moved_by_words": ""
        if person is None or moving.may_move_into(person, escalation, target)
        else moving.who_may_move_into(escalation, target),
    }
    gate = approvals.gate_for(target)
    if gate is not None:
        asked = approvals.approvers(escalation, target, person)
        context["gate"] = gate
        context["approvers"] = asked.people
        context["approvers_stand_in"] = asked.in_words() if asked.stand_in and asked.people else ""
        if not asked.people:
            context["nobody_to_approve"] = approvals.nobody_to_approve(escalation, target, person)
    else:
        context["next_person"] = services.acting_person(escalation, target)
    return context


def ask_to_escalate_context(escalation: Escalation, person: Person | None = None) -> dict:
    """Who will be asked to move it to the next stage, and by when the stage's time runs out."""
    target = services.next_stage(escalation)
    if target is None:
        return {}
    return {
        "target": target,
        "asked": moving.movers(escalation, target),
        "moved_by_words": moving.who_may_move_into(escalation, target),
        "deadline": presenters.deadline(
            escalation, now=timezone.now(), calendar=escalation.partnership.calendar()
        ),
    }


def asked_banner(escalation: Escalation) -> str:
    asked = escalation.events.filter(kind=EventKind.ESCALATION_ASKED).order_by("-sequence").first()
    return asked.reason.split(":", 1)[0] if asked else "Asked"


def escalated_banner(escalation: Escalation) -> str:
    """What escalating did, as it is: moved to the next stage, or only asked for approval (the
    escalation stays where it was until someone approves)."""
    if escalation.state == State.AWAITING_APPROVAL and escalation.pending_stage:
        gate = approvals.gate_for(escalation.pending_stage) or approvals.LEAD_GATE
        return (
            f"Sent for approval: the escalation stays at stage {escalation.stage.number} until "
            f"{gate.approvers_in_words} of {escalation.raising_agency} approves moving it to "
            f"stage {escalation.pending_stage.number}: {escalation.pending_stage.name}"
        )
    return f"Escalated to stage {escalation.stage.number}: {escalation.stage.name}"


def approve_context(escalation: Escalation, person: Person | None = None) -> dict:
    """What an approver weighs before deciding: why the raiser asks to escalate, what each
    agency has said so far, and by when the stage's time runs out."""
    request = (
        escalation.events.filter(kind=EventKind.APPROVAL_REQUESTED)
        .select_related("actor")
        .order_by("-sequence")
        .first()
    )
    return {
        "approval_reason": escalation.approval_reason or (request.reason if request else ""),
        "approval_request": request,
        "positions": list(escalation.positions.select_related("agency", "author")),
        "responses": list(escalation.responses.select_related("responder_agency")),
        "deadline": presenters.deadline(
            escalation, now=timezone.now(), calendar=escalation.partnership.calendar()
        ),
    }


@dataclass(frozen=True)
class ActionPage:
    act: Act
    title: str
    button: str
    # The success banner: fixed words, or worked out from the escalation as the service left it.
    done: str | Callable[[Escalation], str]
    form: Callable[..., forms.RevisionForm]
    service: Callable[..., object]
    template: str = "escalations/actions/generic.html"
    context: Callable[[Escalation, Person], dict] = field(default=lambda escalation, person: {})
    initial: Callable[[], dict] = field(default=dict)
    warning: bool = False
    # A page that asks one question: the question is its heading (the field's label in an h1,
    # GOV.UK's question pages), and its title.
    ask: bool = False


def _today() -> dict:
    return {"happened_on": timezone.localdate()}


PAGES: dict[str, ActionPage] = {
    "note": ActionPage(
        Act.ADD_NOTE,
        "Add a note or record a discussion",
        "Save note",
        "Note added",
        forms.NoteForm,
        services.add_note,
        initial=lambda: {"happened_on": timezone.localdate(), "kind": "discussion"},
    ),
    "position": ActionPage(
        Act.RECORD_POSITION,
        "What is your agency's position, and why?",
        "Save position",
        "Position recorded",
        forms.PositionForm,
        services.record_position,
        ask=True,
    ),
    "response": ActionPage(
        Act.RECORD_RESPONSE,
        "Record your agency's response",
        "Save response",
        "Response recorded",
        forms.ResponseForm,
        services.record_response,
        initial=lambda: {"responded_on": timezone.localdate()},
    ),
    "escalate": ActionPage(
        Act.ESCALATE,
        "Escalate to the next stage",
        "Escalate",
        escalated_banner,
        partial(
            forms.ReasonForm,
            label="Why are you escalating?",
            message="Enter why you are escalating",
        ),
        services.escalate,
        template="escalations/actions/escalate.html",
        context=escalate_context,
    ),
    "ask-to-escalate": ActionPage(
        Act.ASK_TO_ESCALATE,
        "Ask them to escalate",
        "Send the request",
        asked_banner,
        partial(
            forms.ReasonForm,
            label="Why should it go to the next stage?",
            message="Enter why it should go to the next stage",
        ),
        services.ask_to_escalate,
        template="escalations/actions/ask_to_escalate.html",
        context=ask_to_escalate_context,
    ),
    "refer-directly": ActionPage(
        Act.ESCALATE,
        "Refer it straight to a later stage",
        "Refer it",
        "Referred",
        partial(
            forms.ReasonForm,
            label="Why does it go straight to this stage?",
            message="Enter why it goes straight to this stage",
        ),
        services.refer_directly,
        template="escalations/actions/escalate.html",
        context=lambda escalation, person: escalate_context(escalation, person, directly=True),
    ),
    "child-file": ActionPage(
        Act.RECORD_CHILD_FILE,
        "Confirm it is recorded on your agency's file for the child",
        "Confirm",
        "Recorded on the child's file",
        forms.ChildFileForm,
        services.record_on_child_file,
        initial=lambda: {"recorded_on": timezone.localdate()},
    ),
    "approve": ActionPage(
        Act.APPROVE,
        "Approve the escalation",
        "Approve",
        "Approved: the escalation has moved to the next stage",
        forms.CommentsForm,
        services.approve,
        template="escalations/actions/approve.html",
        context=approve_context,
    ),
    "return": ActionPage(
        Act.RETURN_WITH_COMMENTS,
        "Return the escalation with comments",
        "Return with comments",
        "Returned with your comments",
        forms.ReturnForm,
        services.return_with_comments,
        template="escalations/actions/approve.html",
        context=approve_context,
    ),
    "next-step": ActionPage(
        Act.ADVANCE_STEP,
        "What happened at this step?",
        "Move to the next step",
        "Moved to the next step",
        partial(
            forms.ReasonForm,
            label="What happened at this step?",
            message="Enter what happened at this step",
            argument="note",
        ),
        services.advance_step,
        ask=True,
    ),
    "resolve": ActionPage(
        Act.RESOLVE,
        "Resolve the escalation",
        "Resolve",
        "Resolved",
        forms.ResolveForm,
        services.resolve,
        template="escalations/actions/resolve.html",
    ),
    "parents": ActionPage(
        Act.RECORD_PARENTS,
        "Were parents or carers told about the escalation and its outcome?",
        "Save",
        "Recorded whether parents or carers were told",
        forms.ParentsForm,
        services.record_parents_informed,
        template="escalations/actions/parents.html",
        ask=True,
    ),
    "learning": ActionPage(
        Act.RECORD_LEARNING,
        "Record learning and any policy gap",
        "Save learning",
        "Learning recorded",
        forms.LearningForm,
        services.record_learning,
    ),
    "debrief": ActionPage(
        Act.RECORD_DEBRIEF,
        "Record the debrief",
        "Save debrief",
        "Debrief recorded",
        forms.DebriefForm,
        services.record_debrief,
        initial=lambda: {"held_on": timezone.localdate()},
    ),
    "share": ActionPage(
        Act.SHARE_WITH_PARTNERSHIP,
        "Why are you sharing the full record with the partnership?",
        "Share",
        "Shared with the partnership",
        partial(
            forms.ReasonForm,
            label="Why are you sharing the full record with the partnership?",
            message="Enter why you are sharing it with the partnership",
        ),
        services.share_with_partnership,
        ask=True,
    ),
    "close": ActionPage(
        Act.CLOSE,
        "Close the escalation",
        "Close",
        "Closed",
        forms.CloseForm,
        services.close,
    ),
    "reopen": ActionPage(
        Act.REOPEN,
        "Why are you reopening the escalation?",
        "Reopen",
        "Reopened",
        partial(
            forms.ReasonForm,
            label="Why are you reopening the escalation?",
            message="Enter why you are reopening it",
        ),
        services.reopen,
        ask=True,
    ),
    "withdraw": ActionPage(
        Act.WITHDRAW,
        "Why are you withdrawing the challenge?",
        "Withdraw",
        "Withdrawn",
        partial(
            forms.ReasonForm,
            label="Why are you withdrawing the challenge?",
            message="Enter why the challenge is being withdrawn",
        ),
        services.withdraw,
        warning=True,
        ask=True,
    ),
}


@dataclass(frozen=True)
class Refusal:
    """A refused action, told as what happened since the form was opened: the latest change
    (what, by whom, when), and whether the action can still be taken at all."""

    change: str
    still_allowed: bool


def what_changed(escalation: Escalation, person: Person, act: Act) -> Refusal:
    latest = escalation.events.select_related("actor", "actor_agency").order_by("-sequence").first()
    change = ""
    if latest is not None:
        who = f" by {latest.actor.full_name}" if latest.actor else ""
        if latest.actor_agency:
            who += f", {latest.actor_agency}"
        change = (
            f"{latest.get_kind_display()}{who}, {presenters.moment_in_words(latest.occurred_at)}."
        )
        if latest.reason:
            change += f" “{latest.reason}”"
    allowed = allowed_actions(person, escalation, participant=escalation.viewer_takes_part)
    return Refusal(change=change, still_allowed=act in allowed)


def _refused(form_class, data, escalation: Escalation, error: ActionRefused):
    """The form again with the person's input and the refusal; a stale form gets the current
    revision so that, having looked, they can submit again on purpose."""
    data = data.copy()
    if isinstance(error, StaleEscalation):
        data["revision"] = str(escalation.revision)
    form = form_class(data)
    form.is_valid()
    form.add_error(None, str(error))
    return form


@login_required
@never_cache
def act(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    page = PAGES.get(action)
    if page is None:
        raise Http404
    person = current_person(request)
    escalation = visible_escalation(request, reference)
    refusal = None
    if request.method == "POST":
        form = page.form(request.POST)
        if form.is_valid():
            try:
                page.service(
                    escalation.pk,
                    by=person,
                    expected_revision=form.cleaned_data["revision"],
                    **form.call_kwargs(),
                )
            except ActionRefused as error:
                escalation = visible_escalation(request, reference)
                form = _refused(page.form, request.POST, escalation, error)
                refusal = what_changed(escalation, person, page.act)
            else:
                done = page.done
                if callable(done):
                    done = done(visible_escalation(request, reference))
                messages.success(request, done)
                return redirect("escalation", reference=reference)
    else:
        if page.act not in allowed_actions(
            person, escalation, participant=escalation.viewer_takes_part
        ):
            raise PermissionDenied
        form = page.form(initial={"revision": escalation.revision, **page.initial()})
    context = {
        "escalation": escalation,
        "page": page,
        "form": form,
        "refusal": refusal,
        **page.context(escalation, person),
    }
    return render(request, page.template, context)


@login_required
@never_cache
@require_POST
def mark_action_done(request: HttpRequest, reference: str, action_id: int) -> HttpResponse:
    person = current_person(request)
    escalation = visible_escalation(request, reference)
    form = forms.MarkDoneForm(request.POST)
    if form.is_valid():
        try:
            services.mark_action_done(
                action_id,
                escalation=escalation.pk,
                by=person,
                expected_revision=form.cleaned_data["revision"],
            )
        except ActionRefused as error:
            form = _refused(forms.MarkDoneForm, request.POST, escalation, error)
        else:
            messages.success(request, "Action marked done")
            return redirect("escalation", reference=reference)
    page = ActionPage(
        Act.MARK_ACTION_DONE,
        "Mark the action done",
        "Mark done",
        "",
        forms.MarkDoneForm,
        services.mark_action_done,
    )
    return render(
        request,
        page.template,
        {"escalation": escalation, "page": page, "form": form},
    )
