"""One summary of a notice: what its email and the notifications page show of it, and which
notices a person may still see. Never anything about the child (emails are not a secure
channel): the reference, the agencies on each side, the kind (what happened), what the reader
must do and by when, the stage and its due moment, and a link; for a conference concern, only that there is one and a link."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cases.models import Membership
from escalations import clock
from escalations.models import ConferenceReport, Escalation, Notice, NoticeKind
from escalations.models.choices import PARTNERSHIP_FIGURES_ROLES
from escalations.models.notices import TO_PARTNERSHIP_KINDS

# What each kind of notice asks of its reader, in the email and on the notifications page.
GUIDANCE = {
    NoticeKind.IMMEDIATE_RISK: "A challenge raised in your agency says a child may be at "
    "immediate risk of significant harm. Open it now and follow your emergency procedure.",
    NoticeKind.RAISED: "A challenge has been raised that involves you. Read it and respond.",
    NoticeKind.ESCALATED: "An escalation has moved to a stage where you act.",
    NoticeKind.APPROVAL_NEEDED: "An escalation from your agency needs your approval to move on.",
    NoticeKind.APPROVAL_NEEDED_NO_LEAD: "An escalation from your agency needs approval to move "
    "on, and your agency has no active safeguarding lead or line manager in the portal who "
    "could agree it: you are asked to approve it, or return it with comments, in the absence "
    "of a safeguarding lead or line manager. If one is added, the decision passes to them.",
    NoticeKind.APPROVED: "Your request to escalate was approved.",
    NoticeKind.RETURNED: "Your request to escalate was returned with comments.",
    NoticeKind.RESOLVED: "An escalation you are part of has been resolved.",
    NoticeKind.REOPENED: "An escalation you are part of has been reopened.",
    NoticeKind.WITHDRAWN: "An escalation you are part of has been withdrawn.",
    NoticeKind.PARTNERSHIP_STAGE: "An escalation has reached the stage at which the partnership "
    "is brought in.",
    NoticeKind.RESPONSE: "The other agency has recorded its response.",
    NoticeKind.REMINDER: "The time limit for the stage you hold runs out soon. Resolve it or "
    "escalate it before then.",
    NoticeKind.OVERDUE: "The time limit for the stage you hold has passed. Escalate it to the "
    "next stage now, or record the resolution.",
    NoticeKind.OVERDUE_MANAGER: "The time limit has passed for a stage held in your agency or "
    "partnership. Check that it is escalated or resolved.",
    NoticeKind.RECORD_READY: "The escalation record is ready.",
    NoticeKind.DEADLINE_CHANGED: "The partnership changed its working days, so the time limit "
    "of the stage you hold has moved.",
    NoticeKind.CONFERENCE_CONCERN: "A child protection conference chair has escalated a concern "
    "about your agency's part in a conference (attendance or a report). Read it and respond.",
    NoticeKind.CONFERENCE_CONCERN_NO_LEAD: "A child protection conference chair has escalated a "
    "concern about your agency's part in a conference (attendance or a report). It comes to you "
    "because your agency has no active safeguarding lead in the portal. Read it and respond, "
    "and ask for a safeguarding lead to be named.",
    NoticeKind.CONFERENCE_RESPONSE: "The agency has responded to the conference concern you "
    "recorded.",
    NoticeKind.OUTCOME_TO_PARTNERSHIP: "An escalation was resolved at a stage from which the "
    "partnership's policy sends its outcome to the partnership. Read the outcome.",
    NoticeKind.LEARNING_TO_PARTNERSHIP: "Learning or a gap in policy was recorded on an "
    "escalation, and the partnership's policy sends it to the partnership. It is on the "
    "dashboard's latest learning and policy gaps.",
    NoticeKind.CHILD_FILE_DUE: "The escalation is resolved, and the partnership's policy asks "
    "each agency to record it on its own file for the child. Record it there, then confirm it "
    "in the portal with the date and your file's reference.",
    NoticeKind.CHILD_FILE_REMINDER: "Your agency has not yet confirmed that this escalation is "
    "recorded on its own file for the child, as the partnership's policy asks (at each stage "
    "where it says so, and once resolved). Record it there, then confirm it in the portal with "
    "the date and your file's reference.",
    NoticeKind.ESCALATION_ASKED: "You are asked to move an escalation from your agency to the "
    "next stage: the partnership's policy says only someone in your role may move it there. "
    "Their reason is in the escalation's history.",
    NoticeKind.REASSIGNED: "Someone who took part in this escalation has left, and their part "
    "has been passed to you. Read it and carry on from where it stands.",
}

# What the reader must do, in a few words; where the escalation has a due moment and the kind
# is in TIMED, "by <the due moment>" follows. The email and the page say it the same way.
TO_DO = {
    NoticeKind.IMMEDIATE_RISK: "Open it now and follow your emergency procedure",
    NoticeKind.RAISED: "Read the challenge and respond to it",
    NoticeKind.ESCALATED: "Act for your agency at this stage",
    NoticeKind.APPROVAL_NEEDED: "Approve the escalation or return it with comments",
    NoticeKind.APPROVAL_NEEDED_NO_LEAD: "Approve the escalation or return it with comments",
    NoticeKind.APPROVED: "Carry on at the new stage",
    NoticeKind.RETURNED: "Read the comments, then ask again or carry on at this stage",
    NoticeKind.RESOLVED: "Carry out any actions agreed for you",
    NoticeKind.REOPENED: "Read why it was reopened and act at this stage",
    NoticeKind.WITHDRAWN: "Nothing: no one needs to act on it any more",
    NoticeKind.PARTNERSHIP_STAGE: "Take it up for the partnership at this stage",
    NoticeKind.RESPONSE: "Read the response, then resolve the escalation or escalate it",
    NoticeKind.REMINDER: "Resolve it or escalate it",
    NoticeKind.OVERDUE: "Escalate it now, or record the resolution",
    NoticeKind.OVERDUE_MANAGER: "Check that it is escalated or resolved",
    NoticeKind.RECORD_READY: "Read the record, and keep it with the child's file",
    NoticeKind.DEADLINE_CHANGED: "Note the new time limit",
    NoticeKind.REASSIGNED: "Carry on from where it stands",
    NoticeKind.CONFERENCE_CONCERN: "Read the concern and respond to it",
    NoticeKind.CONFERENCE_CONCERN_NO_LEAD: "Read the concern and respond to it",
    NoticeKind.CONFERENCE_RESPONSE: "Read the response",
    NoticeKind.OUTCOME_TO_PARTNERSHIP: "Read the outcome",
    NoticeKind.LEARNING_TO_PARTNERSHIP: "Read it in the dashboard's learning and policy gaps",
    NoticeKind.CHILD_FILE_DUE: "Record it on your agency's file for the child, then confirm it",
    NoticeKind.CHILD_FILE_REMINDER: "Record it on your agency's file for the child, then "
    "confirm it",
    NoticeKind.ESCALATION_ASKED: "Escalate it to the next stage (or tell them why not)",
}
TIMED = {
    NoticeKind.RAISED,
    NoticeKind.ESCALATED,
    NoticeKind.APPROVAL_NEEDED,
    NoticeKind.APPROVAL_NEEDED_NO_LEAD,
    NoticeKind.APPROVED,
    NoticeKind.RETURNED,
    NoticeKind.REOPENED,
    NoticeKind.PARTNERSHIP_STAGE,
    NoticeKind.RESPONSE,
    NoticeKind.REMINDER,
    NoticeKind.DEADLINE_CHANGED,
    NoticeKind.REASSIGNED,
    NoticeKind.ESCALATION_ASKED,
}


def to_do(kind: str, due: str) -> str:
    """'Read the challenge and respond to it by the end of Monday 9 November 2026.'"""
    words = TO_DO.get(kind, "Open it in the portal")
    if due and kind in TIMED:
        words = f"{words} by {due}"
    return f"{words}."


# Notices about a stage's time limit: their words say what the clock measures.
CLOCK_KINDS = (NoticeKind.REMINDER, NoticeKind.OVERDUE, NoticeKind.OVERDUE_MANAGER)


# --- who may see a notice ----------------------------------------------------------------


def visible_notices(user) -> Q:
    """Notices about what the user may still see: an escalation (`Escalation.objects
    .visible_to`) or a conference concern (`ConferenceReport.objects.visible_to`). One
    condition, so a count of them stays one query."""
    return (
        Q(escalation__in=Escalation.objects.visible_to(user))
        | Q(conference_report__in=ConferenceReport.objects.visible_to(user))
        # Written only for the partnership's own roles, and linking to its dashboard: theirs
        # while they hold such a role in that partnership.
        | Q(
            kind__in=TO_PARTNERSHIP_KINDS,
            escalation__partnership_id__in=Membership.objects.filter(
                person__user=user, role__in=PARTNERSHIP_FIGURES_ROLES
            ).values("partnership_id"),
        )
    )


def still_open(user, notices: list[Notice]) -> list[Notice]:
    """Of a page of the person's shown notices, those about what they may open now, asked of
    the escalations themselves (visible_notices' rule, one query by primary key for the page's
    escalations, one for its concerns, each only where there are some). The notices page lists
    Notice.objects.shown_to (ADR 0028); this is its defence in depth against a notice written
    around Notice.objects.write, which hidden_at would not know about."""
    escalation_ids = {n.escalation_id for n in notices if n.kind not in TO_PARTNERSHIP_KINDS}
    escalation_ids.discard(None)
    report_ids = {n.conference_report_id for n in notices} - {None}
    escalations = _may_open(Escalation, user, escalation_ids)
    reports = _may_open(ConferenceReport, user, report_ids)
    return [
        n
        for n in notices
        if n.kind in TO_PARTNERSHIP_KINDS
        or n.escalation_id in escalations
        or n.conference_report_id in reports
    ]


# --- the summary ------------------------------------------------------------------------


def escalation_path(reference: str | None) -> str:
    return f"/escalations/{reference}/" if reference else ""


def conference_path(pk: int) -> str:
    return f"/conference/{pk}/"


def absolute(path: str) -> str:
    """The portal's address for a path, for emails (PORTAL_BASE_URL); the notifications page
    for an empty one."""
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path or '/notifications/'}"


def escalation_url(reference: str | None) -> str:
    return absolute(escalation_path(reference))


def conference_url(pk: int) -> str:
    return absolute(conference_path(pk))


def notice_summary(notice: Notice) -> dict:
    """What an email or the notifications page shows of a notice: nothing about the child.
    `path` links within the portal (the page); `url` is the same address in full (emails)."""
    common = {
        "kind": notice.get_kind_display(),
        "guidance": GUIDANCE.get(notice.kind, ""),
        "urgent": notice.urgent,
        "created": clock.moment_in_words(notice.created_at),
    }
    if notice.conference_report_id is not None:
        # Only the concern's number: its family identifier and details stay in the portal.
        path = conference_path(notice.conference_report_id)
        return {
            **common,
            "about": "concern",
            "reference": f"Conference concern {notice.conference_report_id}",
            "agencies": "",
            "to_do": to_do(notice.kind, ""),
            "stage": "",
            "due": "",
            "overdue": False,
            "path": path,
            "url": absolute(path),
        }
    esc = notice.escalation
    if notice.kind in TO_PARTNERSHIP_KINDS:
        # The partnership's dashboard holds what was sent; the escalation itself may be one
        # its business manager cannot open, so neither its reference nor its link is given.
        path = reverse("dashboards:dashboard_table", args=[esc.partnership.slug, "learning"])
        return {
            **common,
            "about": "partnership",
            "reference": f"{esc.partnership.name} dashboard",
            "agencies": f"{esc.raising_agency.name} challenged {esc.receiving_agency.name}",
            "to_do": to_do(notice.kind, ""),
            "stage": f"Stage {esc.stage.number}: {esc.stage.name}",
            "due": "",
            "overdue": False,
            "path": path,
            "url": absolute(path),
        }
    path = escalation_path(esc.reference)
    if notice.kind in CLOCK_KINDS and esc.stage.clock_measures:
        # Say what the clock measures: Pan-Cheshire step 1's is the time to raise the issue
        # with the other agency, not a deadline to resolve it (issue 15).
        common["guidance"] = (
            f"{common['guidance']} This stage's time limit measures {esc.stage.clock_measures}."
        )
    due = clock.moment_in_words(esc.due_at) if esc.due_at else ""
    return {
        **common,
        "about": "escalation",
        "reference": esc.reference or "Draft",
        # The agencies, never the child: emails are not a secure channel.
        "agencies": f"{esc.raising_agency.name} challenged {esc.receiving_agency.name}",
        "to_do": to_do(notice.kind, due),
        "stage": f"Stage {esc.stage.number}: {esc.stage.name}",
        "due": due,
        "overdue": clock.is_overdue(esc, timezone.now()),
        "path": path,
        "url": absolute(path),
    }


def _may_open(model, user, ids: set[int]) -> set[int]:
    """Which of these rows of `model` (an escalation or a conference concern) the user may
    open, by the model's own visible_to; no query where there are none."""
    if not ids:
        return set()
    return set(model.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
