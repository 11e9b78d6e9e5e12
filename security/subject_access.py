"""Subject access (UK GDPR article 15): everything the portal holds about one child.

The escalations come in from the caller, already scoped: escalations_about(child, user) for a
partnership administrator answering through the portal; every escalation about the child for
an operator at the console (the subject_access_export command)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from audit.log import record
from audit.models import AuditEntry
from cases.models import Child
from cases.people import person_for
from escalations.models import Escalation
from policies.models import Role


def _when(value) -> str | None:
    return value.isoformat() if value else None


def _person(person) -> str | None:
    return person.full_name if person else None


def _escalation(esc: Escalation) -> dict:
    return {
        "reference": esc.reference,
        "partnership": esc.partnership.name,
        "state": esc.get_state_display(),
        "stage": esc.stage.number,
        "raising_agency": esc.raising_agency.name,
        "raised_by": _person(esc.raised_by),
        "receiving_agency": esc.receiving_agency.name,
        "receiving_person": _person(esc.receiving_person),
        "receiving_team": esc.receiving_team,
        "pathway": esc.get_pathway_display(),
        "natures": [n.get_nature_display() for n in esc.natures.all()],
        "nature_other": esc.nature_other,
        "details": esc.details,
        "outcome_sought": esc.outcome_sought,
        "immediate_risk": esc.immediate_risk,
        "interim_safety": esc.interim_safety,
        "initial_discussion_on": _when(esc.initial_discussion_on),
        "raised_on": _when(esc.raised_on),
        "resolved_on": _when(esc.resolved_on),
        "closed_on": _when(esc.closed_on),
        "withdrawn_on": _when(esc.withdrawn_on),
        "parents_informed": esc.parents_informed,
        "parents_not_informed_reason": esc.parents_not_informed_reason,
        "learning": esc.learning,
        "policy_gap": esc.policy_gap,
        "debrief_summary": esc.debrief_summary,
        "debrief_on": _when(esc.debrief_on),
        "events": [
            {
                "kind": e.get_kind_display(),
                "by": _person(e.actor),
                "agency": e.actor_agency.name if e.actor_agency else None,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "from_stage": e.from_stage,
                "to_stage": e.to_stage,
                "reason": e.reason,
                "at": _when(e.occurred_at),
            }
            for e in esc.events.all()
        ],
        "notes": [
            {
                "kind": n.get_kind_display(),
                "by": _person(n.author),
                "body": n.body,
                "happened_on": _when(n.happened_on),
                "at": _when(n.created_at),
            }
            for n in esc.notes.all()
        ],
        "positions": [
            {
                "agency": p.agency.name,
                "by": _person(p.author),
                "body": p.body,
                "at": _when(p.created_at),
            }
            for p in esc.positions.all()
        ],
        "responses": [
            {
                "by": r.responder_name,
                "job_title": r.responder_job_title,
                "agency": r.responder_agency.name,
                "on": _when(r.responded_on),
                "summary": r.summary,
            }
            for r in esc.responses.all()
        ],
        "approvals": [
            {
                "decision": a.get_decision_display(),
                "by": _person(a.decided_by),
                "comments": a.comments,
                "at": _when(a.decided_at),
            }
            for a in esc.approvals.all()
        ],
        "outcomes": [
            {
                "category": o.get_category_display(),
                "summary": o.summary,
                "raiser_satisfied": o.raiser_satisfied,
                "by": _person(o.recorded_by),
                "at": _when(o.recorded_at),
            }
            for o in esc.outcomes.all()
        ],
        "actions": [
            {
                "what": a.what,
                "owner": a.owner_name,
                "due_on": _when(a.due_on),
                "done_on": _when(a.done_on),
            }
            for a in esc.actions.all()
        ],
        "notices": [
            {"kind": n.get_kind_display(), "at": _when(n.created_at)} for n in esc.notices.all()
        ],
    }


# Who answers a subject access request in the portal (ADR 0023): each agency and the
# partnership is its own controller under UK GDPR and answers for what it holds; in the portal
# an agency's safeguarding lead (who sees all of their agency's escalations) answers for the
# agency, and a partnership administrator for what the partnership sees. Each exports only what
# SPEC section 3 lets them open; the operator's console command answers for everything.
SUBJECT_ACCESS_AGENCY_ROLES = frozenset({Role.SAFEGUARDING_LEAD})
SUBJECT_ACCESS_PARTNERSHIP_ROLES = frozenset({Role.PARTNERSHIP_ADMIN})


def may_answer_subject_access(person) -> bool:
    return person is not None and bool(
        person.agency_ids(SUBJECT_ACCESS_AGENCY_ROLES)
        or person.partnership_ids(SUBJECT_ACCESS_PARTNERSHIP_ROLES)
    )


def escalations_about(child: Child, user) -> QuerySet[Escalation]:
    """The escalations about the child that this person may export: those they may open
    (Escalation.objects.visible_to), for the roles that answer requests; none for anyone
    else. The export never shows more than the pages would (SPEC section 3)."""
    if not may_answer_subject_access(person_for(user)):
        return Escalation.objects.none()
    return Escalation.objects.visible_to(user).filter(child=child)


def gather(child: Child, escalations: QuerySet[Escalation]) -> dict:
    """The child, the escalations about them with their records, and the audit entries about
    them."""
    escalations = list(
        escalations.filter(child=child)
        .with_summary()
        .select_related("receiving_person")
        .prefetch_related(
            "natures",
            "events__actor",
            "events__actor_agency",
            "notes__author",
            "positions__agency",
            "positions__author",
            "responses__responder_agency",
            "approvals__decided_by",
            "outcomes__recorded_by",
            "actions",
            "notices",
        )
        .order_by("created_on")
    )
    ids = [str(e.pk) for e in escalations]
    audit = AuditEntry.objects.filter(
        Q(object_type="escalation", object_id__in=ids)
        | Q(object_type="child", object_id=str(child.pk))
    ).order_by("at", "id")
    return {
        "child": {
            "id": child.pk,
            "given_names": child.given_names,
            "family_name": child.family_name,
            "is_unborn": child.is_unborn,
            "is_family_group": child.is_family_group,
            "date_of_birth": _when(child.date_of_birth),
            "address": child.address,
            "home_partnership": child.home_partnership.name,
            "anonymised_on": _when(child.anonymised_on),
        },
        "escalations": [_escalation(e) for e in escalations],
        "audit_entries": [
            {
                "at": _when(a.at),
                "who": a.username or "system",
                "kind": a.get_kind_display(),
                "what": a.what,
                "reference": a.reference,
                "address": a.address,
            }
            for a in audit
        ],
    }


def export(
    child: Child,
    escalations: QuerySet[Escalation],
    *,
    request: HttpRequest | None = None,
    user=None,
) -> dict:
    """gather(), with the export itself written to the audit log first."""
    agencies = set(
        escalations.filter(child=child).values_list("raising_agency_id", "receiving_agency_id")
    )
    record(
        request,
        kind=AuditEntry.Kind.EXPORT,
        what="subject access export",
        object_type="child",
        object_id=str(child.pk),
        partnership_id=child.home_partnership_id,
        agency_ids=sorted({a for pair in agencies for a in pair}),
        user=user,
    )
    return gather(child, escalations)
