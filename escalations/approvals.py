"""Who approves entry to a gated stage, who stands in for an absent approver, and who may
return a request with comments: the one place that says so (docs/adr/0010-approvals.md).

A ladder stage may carry an approval gate. `gate_for(stage)` reads it from the stage's data;
every rule here takes the Gate it returns, so a gate whose approvers differ per stage changes
`gate_for` and the ladder files, nothing else. Today every gate is the same: the raising
agency's safeguarding lead or line manager agrees (Kirklees: "the challenging agency's
Safeguarding Lead and/ or the relevant Line Manager, to agree and record";
`Stage.approval_required`, with the policy's section in the ladder file's rules.approval),
and while the agency has neither active besides whoever asked, its senior managers decide in
their absence. Whoever asked never decides their own request
(docs/adr/0020-approval-by-lead-or-line-manager.md, which amends 0007).

The rule in four forms, kept in agreement by tests: for one person and one escalation
(`may_decide`, at most one query, none where the escalation was read with
`presence_annotations`), as a SQL condition for queues and counts (`approver_condition`), as
the people asked (`approvers`, one query) and for the sweep's batches (`first_stand_ins`).

This module knows people (cases) and ladder data (policies), never the escalation model, so
the models' querysets build on it and every layer above may use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q

from cases.models import Membership, Person
from cases.people import partnership_members
from policies.models import APPROVAL_FALLBACK_ROLES, Role

if TYPE_CHECKING:
    from policies.models import Stage

# How the approval rule names each role in a sentence.
ROLE_WORDS = {
    Role.SAFEGUARDING_LEAD: "safeguarding lead",
    Role.SENIOR_MANAGER: "senior manager",
    Role.LINE_MANAGER: "line manager",
}


def _words(role: str) -> str:
    return ROLE_WORDS.get(role, "manager")


@dataclass(frozen=True)
class Gate:
    """An approval gate on entry to a stage: the roles of the raising agency that approve, and
    the roles that stand in, in order, while it has none of those active (the first stand-in
    role with anyone other than whoever asked)."""

    approver_roles: tuple[str, ...]
    stand_in_roles: tuple[str, ...]

    @property
    def approver_names(self) -> str:
        """'safeguarding lead' (or 'safeguarding lead or line manager')."""
        return " or ".join(_words(role) for role in self.approver_roles)

    @property
    def approvers_in_words(self) -> str:
        """'a safeguarding lead' (or 'a safeguarding lead or line manager')."""
        return f"a {self.approver_names}"

    @property
    def absence_in_words(self) -> str:
        """'in the absence of a safeguarding lead': how a stand-in's decision is described."""
        return f"in the absence of {self.approvers_in_words}"

    @property
    def everyone_in_words(self) -> str:
        """'safeguarding lead, senior manager or line manager'."""
        names = [_words(role) for role in (*self.approver_roles, *self.stand_in_roles)]
        return f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]

    def is_stand_in(self, role: str) -> bool:
        return role not in self.approver_roles


# Entry needs the agreement of the raising agency's safeguarding lead or its line manager:
# Kirklees, the one policy with a gate, has the disagreement "escalated to the challenging
# agency's Safeguarding Lead and/ or the relevant Line Manager, to agree and record" (ladder
# file, stage 2 rules.approval; docs/adr/0020-approval-by-lead-or-line-manager.md). A local
# gate a partnership sets (rules.approval local_choice) is the same gate. While the agency
# has neither active, its senior managers stand in (APPROVAL_FALLBACK_ROLES, less the line
# manager, who is now an approver).
LEAD_GATE = Gate(
    approver_roles=(Role.SAFEGUARDING_LEAD, Role.LINE_MANAGER),
    stand_in_roles=tuple(role for role in APPROVAL_FALLBACK_ROLES if role != Role.LINE_MANAGER),
)
# Every gate the ladders can set; a new kind of gate is added here and returned by gate_for.
GATES = (LEAD_GATE,)


def gate_for(stage: Stage | None) -> Gate | None:
    """The approval gate on entry to the stage, from the ladder data; None where entry needs
    no approval."""
    if stage is None or not stage.approval_required:
        return None
    return LEAD_GATE


def needs_approval(stage: Stage | None) -> bool:
    return gate_for(stage) is not None


