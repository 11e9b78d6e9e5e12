"""The isolation matrix extended to the case-system API: a token of every agency, asked about
every escalation of the matrix (tests/security/world_matrix.py) on every endpoint, gets
exactly the answer the oracle (tests/security/oracle.py, from SPEC section 3) gives that
agency's safeguarding lead, who takes part in nothing: the same oracle as the pages.

A refusal is exactly the 404 a reference that does not exist gets (same status, same body), a
refused PUT records nothing, and the lists (changes since a cursor; a child's escalations by
case reference) name only what the oracle allows."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.utils import timezone

from api import tokens
from api.models import CaseReference
from cases.models import Agency
from escalations.models import State
from tests.api.conftest import api_client
from tests.factories import OpenEscalationFactory
from tests.security.oracle import PersonFacts, may_see
from tests.security.world_matrix import build_escalations, escalation_facts, freeze_records

pytestmark = pytest.mark.django_db

MISSING = "KIR-2099-99999"
NO_ONE = -1


def lead_facts(agency) -> PersonFacts:
    """The token, as the oracle sees it: its agency's safeguarding lead, taking part in
    nothing."""
    return PersonFacts(id=NO_ONE, agency_roles=frozenset({("safeguarding_lead", agency.pk)}))


def endpoints(reference: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", f"/api/v1/escalations/{reference}/", None),
        ("get", f"/api/v1/escalations/{reference}/record.pdf", None),
        ("put", f"/api/v1/escalations/{reference}/case-reference/", {"case_reference": "C-1"}),
    ]


def ask(client, method, path, data):
    caches["api"].clear()  # the matrix asks far more often than a real system may
    if method == "put":
        return client.put(path, data, format="json")
    return client.get(path)


def same_as_missing(answer, missing) -> bool:
    return answer.status_code == missing.status_code == 404 and answer.content == missing.content


@pytest.fixture
def api_matrix(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    escalations = build_escalations(world)
    freeze_records()
    agencies = list(Agency.objects.order_by("name"))
    # Every agency has given every escalation its case reference, as if a system had once
    # recorded one it should not have: the list must still show only what the agency may see.
    for agency in agencies:
        for esc in escalations.values():
            if esc.reference:
                CaseReference.objects.create(agency=agency, escalation=esc, reference="CHILD-1")
    return escalations, agencies


def test_every_agency_token_sees_on_every_endpoint_what_the_oracle_allows(world, api_matrix):
    escalations, agencies = api_matrix
    cells, unexpected = 0, []
    for agency in agencies:
        _, secret = tokens.issue(agency, "Matrix", world.kim)
        client = api_client(secret)
        facts = lead_facts(agency)
        missing = {
            (method, path.replace(MISSING, "{}")): ask(client, method, path, data)
            for method, path, data in endpoints(MISSING)
        }
        expected_refs = set()
        for name, esc in escalations.items():
            allowed = may_see(facts, escalation_facts(esc))
            if allowed:
                expected_refs.add(esc.reference)
            if esc.reference is None:  # a draft has no reference yet: nothing to ask by
                assert esc.state == State.DRAFT
                continue
            for method, path, data in endpoints(esc.reference):
                cells += 1
                before = CaseReference.objects.filter(escalation=esc).values_list(
                    "agency_id", "reference"
                )
                before = set(before)
                answer = ask(client, method, path, data)
                label = f"{agency.name} {method.upper()} {path} ({name})"
                if allowed and answer.status_code != 200:
                    unexpected.append(f"{label}: denied with {answer.status_code}")
                elif not allowed:
                    key = (method, path.replace(esc.reference, "{}"))
                    if not same_as_missing(answer, missing[key]):
                        unexpected.append(f"{label}: allowed or refused unlike a missing one")
                    after = set(
                        CaseReference.objects.filter(escalation=esc).values_list(
                            "agency_id", "reference"
                        )
                    )
                    if after != before:
                        unexpected.append(f"{label}: a refused change was recorded")
        # The lists: a child's escalations by case reference, and every change since 0.
        # The PUTs above gave every escalation the agency may see the reference C-1; those it
        # may not see keep CHILD-1.
        cells += 3
        listed = {
            e["reference"]
            for e in ask(client, "get", "/api/v1/children/C-1/escalations/", None).json()
        }
        hidden = ask(client, "get", "/api/v1/children/CHILD-1/escalations/", None).json()
        if hidden:
            unexpected.append(f"{agency.name} child list named {[e['reference'] for e in hidden]}")
        if listed != expected_refs - {None}:
            unexpected.append(
                f"{agency.name} child list: {sorted(listed)} not {sorted(expected_refs)}"
            )
        with time_machine.travel(timezone.now() + timedelta(minutes=5)):
            changed, cursor = set(), 0
            while True:
                page = ask(client, "get", f"/api/v1/changes/?after={cursor}&limit=500", None)
                changed |= {e["escalation"] for e in page.json()["events"]}
                if not page.json()["more"]:
                    break
                cursor = page.json()["next_cursor"]
        # A draft's events are its raiser's alone, and the oracle lets no token see a draft.
        if changed != expected_refs - {None}:
            unexpected.append(
                f"{agency.name} changes: {sorted(changed)} not {sorted(expected_refs)}"
            )
    print(f"\ncase-system API: {cells} cells tried, {len(unexpected)} unexpected answers")
    assert unexpected == [], "\n".join(unexpected)
    assert cells > 100


def test_a_token_of_agency_a_gets_404_for_agency_b_s_escalation_on_every_endpoint(world):
    """Meadow School raised it with the CSC: Berkshire School's token is told nothing, exactly
    as for a reference that does not exist; the CSC's token (a party) sees it."""
    escalation = OpenEscalationFactory()
    CaseReference.objects.create(
        agency=world.berkshire_school, escalation=escalation, reference="B-7"
    )
    _, outsider_secret = tokens.issue(world.berkshire_school, "SIMS", world.kim)
    _, party_secret = tokens.issue(world.csc, "Mosaic", world.kim)
    outsider, party = api_client(outsider_secret), api_client(party_secret)
    for method, path, data in endpoints(escalation.reference):
        answer = ask(outsider, method, path, data)
        missing = ask(outsider, method, path.replace(escalation.reference, MISSING), data)
        assert answer.status_code == 404, path
        assert answer.content == missing.content, path
        assert ask(party, method, path, data).status_code == 200, path
    assert ask(outsider, "get", "/api/v1/children/B-7/escalations/", None).json() == []
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert ask(outsider, "get", "/api/v1/changes/?after=0", None).json()["events"] == []
        seen = ask(party, "get", "/api/v1/changes/?after=0", None).json()["events"]
    assert {e["escalation"] for e in seen} == {escalation.reference}
    assert CaseReference.objects.filter(agency=world.berkshire_school).get().reference == "B-7"
