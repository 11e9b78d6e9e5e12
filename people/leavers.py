"""Leavers lose access; their work is not lost (issue 19, point 4).

Marking a leaver deactivates the account and ends its sessions at once. The person, their
roles and everything they did stay, under the name they had: history reads as it was. Every
open escalation in which they raised it, hold it, are challenged in it, are the counterpart at
the current stage, or are asked to approve it is listed, and each part is passed to someone in
the same agency and role, with an event on the escalation and a notice to the new person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from audit.log import record as audit_record
from audit.models import AuditEntry
from cases.models import Agency, Membership, Person
from escalations import services
from escalations.models import (
    ACTIVE_STATES,
    Escalation,
    Event,
    EventKind,
    Notice,
    NoticeKind,
    StageEpisode,
    State,
)
from people.accounts import end_sessions
from people.audit import agencies_of, audited, roles_words
from people.models import Handover
from people.scope import Can, Refused, Scope
from policies.models import Partnership, Role

Part = Handover.Part
RAISING_SIDE = (Part.RAISER, Part.HOLDER)
RECEIVING_SIDE = (Part.CHALLENGED, Part.COUNTERPART)
APPROVAL_NOTICES = (NoticeKind.APPROVAL_NEEDED, NoticeKind.APPROVAL_NEEDED_NO_LEAD)


def mark_leaver(person: Person, *, scope: Scope, by: Person, request=None) -> int:
    """Deactivate the account and end its sessions; returns how many sessions ended."""
    scope.require(Can.REMOVE)
    if not scope.whole(person):
        raise Refused(
            f"{person.full_name} also has roles outside {scope.name}: remove the roles you "
            "manage instead, and their other administrators will mark them as a leaver."
        )
    if person.pk == by.pk:
        raise Refused("You cannot mark yourself as a leaver: ask another administrator.")
    with transaction.atomic():
        locked = Person.objects.select_for_update().select_related("user").get(pk=person.pk)
        if locked.left_on is not None or not locked.user.is_active:
            raise Refused(f"{locked.full_name} is already marked as a leaver.")
        for m in Membership.objects.filter(person=locked, role=Role.PARTNERSHIP_ADMIN):
            others = Membership.objects.filter(
                partnership=m.partnership_id,
                role=Role.PARTNERSHIP_ADMIN,
                person__user__is_active=True,
            ).exclude(person=locked)
            if not others.exists():
                raise Refused(f"{m.partnership} would have no administrator left.")
        locked.user.is_active = False
        locked.user.save(update_fields=["is_active"])
        locked.left_on = timezone.now()
        locked.left_recorded_by = by
        locked.save(update_fields=["left_on", "left_recorded_by"])
        audited(
            by=by,
            what=f"{locked.full_name} marked as a leaver",
            object_type="person",
            object_id=locked.pk,
            partnership_id=scope.audit_partnership_id(),
            agency_ids=agencies_of(locked),
            changes=[
                ("Access", "Can sign in", "Cannot sign in: left"),
                ("Roles (kept for the record)", roles_words(locked.memberships.all()), ""),
            ],
            request=request,
        )
    return end_sessions(locked.user)


@dataclass
class Handing:
    """One escalation's parts held by the leaver on one side, and who may take them on."""

    escalation: Escalation
    parts: list[str]
    where: Agency | Partnership
    roles: list[str]
    candidates: list[Person] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.escalation.pk}-{self.side}"

    @property
    def side(self) -> str:
        if self.parts == [Part.APPROVER]:
            return "approval"
        return "raising" if self.parts[0] in RAISING_SIDE else "receiving"

    def parts_in_words(self) -> str:
        labels = [Part(p).label for p in self.parts]
        return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"

    def roles_in_words(self) -> str:
        return " or ".join(Role(r).label.lower() for r in self.roles)


