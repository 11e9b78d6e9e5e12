import csv
import io

import pytest

from audit.log import record
from audit.models import AuditEntry
from tests.factories import EscalationAtStageFactory, OpenEscalationFactory
from tests.helpers import sign_in
from tests.security.world_matrix import partnership_stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(world):
    """A read of a Kirklees escalation (school v CSC) and one of a Berkshire one."""
    kirklees = OpenEscalationFactory()
    ours = record(
        None,
        kind=AuditEntry.Kind.READ,
        what="escalation page",
        escalation=kirklees,
        user=world.alice.user,
    )
    theirs = record(
        None,
        kind=AuditEntry.Kind.READ,
        what='=HYPERLINK("http://evil.example")',
        partnership_id=world.berkshire.pk,
        agency_ids=[world.berkshire_school.pk],
        user=world.oscar.user,
    )
    return ours, theirs


def test_a_safeguarding_lead_sees_the_log_for_their_agencys_escalations_only(
    world, client, entries
):
    ours, _ = entries
    sign_in(client, world.carol)

    page = client.get("/audit/")

    assert page.status_code == 200
    assert ours.reference.encode() in page.content
    assert b"HYPERLINK" not in page.content


def test_a_partnership_administrator_sees_only_escalations_they_may_open(world, client, entries):
    """Kim administers Kirklees, but may open an escalation only once the partnership sees its
    record (SPEC section 3): before that, neither the log, nor its CSV, nor a search by the
    reference shows that the escalation exists."""
    hidden = entries[0].reference
    shared = EscalationAtStageFactory(stage=partnership_stage(world.kirklees))
    record(None, kind=AuditEntry.Kind.READ, what="escalation page", escalation=shared)
    record(
        None,
        kind=AuditEntry.Kind.CHANGE,
        what="role added",
        object_type="person",
        partnership_id=world.kirklees.pk,
        agency_ids=[world.school.pk],
    )
    sign_in(client, world.kim)

    page = client.get("/audit/")
    csv_export = client.get("/audit/export.csv")
    search = client.get("/audit/", {"reference": hidden})

    assert page.status_code == 200
    assert shared.reference.encode() in page.content
    assert b"role added" in page.content
    assert hidden.encode() not in page.content
    assert b"HYPERLINK" not in page.content
    assert shared.reference.encode() in csv_export.content
    assert hidden.encode() not in csv_export.content
    assert b"No entries match" in search.content
    assert b"escalation page" not in search.content


@pytest.mark.parametrize("name", ["alice", "bob", "dan", "ivan", "judy", "mallory", "charlie"])
def test_everyone_else_gets_not_found(world, client, entries, name):
    sign_in(client, getattr(world, name))

    assert client.get("/audit/").status_code == 404
    assert client.get("/audit/export.csv").status_code == 404


def test_the_csv_export_is_itself_audited_and_defuses_formulas(world, client, entries):
    sign_in(client, world.grace)

    response = client.get("/audit/export.csv")

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0][0] == "at_utc" and len(rows) == 2
    assert rows[1][0].endswith("+00:00")
    export = AuditEntry.objects.filter(kind=AuditEntry.Kind.EXPORT).get()
    assert export.username == "grace" and "1 rows" in export.what


def test_a_formula_in_an_entry_is_written_to_csv_as_text(world, client, entries):
    world.berkshire_school.memberships.create(
        person=world.oscar, role="safeguarding_lead", job_title="Designated Safeguarding Lead"
    )
    sign_in(client, world.oscar)

    rows = list(csv.reader(io.StringIO(client.get("/audit/export.csv").content.decode())))

    assert rows[1][3].startswith("'=HYPERLINK")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "2026-13-45"}, "The start date must be a real date"),
        ({"since": "2999-01-01"}, "The start date must be today or in the past"),
        (
            {"since": "2026-11-10", "until": "2026-11-01"},
            "The end date must be the same as or after",
        ),
        ({"kind": "delete_everything"}, "Choose what happened from the list"),
        ({"reference": "K" * 31}, "An escalation reference is 30 characters or fewer"),
    ],
)
def test_bad_filters_get_a_specific_message(world, client, entries, query, message):
    sign_in(client, world.kim)

    response = client.get("/audit/", query)

    assert response.status_code == 400
    assert b"There is a problem" in response.content
    assert message.encode() in response.content


def test_filters_narrow_the_log(world, client, entries):
    sign_in(client, world.grace)

    hit = client.get("/audit/", {"username": "alice", "kind": "read"})
    miss = client.get("/audit/", {"username": "nobody"})

    assert entries[0].reference.encode() in hit.content
    assert b"No entries match" in miss.content


def test_the_log_page_takes_a_bounded_number_of_queries(
    world, client, entries, django_assert_max_num_queries
):
    for _ in range(30):
        record(
            None,
            kind=AuditEntry.Kind.READ,
            what="escalation page",
            escalation=OpenEscalationFactory(),
        )
    sign_in(client, world.kim)

    with django_assert_max_num_queries(12):
        assert client.get("/audit/").status_code == 200
