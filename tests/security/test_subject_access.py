import io
import json

import pytest
from django.core.management import call_command

from audit.models import AuditEntry
from escalations import services
from security.subject_access import escalations_about, export
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in

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


def test_a_partnership_administrator_downloads_a_subject_access_export(world, client, escalation):
    sign_in(client, world.kim)

    response = client.post("/audit/subject-access/", {"child": escalation.child_id})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert json.loads(response.content)["escalations"][0]["reference"] == escalation.reference
    assert AuditEntry.objects.get(kind=AuditEntry.Kind.EXPORT).username == "kim"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Enter the child&#x27;s number"),
        ("abc", "must be a whole number"),
        ("-4", "must be a whole number"),
        ("99999999999999", "There is no child with that number in your partnership"),
        ("999999", "There is no child with that number in your partnership"),
    ],
)
def test_a_bad_child_number_gets_a_specific_message(world, client, escalation, value, message):
    sign_in(client, world.kim)

    response = client.post("/audit/subject-access/", {"child": value})

    assert response.status_code == 400
    assert message.encode() in response.content


def test_another_partnerships_child_is_answered_like_a_missing_one(world, client, escalation):
    kim_of_berkshire = world.mallory
    kim_of_berkshire.memberships.create(
        partnership=world.berkshire, role="partnership_admin", job_title="Administrator"
    )
    sign_in(client, kim_of_berkshire)

    response = client.post("/audit/subject-access/", {"child": escalation.child_id})

    assert response.status_code == 400
    assert b"There is no child with that number in your partnership" in response.content


@pytest.mark.parametrize("name", ["alice", "carol", "ivan", "judy"])
def test_only_partnership_administrators_have_the_page(world, client, name):
    sign_in(client, getattr(world, name))

    assert client.get("/audit/subject-access/").status_code == 404


def test_the_export_holds_escalations_not_yet_shared_with_the_partnership(world, escalation):
    # A request is answered by the partnership for everything it holds about the child, not
    # only what its roles see in full (visible_to leaves out stage 1).
    assert not escalation.partnership_sees_record

    held = escalations_about(escalation.child, world.kim.user)

    assert list(held) == [escalation]


@pytest.mark.parametrize("name", ["ivan", "judy", "carol", "alice", "mallory"])
def test_only_an_administrator_of_the_childs_partnership_may_export_its_escalations(
    world, escalation, name
):
    person = getattr(world, name)
    person.memberships.create(
        partnership=world.berkshire, role="partnership_admin", job_title="Administrator"
    )

    held = escalations_about(escalation.child, person.user)

    assert list(held) == []
    assert export(escalation.child, held, user=person.user)["escalations"] == []
