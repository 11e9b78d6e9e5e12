"""Escalations in every relationship the isolation matrix needs, and facts about them read
from what happened (never from the app's visibility rules)."""

from __future__ import annotations

from datetime import date

from django.test import Client

from audit.log import record
from audit.models import AuditEntry
from escalations import services
from escalations.models import Escalation, EventKind, Notice, NoticeKind, State
from escalations.record import services as record_services
from policies.models import Role
from tests.factories import (
    AwaitingApprovalEscalationFactory,
    DraftEscalationFactory,
    OpenEscalationFactory,
    ResolvedEscalationFactory,
    WithdrawnEscalationFactory,
)
from tests.helpers import sign_in
from tests.personas import World, make_person
from tests.security.oracle import AuditEntryFacts, EscalationFacts, PersonFacts


def partnership_stage(partnership) -> int:
    return min(
        s.number for s in partnership.current_ladder.escalation_stages() if s.brings_in_partnership
    )


def build_escalations(world: World) -> dict[str, Escalation]:
    w = world
    shared = OpenEscalationFactory()
    services.share_with_partnership(shared, by=w.carol, reason="For the partnership's view.")
    with_participant = OpenEscalationFactory()
    services.add_participant(with_participant, by=w.alice, person=w.charlie, reason="Health view")
    withdrawn = WithdrawnEscalationFactory(by=w.bob, why_withdrawn="Settled by a phone call.")
    awaiting = AwaitingApprovalEscalationFactory()  # Alice asked Carol
    resolved = ResolvedEscalationFactory(
        category="upheld",
        summary="CSC will reconsider the referral.",
        actions=[services.ActionItem("Reassess", "Frank Ford", date(2099, 1, 1))],
    )

    def berkshire(**overrides):
        return OpenEscalationFactory(
            by=w.oscar,
            child=services.ChildDetails(home_partnership=w.berkshire, given_names="Ada"),
            receiving_agency=w.constabulary,
            receiving_person=None,
            natures=["information_sharing"],
            details="Police have not shared the incident log.",
            outcome_sought="The log is shared.",
            interim_safety="The school watches over Ada.",
            **overrides,
        )

    return {
        "open at stage 1": OpenEscalationFactory(),
        "no person named on the receiving side": OpenEscalationFactory(receiving_person=None),
        "draft": DraftEscalationFactory(),
        "shared with the partnership": Escalation.objects.get(pk=shared.pk),
        "at the partnership stage": OpenEscalationFactory(
            immediate_risk=True, start_stage_number=partnership_stage(w.kirklees)
        ),
        "with a person added": Escalation.objects.get(pk=with_participant.pk),
        "withdrawn": withdrawn,
        "awaiting a lead's approval": awaiting,
        "resolved, an action outstanding": resolved,
        "received by the agency in two partnerships": OpenEscalationFactory(
            receiving_agency=w.constabulary, receiving_person=None
        ),
        "by a one-person group": OpenEscalationFactory(
            by=w.robin, receiving_agency=w.health, receiving_person=w.charlie
        ),
        "other partnership, agency in two": berkshire(),
        "other partnership, partnership stage": berkshire(
            immediate_risk=True, start_stage_number=partnership_stage(w.berkshire)
        ),
    }


def freeze_records() -> None:
    """Render the frozen copies the partnership-stage escalations are due (records/<n>.pdf)."""
    record_services.freeze_due_records()


def notices_for_everyone(persons: dict, escalations: dict[str, Escalation]) -> dict:
    """A notice for every person about every escalation, as if each had been told of each:
    (person name, escalation name) -> notice. The notices page must still list only those
    about escalations the person may see."""
    notices = {}
    for who, person in persons.items():
        for what, esc in escalations.items():
            notices[who, what] = Notice.objects.create(
                escalation=esc,
                kind=NoticeKind.REMINDER,
                recipient=person,
                key=f"matrix:{esc.pk}:{person.pk}",
            )
    return notices


def extra_people(world: World) -> dict:
    """Sam, a practitioner at the school who takes part in nothing; Vic, a deactivated line
    manager at the school, who would otherwise see all its escalations."""
    sam = make_person("sam", "Sam Stone", (world.school, Role.PRACTITIONER, "Teaching Assistant"))
    vic = make_person("vic", "Vic Vale", (world.school, Role.LINE_MANAGER, "Former Deputy Head"))
    vic.user.is_active = False
    vic.user.save()
    return {"sam (same agency, no part)": sam, "vic (deactivated)": vic}