def involving(leaver: Person) -> Q:
    """The escalations in which the leaver has a part that someone must take on."""
    current_counterpart = StageEpisode.objects.filter(
        escalation=OuterRef("pk"), ended_at__isnull=True, counterpart=leaver
    )
    asked = Notice.objects.filter(
        escalation=OuterRef("pk"), recipient=leaver, kind__in=APPROVAL_NOTICES
    )
    leads = [
        m.agency_id
        for m in leaver.memberships.all()
        if m.agency_id and m.role == Role.SAFEGUARDING_LEAD
    ]
    return Q(state__in=ACTIVE_STATES) & (
        Q(raised_by=leaver)
        | Q(holder=leaver)
        | Q(receiving_person=leaver)
        | Exists(current_counterpart)
        | (Q(state=State.AWAITING_APPROVAL) & (Q(raising_agency__in=leads) | Exists(asked)))
    )


def open_work(leaver: Person, escalations: QuerySet[Escalation]) -> list[Handing]:
    """What is left to pass on, from escalations the caller may administer (the view passes
    them already scoped: a partnership's figures, or an agency's escalations)."""
    found = list(
        escalations.filter(involving(leaver))
        .select_related("stage", "partnership", "raising_agency", "receiving_agency")
        .order_by("raised_on", "pk")
        .distinct()
    )
    if not found:
        return []
    counterparts = set(
        StageEpisode.objects.filter(
            escalation__in=[e.pk for e in found], ended_at__isnull=True, counterpart=leaver
        ).values_list("escalation_id", flat=True)
    )
    handed = _approvals_handed_over(leaver, found)
    people_cache: dict = {}
    items = []
    for esc in found:
        for handing in _hand_offs(leaver, esc, esc.pk in counterparts, esc.pk in handed):
            handing.candidates = _candidates(leaver, esc, handing, people_cache)
            items.append(handing)
    return items


def _hand_offs(leaver, esc, counterpart: bool, approval_handed: bool) -> list[Handing]:
    """The leaver's parts in one escalation, grouped by where their successor must come from:
    the raising agency (or, at the partnership stage, the partnership), the receiving agency,
    and the approval the raising agency's leads give."""
    memberships = list(leaver.memberships.all())
    raising_roles = [m.role for m in memberships if m.agency_id == esc.raising_agency_id]
    receiving_roles = [m.role for m in memberships if m.agency_id == esc.receiving_agency_id]
    partnership_roles = [m.role for m in memberships if m.partnership_id == esc.partnership_id]
    items = []
    ours = [
        part
        for part, who in zip(RAISING_SIDE, (esc.raised_by_id, esc.holder_id), strict=True)
        if who == leaver.pk
    ]
    if ours and (raising_roles or not partnership_roles):
        items.append(Handing(esc, ours, esc.raising_agency, raising_roles or [Role.PRACTITIONER]))
    elif ours:  # a business manager or chair holding it at the partnership's own stage
        items.append(Handing(esc, ours, esc.partnership, partnership_roles))
    theirs = [Part.CHALLENGED] if esc.receiving_person_id == leaver.pk else []
    if counterpart:
        theirs.append(Part.COUNTERPART)
    if theirs:
        items.append(
            Handing(esc, theirs, esc.receiving_agency, receiving_roles or [Role.PRACTITIONER])
        )
    waiting = esc.state == State.AWAITING_APPROVAL and not approval_handed
    if waiting and (Role.SAFEGUARDING_LEAD in raising_roles or _was_asked(leaver, esc)):
        items.append(Handing(esc, [Part.APPROVER], esc.raising_agency, [Role.SAFEGUARDING_LEAD]))
    return items


def _was_asked(leaver, esc) -> bool:
    """Asked to approve in the lead's absence (a senior or line manager)."""
    return Notice.objects.filter(
        escalation=esc, recipient=leaver, kind__in=APPROVAL_NOTICES
    ).exists()


def _approvals_handed_over(leaver, escalations) -> set[int]:
    """Escalations whose current request for approval the leaver's part was passed on for."""
    return set(
        Handover.objects.filter(
            leaver=leaver,
            part=Part.APPROVER,
            escalation__in=[e.pk for e in escalations if e.state == State.AWAITING_APPROVAL],
        )
        .filter(at__gte=_latest_request_subquery())
        .values_list("escalation_id", flat=True)
    )