def pending_gate(escalation) -> Gate:
    """The gate of the escalation's pending request (it awaits approval, so its pending stage
    has one). Every gate is LEAD_GATE today, so no stage is read; when gates differ per stage
    this returns gate_for(escalation.pending_stage), which acting_on and the escalation page
    load with the escalation."""
    return LEAD_GATE


# --- one person, one escalation ---------------------------------------------------------------


def _raising_roles(person: Person, escalation) -> set[str]:
    return {m.role for m in person.memberships.all() if m.agency_id == escalation.raising_agency_id}


def _present_key(role: str, *, stand_in: bool) -> str:
    return f"{'stand_in' if stand_in else 'approver'}_{role}_present"


def presence_annotations() -> dict[str, Exists]:
    """Whether the raising agency has an active member in each approver role, and in each
    stand-in role besides whoever asked: what may_decide would otherwise read with a query of
    its own, for Escalation.objects.with_approvers_present()."""
    active = Membership.objects.filter(
        agency=OuterRef("raising_agency"), person__user__is_active=True
    )
    annotations = {}
    for gate in GATES:
        for role in gate.approver_roles:
            # An approver who asked does not decide their own request (an agreement is a
            # second person's), so only approvers besides whoever asked count as present.
            annotations[_present_key(role, stand_in=False)] = Exists(
                active.filter(role=role).exclude(person=OuterRef("approval_requested_by"))
            )
        for role in gate.stand_in_roles[:-1]:  # the last one is never checked for presence
            annotations[_present_key(role, stand_in=True)] = Exists(
                active.filter(role=role).exclude(person=OuterRef("approval_requested_by"))
            )
    return annotations


def _present(escalation, gate: Gate, stand_in_roles: tuple[str, ...]) -> set[tuple[str, bool]]:
    """(role, stand_in) pairs with an active member in the raising agency (for a stand-in
    role: besides whoever asked), from the annotations where the query had them."""
    wanted = [(role, False) for role in gate.approver_roles] + [
        (role, True) for role in stand_in_roles
    ]
    if all(hasattr(escalation, _present_key(r, stand_in=s)) for r, s in wanted):
        return {(r, s) for r, s in wanted if getattr(escalation, _present_key(r, stand_in=s))}
    asked_by = escalation.approval_requested_by_id
    present = set()
    for role, person_id in Membership.objects.filter(
        agency_id=escalation.raising_agency_id,
        role__in=[role for role, _ in wanted],
        person__user__is_active=True,
    ).values_list("role", "person_id"):
        if role in gate.approver_roles and person_id != asked_by:
            present.add((role, False))
        if role in stand_in_roles and person_id != asked_by:
            present.add((role, True))
    return present


def may_decide(person: Person, escalation, raising_roles: Iterable[str] | None = None) -> bool:
    """Whether the person approves, or returns with comments, the escalation's pending request:
    an approver of the raising agency; or a stand-in while it has no active approver and no
    one of an earlier stand-in role besides whoever asked; never a stand-in who asked.

    The caller asks only while the escalation awaits approval. At most one query, and only for
    a stand-in who is not an approver; none where the escalation was read with
    Escalation.objects.with_approvers_present() (the pages)."""
    gate = pending_gate(escalation)
    roles = set(raising_roles) if raising_roles is not None else _raising_roles(person, escalation)
    if escalation.approval_requested_by_id == person.pk:
        # Whoever asked decides their own request only as an approver with nobody else to
        # ask: the one-person voluntary group, where "the designated/named safeguarding
        # professional may be the same worker as the professional identifying the concern"
        # (Pan-Cheshire).
        return bool(roles & set(gate.approver_roles)) and not _present(
            escalation, gate, gate.stand_in_roles
        )
    if roles & set(gate.approver_roles):
        return True
    tier = next((i for i, role in enumerate(gate.stand_in_roles) if role in roles), None)
    if tier is None or escalation.approval_requested_by_id == person.pk:
        return False
    return not _present(escalation, gate, gate.stand_in_roles[:tier])


def decided_as(person: Person, escalation) -> str:
    """The role in which the person decides the pending request: an approver role they hold in
    the raising agency, else the stand-in role that lets them (as may_decide found it)."""
    gate = pending_gate(escalation)
    roles = _raising_roles(person, escalation)
    for role in (*gate.approver_roles, *gate.stand_in_roles):
        if role in roles:
            return role
    return ""