def people(world: World) -> dict:
    names = [
        "alice", "bob", "carol", "dan", "erin", "frank", "grace", "heidi", "ivan", "judy",
        "kim", "charlie", "mallory", "oscar", "pat", "robin",
    ]  # fmt: skip
    return {name: getattr(world, name) for name in names} | extra_people(world)


def person_facts(person, *, verified: bool = True) -> PersonFacts:
    memberships = list(person.memberships.all())
    return PersonFacts(
        id=person.pk,
        active=person.user.is_active,
        second_factor_verified=verified,
        agency_roles=frozenset((m.role, m.agency_id) for m in memberships if m.agency_id),
        partnership_roles=frozenset(
            (m.role, m.partnership_id) for m in memberships if m.partnership_id
        ),
    )


def escalation_facts(esc: Escalation) -> EscalationFacts:
    return EscalationFacts(
        partnership=esc.partnership_id,
        raising_agency=esc.raising_agency_id,
        receiving_agency=esc.receiving_agency_id,
        raised_by=esc.raised_by_id,
        challenged=esc.receiving_person_id,
        holder=esc.holder_id,
        added=frozenset(esc.participants.values_list("person_id", flat=True)),
        draft=esc.state == State.DRAFT,
        reached_partnership_stage=esc.episodes.filter(stage__brings_in_partnership=True).exists(),
        shared_with_partnership=esc.events.filter(kind=EventKind.SHARED).exists(),
    )


def audit_entries(escalations: dict[str, Escalation]) -> dict[str, AuditEntry]:
    return {
        name: record(None, kind=AuditEntry.Kind.READ, what="escalation page", escalation=esc)
        for name, esc in escalations.items()
    }


def audit_entry_facts(esc: Escalation) -> AuditEntryFacts:
    return AuditEntryFacts(
        partnership=esc.partnership_id,
        agencies=frozenset({esc.raising_agency_id, esc.receiving_agency_id}),
    )


def client_for(person, *, verified: bool) -> Client:
    client = Client()
    if person is not None:
        sign_in(client, person, second_factor=verified)
    return client


def relationship(person, verified: bool, esc: Escalation) -> str:
    """The person's relationship to the escalation, in the issue's words: for checking that the
    matrix tries every URL in every relationship (never to decide what they may see)."""
    if person is None:
        return "anonymous"
    if not person.user.is_active:
        return "deactivated"
    if not verified:
        return "no second factor"
    if person.pk in {esc.raised_by_id, esc.receiving_person_id, esc.holder_id} or (
        esc.participants.filter(person=person).exists()
    ):
        return "own (takes part)"
    memberships = list(person.memberships.select_related("agency"))
    agencies = {m.agency_id: m for m in memberships if m.agency_id}
    parties = {esc.raising_agency_id, esc.receiving_agency_id}
    if parties & set(agencies):
        agency = agencies[next(iter(parties & set(agencies)))].agency
        two = " (agency in two partnerships)" if agency.partnerships.count() > 1 else ""
        side = "own agency" if esc.raising_agency_id in agencies else "other agency (party)"
        return f"{side}{two}"
    partnership_roles = {m.partnership_id for m in memberships if m.partnership_id}
    if esc.partnership_id in partnership_roles:
        brought_in = esc.episodes.filter(stage__brings_in_partnership=True).exists()
        shared = esc.events.filter(kind=EventKind.SHARED).exists()
        if brought_in or shared:
            return "partnership, after its stage (or shared)"
        return "partnership, before its stage"
    partnerships = set(partnership_roles)
    for m in memberships:
        if m.agency_id:
            partnerships |= set(m.agency.partnerships.values_list("pk", flat=True))
    if esc.partnership_id in partnerships:
        return "other agency, same partnership"
    return "other partnership"


def administrators(world: World) -> dict:
    """Yan, Berkshire's partnership administrator, so that the matrix of the administration
    pages meets an administrator of another partnership (they share the constabulary)."""
    yan = make_person(
        "yan", "Yan Young", (world.berkshire, Role.PARTNERSHIP_ADMIN, "Administrator")
    )
    return {"yan (berkshire admin)": yan}


def agency_partnerships() -> dict[int, frozenset[int]]:
    """Each agency's partnerships, as plain values for the oracle."""
    from cases.models import Agency

    found: dict[int, set[int]] = {}
    for agency_id, partnership_id in Agency.partnerships.through.objects.values_list(
        "agency_id", "partnership_id"
    ):
        found.setdefault(agency_id, set()).add(partnership_id)
    return {a: frozenset(p) for a, p in found.items()}
