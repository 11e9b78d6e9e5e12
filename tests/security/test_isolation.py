"""The isolation matrix: every person, in every relationship to an escalation, gets exactly the
answer the oracle (tests/security/oracle.py, from SPEC section 3) expects, on every URL that
shows or changes an escalation.

People (tests/personas.py plus world_matrix.extra_people) are each tried signed in with and
without a second factor; anonymous is tried too. Escalations (world_matrix.build_escalations)
cover: own, own agency, other agency, other partnership, an agency in two partnerships, before
and after the partnership stage, shared, with a person added, drafts, approval, resolved with an
action, withdrawn. URLs: the escalation page, its confirmation, every action (GET and POST),
marking an outcome action done, the record PDF, its frozen copies and their list, the notices
about it; the lists that show it (home, agency list, approvals, notices, the partnership's
dashboard, list, report, annual return and CSV exports); and the admin.

A refusal to a signed-in person is exactly the 404 a reference that does not exist gets (same
status, same body), and a refused POST changes nothing. Each test prints
"<what>: N cells tried, 0 unexpected allows, 0 unexpected denies".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import pytest
from django.core.cache import cache, caches
from django.db.models import Count, Q

from audit.models import AuditEntry
from escalations.models import Escalation, State
from escalations.views.actions import PAGES as ACTION_PAGES
from tests.security.oracle import (
    AGENCY_OVERSIGHT,
    may_open_audit_log,
    may_open_partnership_figures,
    may_read_audit_entry,
    may_see,
    may_use_admin,
)
from tests.security.world_matrix import (
    audit_entries,
    audit_entry_facts,
    build_escalations,
    client_for,
    escalation_facts,
    freeze_records,
    notices_for_everyone,
    people,
    person_facts,
    relationship,
)

pytestmark = pytest.mark.django_db

# A reference no escalation has: every refusal must look exactly like asking for it.
MISSING = "KIR-2099-99999"
REFERENCE = re.compile(r"\b[A-Z]{3}-\d{4}-\d{5}\b")
# Every action slug the portal has, so that a new one joins the matrix by itself.
SLUGS = sorted(ACTION_PAGES)
# How many action slugs each (visitor, escalation) pair tries by GET and by POST, rotating; on
# top of these, each relationship tries every slug the first time it is met.
SLUGS_PER_PAIR = 1

# Every field any action form asks for, filled in validly: a refused POST must be refused for who
# is asking, not because the form was incomplete.
VALID_FORM = {
    "kind": "discussion",
    "body": "Spoke with the other agency.",
    "summary": "Agreed to reconsider.",
    "reason": "Still no reply.",
    "comments": "Agreed.",
    "informed": "yes",
    "learning": "None identified.",
    "policy_gap": "",
    "declined_reason": "Not needed.",
    "category": "upheld",
    "raiser_satisfied": "yes",
    **{
        f"{name}-{part}": value
        for name in ("happened_on", "responded_on", "held_on")
        for part, value in (("day", "2"), ("month", "11"), ("year", "2026"))
    },
}


@dataclass
class Tally:
    cells: int = 0
    unexpected_allows: list[str] = field(default_factory=list)
    unexpected_denies: list[str] = field(default_factory=list)
    # Refusals that differ from the answer for a missing record, or refused changes that left
    # a trace: leaks all the same.
    wrong_refusals: list[str] = field(default_factory=list)

    def check(self, label: str, *, expected: bool, actual: bool) -> None:
        self.cells += 1
        if actual and not expected:
            self.unexpected_allows.append(label)
        if expected and not actual:
            self.unexpected_denies.append(label)

    def report(self, what: str) -> None:
        print(
            f"\n{what}: {self.cells} cells tried, {len(self.unexpected_allows)} unexpected allows,"
            f" {len(self.unexpected_denies)} unexpected denies"
        )
        assert self.unexpected_allows == [], "\n".join(self.unexpected_allows)
        assert self.unexpected_denies == [], "\n".join(self.unexpected_denies)
        assert self.wrong_refusals == [], "\n".join(self.wrong_refusals)


@dataclass
class Visitor:
    label: str
    person: object  # a Person, or None for anonymous
    verified: bool

    def __post_init__(self):
        self.client = client_for(self.person, verified=self.verified)
        self.facts = person_facts(self.person, verified=self.verified) if self.person else None
        self._missing: dict[tuple[str, str], object] = {}

    @property
    def signed_in(self) -> bool:
        """Signed in with both factors and active: refused with the 404 page, not a sign-in."""
        return bool(self.facts and self.facts.active and self.facts.second_factor_verified)

    def request(self, method: str, path: str, data=None):
        if method == "POST":
            return self.client.post(path, data or {})
        return self.client.get(path)

    def missing(self, method: str, path: str):
        """The answer for the same kind of URL about a reference that does not exist."""
        key = (method, path)
        if key not in self._missing:
            self._missing[key] = self.request(method, path, VALID_FORM)
        return self._missing[key]


def same_answer(response, missing) -> bool:
    """Status and body as for a missing record (a redirect: to the same place, bar ?next=)."""
    if response.status_code != missing.status_code:
        return False
    if response.status_code in (301, 302):
        return response["Location"].split("?")[0] == missing["Location"].split("?")[0]
    return without_csrf(response.content) == without_csrf(missing.content)


def without_csrf(content: bytes) -> bytes:
    """The page less its CSRF token, masked afresh on every response, and less the header's
    count of unread notices, which marking one read changes."""
    content = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)
    return re.sub(rb"Notifications \(\d+\)", b"Notifications", content)


def visitors(persons: dict) -> list[Visitor]:
    return [Visitor("anonymous", None, True)] + [
        Visitor(f"{who}{'' if verified else ' (no second factor)'}", person, verified)
        for who, person in persons.items()
        for verified in (True, False)
    ]


def refused_as_missing(tally, label, visitor, response, method, missing_path) -> None:
    missing = visitor.missing(method, missing_path)
    if visitor.signed_in and response.status_code != 404:
        tally.wrong_refusals.append(f"{label}: refused with {response.status_code}, not 404")
    elif not same_answer(response, missing):
        tally.wrong_refusals.append(
            f"{label}: refused unlike a missing record ({response.status_code} vs"
            f" {missing.status_code})"
        )


def footprint(esc: Escalation) -> tuple:
    """What any change to the escalation would move: state, revision, events, actions done,
    and the audit log's changes."""
    state = (
        Escalation.objects.filter(pk=esc.pk)
        .annotate(
            n_events=Count("events", distinct=True),
            n_done=Count("actions", filter=Q(actions__done_on__isnull=False), distinct=True),
        )
        .values_list("state", "revision", "n_events", "n_done")
        .get()
    )
    return state, AuditEntry.objects.filter(kind=AuditEntry.Kind.CHANGE).count()