def decision_note(person: Person, escalation, role: str, decided: str) -> str:
    """'Approved by Dan Dale, senior manager of Meadow School, in the absence of a safeguarding
    lead.' for a stand-in's decision; '' for an approver's."""
    gate = pending_gate(escalation)
    if not role or not gate.is_stand_in(role):
        return ""
    return (
        f"{decided} by {person.full_name}, {_words(role)} of {escalation.raising_agency.name}, "
        f"{gate.absence_in_words}."
    )


# --- who is asked -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Approvers:
    """Who is asked to approve entry to a stage, and in which role."""

    people: list[Person]
    role: str = Role.SAFEGUARDING_LEAD
    gate: Gate = LEAD_GATE
    # Each person's role, where they differ (a lead and a line manager both asked).
    roles_of: tuple[str, ...] = ()

    @property
    def stand_in(self) -> bool:
        return bool(self.role) and self.gate.is_stand_in(self.role)

    def in_words(self) -> str:
        """'its senior manager, Dan Dale' or 'its line managers, Bob Baker and Kay Kerr', or
        'its safeguarding lead, Carol Cole, and its line manager, Bob Baker'."""
        if len(set(self.roles_of)) <= 1:
            return asked_in_words(self.role, [p.full_name for p in self.people])
        groups = {}
        for person, role in zip(self.people, self.roles_of, strict=True):
            groups.setdefault(role, []).append(person.full_name)
        return ", and ".join(asked_in_words(role, names) for role, names in groups.items())


def asked_in_words(role: str, names: list[str]) -> str:
    """'its senior manager, Dan Dale' or 'its line managers, Bob Baker and Kay Kerr'."""
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"its {_words(role)}{'s' if len(names) > 1 else ''}, {listed}"


def first_stand_ins(gate: Gate, people: Mapping[str, Iterable], asked_by) -> tuple[str, list]:
    """The first stand-in role with anyone other than whoever asked, and those people (ids or
    Person objects, as given per role in the raising agency)."""
    for role in gate.stand_in_roles:
        chosen = [p for p in people.get(role, ()) if _pk(p) != asked_by]
        if chosen:
            return role, chosen
    return "", []


def _pk(person) -> int:
    return person if isinstance(person, int) else person.pk


def approvers(escalation, target: Stage, asked_by: Person | None) -> Approvers:
    """Who approves entry to the target stage: the raising agency's active approvers; where it
    has none, its first stand-ins (never whoever asks). Nobody where it has none of those
    either. One query; the same rule as may_decide."""
    gate = gate_for(target) or LEAD_GATE
    roles = [*gate.approver_roles, *gate.stand_in_roles]
    by_role: dict[str, dict[int, Person]] = {role: {} for role in roles}
    for m in (
        Membership.objects.filter(
            agency_id=escalation.raising_agency_id, role__in=roles, person__user__is_active=True
        )
        .select_related("person")
        .order_by("id")
    ):
        by_role[m.role].setdefault(m.person_id, m.person)
    asked_id = asked_by.pk if asked_by else None
    # Every approver besides whoever asked is asked (the lead and the line managers alike:
    # either may agree); the first role among them types the request.
    asked = [
        (role, person)
        for role in gate.approver_roles
        for pk, person in by_role[role].items()
        if pk != asked_id
    ]
    if asked:
        people = list({person.pk: person for _, person in asked}.values())
        roles_of = {}
        for role, person in asked:
            roles_of.setdefault(person.pk, role)
        return Approvers(people, asked[0][0], gate, tuple(roles_of[p.pk] for p in people))
    role, people = first_stand_ins(
        gate, {role: list(by_role[role].values()) for role in gate.stand_in_roles}, asked_id
    )
    if not people and asked_id is not None:
        # Nobody else: an approver who asks decides it themselves (may_decide).
        own = next((role for role in gate.approver_roles if asked_id in by_role[role]), "")
        if own:
            return Approvers([by_role[own][asked_id]], own, gate)
    return Approvers(people, role, gate)


def nobody_to_approve(escalation, target: Stage, asked_by: Person | None) -> str:
    """Why an escalation cannot go to a stage that needs approval, and whom to contact."""
    gate = gate_for(target) or LEAD_GATE
    agency = escalation.raising_agency
    partnership = escalation.partnership
    yours = asked_by is not None and bool(
        asked_by.agency_ids({*gate.approver_roles, *gate.stand_in_roles}) & {agency.pk}
    )
    managers = partnership_members(partnership, [Role.BUSINESS_MANAGER])
    contact = (
        f"{' or '.join(p.full_name for p in managers)}, the business manager of {partnership.name}"
        if managers
        else f"the business manager of {partnership.name}"
    )
    return (
        f"Stage {target.number} ({target.name}) needs the approval of "
        f"{gate.approvers_in_words} of {agency.name}, and {agency.name} has no active "
        f"{gate.everyone_in_words} in the portal{' other than you' if yours else ''} who could "
        f"approve it instead. Nothing was changed: the escalation stays at stage "
        f"{escalation.stage.number}. Contact {contact}, to have "
        f"{gate.approvers_in_words} of {agency.name} added to the portal, then "
        "escalate again."
    )


