import io
import json

import pytest
from django.core.management import call_command

from audit.models import AuditEntry
from escalations import services
from security.subject_access import escalations_about, export
from tests.factories import EscalationAtStageFactory, OpenEscalationFactory
from tests.helpers import sign_in
from tests.security.world_matrix import partnership_stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def escalation(world):
    escalation = OpenEscalationFactory()
    services.add_note(escalation, by=world.alice, body="Spoke to Erin; she will ask her manager.")
    return escalation


def test_the_command_writes_everything_held_about_a_child_and_is_audited(escalation, tmp_path):
    out = tmp_path / "sar.json"

    call_command(
        "subject_access_export",
        escalation.child_id,
        str(out),
        stdout=io.StringIO(),
    )

    data = json.loads(out.read_text())
    assert data["child"]["given_names"] == "Poppy"
    assert data["child"]["address"] == "1 Invented Row, Nowhere"
    [held] = data["escalations"]
    assert held["reference"] == escalation.reference
    assert held["details"] == "CSC declined the referral despite new disclosures."
    assert [n["body"] for n in held["notes"]] == ["Spoke to Erin; she will ask her manager."]
    assert {e["kind"] for e in held["events"]} >= {"Raised", "Note added"}
    assert all(set(n) == {"kind", "at"} for n in held["notices"])
    entry = AuditEntry.objects.get(kind=AuditEntry.Kind.EXPORT)
    assert (entry.what, entry.object_type, entry.object_id) == (
        "subject access export",
        "child",
        str(escalation.child_id),
    )


def test_a_safeguarding_lead_downloads_what_their_agency_holds_by_reference(
    world, client, escalation
):
    sign_in(client, world.carol)

    response = client.post("/audit/subject-access/", {"reference": escalation.reference.lower()})

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="subject-access-{escalation.reference}.json"'
    )
    data = json.loads(response.content)
    assert data["child"]["given_names"] == "Poppy"
    assert [e["reference"] for e in data["escalations"]] == [escalation.reference]
    entry = AuditEntry.objects.get(kind=AuditEntry.Kind.EXPORT)
    assert (entry.username, entry.object_type) == ("carol", "child")


def test_the_export_never_holds_what_the_person_may_not_open(world, client, escalation):
    """Kim administers Kirklees; a stage-1 escalation is not yet the partnership's to see: the
    export by its reference is refused like a missing one, and an export through an escalation
    she may open leaves the other out (the bypass of SPEC section 3 the export once was)."""
    shared = EscalationAtStageFactory(
        stage=partnership_stage(world.kirklees),
        child=services.ChildDetails(
            home_partnership=world.kirklees,
            given_names="Poppy",
            family_name="Testwell",
            date_of_birth=escalation.child.date_of_birth,
            address="1 Invented Row, Nowhere",
        ),
    )
    sign_in(client, world.kim)

    refused = client.post("/audit/subject-access/", {"reference": escalation.reference})
    assert refused.status_code == 400
    assert b"There is no escalation with that reference that you can open" in refused.content
    assert not AuditEntry.objects.filter(kind=AuditEntry.Kind.EXPORT).exists()

    data = json.loads(
        client.post("/audit/subject-access/", {"reference": shared.reference}).content
    )
    assert [e["reference"] for e in data["escalations"]] == [shared.reference]
    assert escalation.reference not in json.dumps(data)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Enter the reference of an escalation about the child"),
        ("1", "There is no escalation with that reference that you can open"),
        ("KIR-2026-99999", "There is no escalation with that reference that you can open"),
        ("K" * 31, "An escalation reference is 30 characters or fewer"),
    ],
)
def test_a_bad_reference_gets_a_specific_message(world, client, escalation, value, message):
    sign_in(client, world.carol)

    response = client.post("/audit/subject-access/", {"reference": value})

    assert response.status_code == 400
    assert message.encode() in response.content


def test_another_partnerships_escalation_is_answered_like_a_missing_one(world, client, escalation):
    world.mallory.memberships.create(
        partnership=world.berkshire, role="partnership_admin", job_title="Administrator"
    )
    sign_in(client, world.mallory)

    response = client.post("/audit/subject-access/", {"reference": escalation.reference})

    assert response.status_code == 400
    assert b"There is no escalation with that reference that you can open" in response.content


@pytest.mark.parametrize("name", ["alice", "bob", "erin", "ivan", "judy", "charlie"])
def test_only_leads_and_partnership_administrators_have_the_page(world, client, name):
    sign_in(client, getattr(world, name))

    assert client.get("/audit/subject-access/").status_code == 404


@pytest.mark.parametrize("name", ["ivan", "judy", "alice", "mallory", "kim"])
def test_escalations_about_a_child_are_only_those_the_person_may_open(world, escalation, name):
    person = getattr(world, name)

    held = escalations_about(escalation.child, person.user)

    assert list(held) == []
    assert export(escalation.child, held, user=person.user)["escalations"] == []