def _latest_request_subquery():
    return Subquery(
        Event.objects.filter(escalation=OuterRef("escalation"), kind=EventKind.APPROVAL_REQUESTED)
        .order_by("-sequence")
        .values("occurred_at")[:1]
    )


def _candidates(leaver, esc, handing: Handing, cache: dict) -> list[Person]:
    """Active people in the same agency (or partnership) and role; for approval, whoever the
    escalation's rules ask now (its safeguarding leads, else their stand-ins)."""
    if handing.parts == [Part.APPROVER]:
        return [
            p
            for p in services.approvers(esc, esc.pending_stage, esc.approval_requested_by).people
            if p.pk != leaver.pk
        ]
    key = (type(handing.where).__name__, handing.where.pk, tuple(sorted(handing.roles)))
    if key not in cache:
        place = (
            Q(agency=handing.where)
            if isinstance(handing.where, Agency)
            else Q(partnership=handing.where)
        )
        cache[key] = list(
            Person.objects.filter(
                pk__in=Membership.objects.filter(place, role__in=handing.roles).values("person_id"),
                user__is_active=True,
            )
            .exclude(pk=leaver.pk)
            .order_by("full_name", "pk")
        )
    return cache[key]


def hand_over(
    escalation_id: int,
    side: str,
    *,
    leaver: Person,
    to: Person,
    by: Person,
    escalations: QuerySet[Escalation],
    request=None,
) -> Escalation:
    """Pass the leaver's parts on one side of one escalation to `to`: the escalation row
    locked, the situation read again, an event recorded and the new person told."""
    with transaction.atomic():
        Escalation.objects.select_for_update().filter(pk=escalation_id).values_list(
            "pk", flat=True
        ).get()
        current = [
            h for h in open_work(leaver, escalations.filter(pk=escalation_id)) if h.side == side
        ]
        if not current:
            raise Refused("That part has already been passed on, or the escalation has moved on.")
        handing = current[0]
        if to.pk not in {p.pk for p in handing.candidates}:
            raise Refused(f"{to.full_name} cannot take that part: choose someone from the list.")
        esc = Escalation.objects.select_related(
            "partnership", "ladder", "stage", "raising_agency", "receiving_agency", "raised_by"
        ).get(pk=escalation_id)
        changes = _apply(esc, handing, leaver, to)
        for part in handing.parts:
            Handover.objects.create(escalation=esc, leaver=leaver, part=part, to=to, by=by)
        services.record_event(
            esc,
            EventKind.REASSIGNED,
            by,
            reason=(
                f"{leaver.full_name} has left. Their part (they {handing.parts_in_words()}) "
                f"passed to {to.full_name}, {handing.roles_in_words()} at {handing.where}, "
                f"by {by.full_name}."
            ),
        )
        services.notify(
            esc,
            NoticeKind.REASSIGNED,
            [to],
            episode=services.current_episode(esc),
            occasion=str(esc.event_count),
        )
        esc.revision += 1
        esc.updated_on = timezone.now()
        esc.save()
        audit_record(
            request,
            kind=AuditEntry.Kind.CHANGE,
            what=f"Leaver's part passed on ({leaver.full_name} to {to.full_name})",
            escalation=esc,
            user=by.user,
            changes=changes,
        )
    return esc


def _apply(esc: Escalation, handing: Handing, leaver: Person, to: Person) -> list:
    changes = []
    for part in handing.parts:
        label = Part(part).label
        if part == Part.RAISER:
            esc.raised_by = to
        elif part == Part.HOLDER:
            esc.holder = to
        elif part == Part.CHALLENGED:
            esc.receiving_person = to
        elif part == Part.COUNTERPART:
            # The current stage's counterpart is who is told of what happens next; earlier
            # stages keep who acted then.
            StageEpisode.objects.filter(
                escalation=esc, ended_at__isnull=True, counterpart=leaver
            ).update(counterpart=to)
        changes.append((f"Who {label}", leaver.full_name, to.full_name))
    return changes