@pytest.fixture
def matrix(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    caches["shared"].clear()
    escalations = build_escalations(world)
    freeze_records()
    return escalations, people(world)


def test_visible_to_answers_every_person_and_relationship_as_the_oracle_does(matrix):
    escalations, persons = matrix
    tally = Tally()
    for who, person in persons.items():
        seen = set(Escalation.objects.visible_to(person.user).values_list("pk", flat=True))
        facts = person_facts(person)
        for what, esc in escalations.items():
            tally.check(
                f"{who} / {what}",
                expected=may_see(facts, escalation_facts(esc)),
                actual=esc.pk in seen,
            )
    for what, esc in escalations.items():
        tally.check(
            f"anonymous / {what}",
            expected=may_see(None, escalation_facts(esc)),
            actual=Escalation.objects.visible_to(None).filter(pk=esc.pk).exists(),
        )
    tally.report("escalation visibility (queryset)")


def test_the_audit_log_shows_each_person_exactly_the_entries_the_oracle_allows(matrix):
    escalations, persons = matrix
    entries = audit_entries(escalations)
    tally = Tally()
    for who, person in persons.items():
        active = person.user.is_active
        shown = set(
            AuditEntry.objects.visible_to(person if active else None).values_list("pk", flat=True)
        )
        facts = person_facts(person)
        for what, entry in entries.items():
            tally.check(
                f"{who} / audit entry for {what}",
                expected=may_read_audit_entry(facts, audit_entry_facts(escalations[what])),
                actual=entry.pk in shown,
            )
    tally.report("audit entries")


# Pages about one escalation, read by GET: name -> path for a reference.
ESCALATION_PAGES = {
    "escalation page": "/escalations/{ref}/",
    "raised confirmation": "/escalations/{ref}/raised/",
    "record PDF": "/escalations/{ref}/record.pdf",
    "record copies": "/escalations/{ref}/records/",
    "record copy v1": "/escalations/{ref}/records/1.pdf",
}
# Rendering the record PDF takes a quarter of a second: where the oracle allows it, it is
# rendered for the first visitor of each relationship and for the first visitor of each
# escalation. Every refusal is tried.
EXPENSIVE_WHEN_ALLOWED = {"record PDF"}


def pairs(escalations: dict, persons: dict):
    """(visitor, escalation name, escalation, relationship): anonymous and everyone signed in
    with both factors meet every escalation. Someone without a second factor, or deactivated,
    is turned away before any escalation is looked at; they meet the escalations they would
    see with a second factor and active (where a slip would leak), and one they would not."""
    for visitor in visitors(persons):
        would_see = None
        if visitor.person is not None and not visitor.signed_in:
            whole = replace(visitor.facts, active=True, second_factor_verified=True)
            would_see = {w for w, e in escalations.items() if may_see(whole, escalation_facts(e))}
            would_see.add(next(w for w in escalations if w not in would_see))
        for what, esc in escalations.items():
            if would_see is None or what in would_see:
                yield visitor, what, esc, relationship(visitor.person, visitor.verified, esc)


def test_every_escalation_page_answers_every_person_as_the_oracle_expects(matrix):
    escalations, persons = matrix
    tally = Tally()
    with_copy = {
        what for what, esc in escalations.items() if esc.record_copies.filter(version=1).exists()
    }
    assert {"at the partnership stage", "other partnership, partnership stage"} <= with_copy
    relationships: dict[str, set[str]] = {}
    rendered: set[str] = set()
    for visitor in visitors(persons):
        label = f"{visitor.label} / audit log"
        response = visitor.client.get("/audit/")
        expected = may_open_audit_log(visitor.facts)
        tally.check(label, expected=expected, actual=response.status_code == 200)
        if not expected and visitor.signed_in and response.status_code != 404:
            tally.wrong_refusals.append(f"{label}: refused with {response.status_code}, not 404")
    admin_tried: set[tuple[str, str]] = set()
    for visitor, what, esc, rel in pairs(escalations, persons):
        if (visitor.label, rel) not in admin_tried:  # staff only: once per relationship
            admin_tried.add((visitor.label, rel))
            staff = bool(visitor.person and visitor.person.user.is_staff)
            path = f"/admin/escalations/escalation/{esc.pk}/change/"
            tally.check(
                f"{visitor.label} / admin change page / {what}",
                expected=may_use_admin(visitor.facts, staff=staff),
                actual=visitor.client.get(path).status_code == 200,
            )
        if not esc.reference:
            continue  # a draft has no page of its own beyond the raise journey
        sees = may_see(visitor.facts, escalation_facts(esc))
        for page, pattern in ESCALATION_PAGES.items():
            expected = sees and (page != "record copy v1" or what in with_copy)
            if page == "record copy v1" and what not in with_copy and not sees:
                continue  # no copy to refuse: everyone gets the missing copy's 404
            if expected and page in EXPENSIVE_WHEN_ALLOWED:
                if (rel, page) in rendered and (what, page) in rendered:
                    continue
                rendered |= {(rel, page), (what, page)}
            relationships.setdefault(rel, set()).add(page)
            label = f"{visitor.label} / {page} / {what} ({rel})"
            response = visitor.client.get(pattern.format(ref=esc.reference))
            tally.check(label, expected=expected, actual=response.status_code == 200)
            if not expected:
                refused_as_missing(
                    tally, label, visitor, response, "GET", pattern.format(ref=MISSING)
                )
    assert all(
        pages >= set(ESCALATION_PAGES) - {"record copy v1"} for pages in relationships.values()
    )
    print(f"\nrelationships tried: {', '.join(sorted(relationships))}")
    tally.report("escalation pages")


def rotation(index: int, shift: int, size: int) -> list[str]:
    start = (index + shift) * size
    return [SLUGS[(start + k) % len(SLUGS)] for k in range(size)]


def answered(visitor: Visitor, response) -> bool:
    """Not turned away: a page, or (signed in) a redirect after a change or a refusal of the
    action to someone who may see the record."""
    if visitor.signed_in:
        return response.status_code in (200, 302, 403)
    return response.status_code == 200


def try_refused_change(tally, visitor, label, esc, method, path, missing_path, data) -> None:
    """Who may not see the escalation: the missing record's answer, and nothing changed."""
    before = footprint(esc)
    response = visitor.request(method, path, {**data, "revision": before[0][1]})
    tally.check(label, expected=False, actual=answered(visitor, response))
    refused_as_missing(tally, label, visitor, response, method, missing_path)
    if method == "POST" and footprint(esc) != before:
        tally.wrong_refusals.append(f"{label}: a refused POST changed the escalation")


def test_every_action_answers_every_person_as_the_oracle_expects(matrix):
    """GET and POST on every action slug: who may not see the escalation gets the missing
    record's 404 and changes nothing; who may see it is answered (a form, with errors for an
    empty POST; or, on GET, that action refused to someone who may see the record).

    Each (visitor, escalation) tries a rotating few slugs, and every slug that its relationship
    has not met yet, so every relationship meets every slug by GET and by POST."""
    escalations, persons = matrix
    tally = Tally()
    covered: dict[str, set[tuple[str, str]]] = {}
    resolved = escalations["resolved, an action outstanding"]
    outcome_action = resolved.actions.get()
    for n, (visitor, what, esc, rel) in enumerate(pairs(escalations, persons)):
        if not esc.reference:
            continue
        sees = may_see(visitor.facts, escalation_facts(esc))
        seen = covered.setdefault(rel, set())
        tries = [("GET", s) for s in rotation(n, 0, SLUGS_PER_PAIR)]
        tries += [("POST", s) for s in rotation(n, 7, SLUGS_PER_PAIR)]
        tries += [(m, s) for m in ("GET", "POST") for s in SLUGS if (m, s) not in seen]
        for method, slug in dict.fromkeys(tries):
            seen.add((method, slug))
            label = f"{visitor.label} / {method} {slug} / {what} ({rel})"
            path = f"/escalations/{esc.reference}/{slug}/"
            if sees:
                response = visitor.request(method, path)
                allowed = response.status_code == 200 or (
                    method == "GET" and response.status_code == 403
                )
                tally.check(label, expected=True, actual=allowed)
            else:
                missing = f"/escalations/{MISSING}/{slug}/"
                try_refused_change(tally, visitor, label, esc, method, path, missing, VALID_FORM)
        if esc.pk == resolved.pk:  # the one escalation with an outcome action to mark done
            label = f"{visitor.label} / POST mark action done / {what} ({rel})"
            path = f"/escalations/{esc.reference}/actions/{outcome_action.pk}/done/"
            if sees:
                response = visitor.request("POST", path)  # no revision: the form again
                tally.check(label, expected=True, actual=response.status_code == 200)
            else:
                missing = f"/escalations/{MISSING}/actions/{outcome_action.pk}/done/"
                try_refused_change(tally, visitor, label, esc, "POST", path, missing, {})
    everything = {(m, s) for m in ("GET", "POST") for s in SLUGS}
    assert all(seen == everything for seen in covered.values())
    print(f"\nrelationships tried: {', '.join(sorted(covered))}")
    tally.report("escalation actions")


def references(response) -> set[str]:
    return set(REFERENCE.findall(response.content.decode()))


def oversees(facts, esc: Escalation) -> bool:
    parties = {esc.raising_agency_id, esc.receiving_agency_id}
    return any(r in AGENCY_OVERSIGHT and a in parties for r, a in facts.agency_roles)


def leads_raising_agency(facts, esc: Escalation) -> bool:
    """A safeguarding lead or line manager of the raising agency: Kirklees' gate is agreed by
    "the challenging agency's Safeguarding Lead and/ or the relevant Line Manager"."""
    return any(
        (role, esc.raising_agency_id) in facts.agency_roles
        for role in ("safeguarding_lead", "line_manager")
    )


# The person's own lists: name -> (path, who may open it, which escalations it must list, which
# it may list). Every list may list only escalations the oracle lets the person see; what each
# must list is what the page is for (SPEC sections 2 and 3).
PERSONAL_LISTS = {
    # My escalations: at least every challenge I raised.
    "home": ("/", lambda f: True, lambda f, e: e.raised_by_id == f.id, lambda f, e: True),
    # Managers, leads and senior roles: every escalation to which their agency is a party.
    "agency escalations": (
        "/agency/escalations/",
        lambda f: any(r in AGENCY_OVERSIGHT for r, _ in f.agency_roles),
        oversees,
        oversees,
    ),
    # A safeguarding lead or line manager agrees a formal escalation from their agency (not
    # their own request, where anyone else can).
    "approvals": (
        "/approvals/",
        lambda f: any(r in ("safeguarding_lead", "line_manager") for r, _ in f.agency_roles),
        lambda f, e: (
            e.state == State.AWAITING_APPROVAL
            and leads_raising_agency(f, e)
            and e.approval_requested_by_id != f.id
        ),
        lambda f, e: e.state == State.AWAITING_APPROVAL and leads_raising_agency(f, e),
    ),
    # Everyone has a notice about every escalation (notices_for_everyone): the page lists those
    # about escalations they may see.
    "notifications": ("/notifications/", lambda f: True, lambda f, e: True, lambda f, e: True),
}
# A partnership's pages: name -> (path, which of the partnership's escalations it must list by
# reference, which it may). Who may open them is may_open_partnership_figures.
PARTNERSHIP_PAGES = {
    "escalation list": ("/partnerships/{slug}/escalations/", lambda e: True, lambda e: True),
    "escalation list CSV": (
        "/partnerships/{slug}/escalations/export.csv",
        lambda e: True,
        lambda e: True,
    ),
    "report": (
        "/partnerships/{slug}/report/",
        lambda e: escalation_facts(e).reached_partnership_stage,
        lambda e: escalation_facts(e).reached_partnership_stage,
    ),
    "dashboard": ("/partnerships/{slug}/dashboard/", lambda e: False, lambda e: True),
    "learning CSV": (
        "/partnerships/{slug}/dashboard/learning.csv",
        lambda e: False,
        lambda e: True,
    ),
    "annual return": ("/partnerships/{slug}/annual-return/", lambda e: False, lambda e: True),
}


def check_listed(tally, label, *, shown: bool, must: bool, may: bool) -> None:
    """Listed only if allowed (else an unexpected allow), and listed where it must be."""
    tally.check(label, expected=must or (shown and may), actual=shown)


def test_every_list_shows_each_person_exactly_the_escalations_the_oracle_allows(matrix, world):
    escalations, persons = matrix
    notices = notices_for_everyone(persons, escalations)
    named = {what: esc for what, esc in escalations.items() if esc.reference}
    partnerships = {"kirklees": world.kirklees, "berkshire": world.berkshire}
    tally = Tally()
    for visitor in visitors(persons):
        facts = visitor.facts
        for page, (path, opens, must_list, may_list) in PERSONAL_LISTS.items():
            response = visitor.client.get(path)
            expected = visitor.signed_in and opens(facts)
            tally.check(
                f"{visitor.label} / {page}", expected=expected, actual=response.status_code == 200
            )
            if response.status_code != 200:
                continue
            shown = references(response)
            for what, esc in named.items():
                sees = may_see(facts, escalation_facts(esc))
                check_listed(
                    tally,
                    f"{visitor.label} / {page} lists {what}",
                    shown=esc.reference in shown,
                    must=sees and must_list(facts, esc),
                    may=sees and may_list(facts, esc),
                )
        for slug, partnership in partnerships.items():
            for page, (pattern, must_list, may_list) in PARTNERSHIP_PAGES.items():
                label = f"{visitor.label} / {slug} {page}"
                response = visitor.client.get(pattern.format(slug=slug))
                expected = may_open_partnership_figures(facts, partnership.pk)
                tally.check(label, expected=expected, actual=response.status_code == 200)
                if not expected:
                    missing = pattern.format(slug="nowhere")
                    refused_as_missing(tally, label, visitor, response, "GET", missing)
                    continue
                shown = references(response)
                for what, esc in named.items():
                    ours = esc.partnership_id == partnership.pk
                    sees = ours and may_see(facts, escalation_facts(esc))
                    check_listed(
                        tally,
                        f"{label} lists {what}",
                        shown=esc.reference in shown,
                        must=sees and must_list(esc),
                        may=sees and may_list(esc),
                    )
        if not visitor.signed_in:
            continue
        # Marking a notice read: one's own about an escalation one may see; anything else is
        # the missing notice's 404.
        who = next(w for w, p in persons.items() if p == visitor.person)
        other = next(w for w in persons if w != who)
        for n, (what, esc) in enumerate(escalations.items()):
            sees = may_see(facts, escalation_facts(esc))
            # Another's notice: about a different escalation for each visitor.
            others = [(other, False)] if n == list(persons).index(who) % len(escalations) else []
            for whose, expected in [(who, sees), *others]:
                label = f"{visitor.label} / mark read {whose}'s notice about {what}"
                path = f"/notifications/{notices[whose, what].pk}/read/"
                response = visitor.request("POST", path)
                tally.check(label, expected=expected, actual=response.status_code == 302)
                if not expected:
                    missing = "/notifications/999999999/read/"
                    refused_as_missing(tally, label, visitor, response, "POST", missing)
    tally.report("escalation lists, notices, dashboards and exports")