def request_note(escalation) -> str:
    """What a request put to stand-ins says about it, from the escalation's typed request
    (approval_asked_as, approval_asked_of): '{agency} has no active safeguarding lead:
    approval asked in the absence of a safeguarding lead of its senior manager, Dan Dale.'
    '' for a request put to the approvers themselves."""
    gate = pending_gate(escalation)
    role = escalation.approval_asked_as
    if not role or not gate.is_stand_in(role):
        return ""
    return (
        f"{escalation.raising_agency.name} has no active {gate.approver_names}: approval asked "
        f"{gate.absence_in_words} of {escalation.approval_asked_of}."
    )


# --- queues, counts and the sweep -------------------------------------------------------------


def approver_condition(person: Person) -> Q:
    """The escalations whose pending request this person may decide, as a condition on the
    escalation (raising_agency, approval_requested_by), for a filter or a filtered count: the
    rule of may_decide. The caller adds the awaiting-approval state."""
    gate = LEAD_GATE  # every gate today (GATES); per-gate conditions go here when gates differ
    approving: set[int] = set()
    tiers: dict[int, int] = {}
    for m in person.memberships.all():
        if not m.agency_id:
            continue
        if m.role in gate.approver_roles:
            approving.add(m.agency_id)
        elif m.role in gate.stand_in_roles:
            tier = gate.stand_in_roles.index(m.role)
            tiers[m.agency_id] = min(tier, tiers.get(m.agency_id, tier))
    others = Membership.objects.filter(
        agency=OuterRef("raising_agency"),
        person__user__is_active=True,
        role__in=[*gate.approver_roles, *gate.stand_in_roles],
    ).exclude(person=OuterRef("approval_requested_by"))
    mine = Q(raising_agency__in=approving) & (~Q(approval_requested_by=person) | ~Exists(others))
    standing_in = {agency: tier for agency, tier in tiers.items() if agency not in approving}
    if not standing_in:
        return mine
    active = Membership.objects.filter(
        agency=OuterRef("raising_agency"), person__user__is_active=True
    )
    absent = ~Exists(
        active.filter(role__in=gate.approver_roles).exclude(
            person=OuterRef("approval_requested_by")
        )
    ) & ~Q(approval_requested_by=person)
    for tier in range(len(gate.stand_in_roles)):
        agencies = {agency for agency, t in standing_in.items() if t == tier}
        if not agencies:
            continue
        condition = Q(raising_agency__in=agencies) & absent
        for earlier in gate.stand_in_roles[:tier]:
            condition &= ~Exists(
                active.filter(role=earlier).exclude(person=OuterRef("approval_requested_by"))
            )
        mine |= condition
    return mine


def without_approvers() -> Q:
    """Escalations whose raising agency has no active approver for their gate: the stand-ins
    decide (the sweep tells them)."""
    gate = LEAD_GATE
    approvers_there = Membership.objects.filter(
        agency=OuterRef("raising_agency"),
        role__in=gate.approver_roles,
        person__user__is_active=True,
    ).exclude(person=OuterRef("approval_requested_by"))
    return ~Exists(approvers_there)


def may_open_queue(person: Person) -> bool:
    """The approvals queue (and its link in the navigation) is for approvers, and for the
    stand-ins of an agency that has no active approver. One query, and only for a stand-in
    who is not an approver."""
    gate = LEAD_GATE
    memberships = list(person.memberships.all())
    if any(m.agency_id and m.role in gate.approver_roles for m in memberships):
        return True
    managed = {m.agency_id for m in memberships if m.agency_id and m.role in gate.stand_in_roles}
    if not managed:
        return False
    with_an_approver = Membership.objects.filter(
        agency_id__in=managed, role__in=gate.approver_roles, person__user__is_active=True
    ).values_list("agency_id", flat=True)
    return len(managed) > len(set(with_an_approver))
