"""The isolation matrix: every person, in every relationship to an escalation, gets exactly the
answer the oracle (tests/security/oracle.py, from SPEC section 3) expects.

This first version covers what exists on this branch: the escalation queryset every view must
use (visible_to), the audit log's entries, the audit pages and the admin. Pages for escalations,
actions, PDFs, exports and dashboards join the matrix when they merge (ESCALATION_URLS below).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from audit.models import AuditEntry
from escalations.models import Escalation
from tests.security.oracle import may_open_audit_log, may_read_audit_entry, may_see, may_use_admin
from tests.security.world_matrix import (
    audit_entries,
    audit_entry_facts,
    build_escalations,
    client_for,
    escalation_facts,
    people,
    person_facts,
)

pytestmark = pytest.mark.django_db

# URL patterns that show or change one escalation, filled in as pages merge:
# name -> a function (escalation) -> path. Each is tried for every person and escalation.
ESCALATION_URLS: dict[str, object] = {
    "admin change page": lambda esc: f"/admin/escalations/escalation/{esc.pk}/change/",
    # A draft has no reference, so no page of its own beyond the raise journey.
    "record PDF": lambda esc: esc.reference and f"/escalations/{esc.reference}/record.pdf",
    "record copies": lambda esc: esc.reference and f"/escalations/{esc.reference}/records/",
}


@dataclass
class Tally:
    cells: int = 0
    unexpected_allows: list[str] = field(default_factory=list)
    unexpected_denies: list[str] = field(default_factory=list)

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


@pytest.fixture
def matrix(world):
    escalations = build_escalations(world)
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


def test_every_page_answers_every_person_as_the_oracle_expects(matrix):
    escalations, persons = matrix
    tally = Tally()
    visitors = [("anonymous", None, True)] + [
        (f"{who}{'' if verified else ' (no second factor)'}", person, verified)
        for who, person in persons.items()
        for verified in (True, False)
    ]
    for who, person, verified in visitors:
        client = client_for(person, verified=verified)
        facts = person_facts(person, verified=verified) if person else None
        response = client.get("/audit/")
        expected = may_open_audit_log(facts)
        tally.check(f"{who} / audit log", expected=expected, actual=response.status_code == 200)
        if not expected and facts and facts.active and facts.second_factor_verified:
            assert response.status_code == 404, f"{who}: refused with 404, never 403"
        for what, esc in escalations.items():
            for page, path_for in ESCALATION_URLS.items():
                path = path_for(esc)
                if not path:
                    continue
                response = client.get(path)
                staff = bool(person and person.user.is_staff)
                expected = (
                    may_use_admin(facts, staff=staff)
                    if page.startswith("admin")
                    else may_see(facts, escalation_facts(esc))
                )
                tally.check(
                    f"{who} / {page} / {what}",
                    expected=expected,
                    actual=response.status_code == 200,
                )
    tally.report("pages")
