"""Notices follow access (issue 18 point 1, ADR 0028): the header's unread count and the
notifications page read the notice rows alone, so who may still open what a notice is about is
kept on the notice. A person who leaves an agency or loses a role stops seeing (and counting)
the notices about escalations they may no longer open; given the role back, they see them
again; nothing is deleted."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Membership
from escalations import notifications
from escalations.context_processors import unread_count
from escalations.models import Notice, NoticeKind
from escalations.notices.summary import visible_notices
from policies.models import Role
from tests.factories import EscalationAtStage2Factory, OpenEscalationFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db
KIRKLEES = "/manage/partnerships/kirklees"
KINDS = (NoticeKind.RAISED, NoticeKind.RESPONSE, NoticeKind.REMINDER)


def told(person, escalations) -> int:
    """Unread notices about these escalations written for the person by the outbox itself."""
    return sum(Notice.objects.write(esc, kind, [person]) for esc in escalations for kind in KINDS)


def header_count(client) -> int:
    """The unread count the header shows on the home page, read from the notice rows alone:
    every query of the page about notices leaves the escalation table out."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
        count = int(str(response.context["unread_notice_count"]))
    about_notices = [q["sql"].lower() for q in queries if "escalations_notice" in q["sql"].lower()]
    assert about_notices, "the header counted no notices"
    assert not [sql for sql in about_notices if "escalations_escalation" in sql]
    return count


def listed(client, escalations) -> list[str]:
    page = client.get("/notifications/").content.decode()
    return [esc.reference for esc in escalations if esc.reference in page]


def kim_gives(client, person, agency, role) -> Membership:
    response = client.post(
        f"{KIRKLEES}/people/{person.pk}/roles/add/",
        {"place": str(agency.pk), "role": role, "job_title": ""},
    )
    assert response.status_code == 302, response.content.decode()[:400]
    return Membership.objects.get(person=person, agency=agency, role=role)


def kim_removes(client, person, membership) -> None:
    response = client.post(f"{KIRKLEES}/people/{person.pk}/roles/{membership.pk}/remove/")
    assert response.status_code == 302, response.content.decode()[:400]


@pytest.fixture
def kim(client_factory, world):
    kim = client_factory()
    sign_in(kim, world.kim)
    return kim


@pytest.fixture
def client_factory():
    from django.test import Client

    return Client


def test_a_person_who_leaves_an_agency_stops_counting_and_seeing_its_notices(world, kim, client):
    # Charlie, a Kirklees Health practitioner, is also the school's deputy safeguarding lead.
    lead_at_school = kim_gives(kim, world.charlie, world.school, Role.SAFEGUARDING_LEAD)
    school = [OpenEscalationFactory() for _ in range(2)]  # Alice's, from the school
    assert told(world.charlie, school) == 6
    sign_in(client, world.charlie)
    assert header_count(client) == 6
    assert listed(client, school) == [e.reference for e in school]

    kim_removes(kim, world.charlie, lead_at_school)  # leaves the school, stays at Health

    assert header_count(client) == 0
    assert listed(client, school) == []
    assert client.get(f"/escalations/{school[0].reference}/").status_code == 404
    # Nothing is deleted: the notices are kept, hidden.
    assert Notice.objects.filter(recipient=world.charlie, hidden_at__isnull=False).count() == 6

    kim_gives(kim, world.charlie, world.school, Role.SAFEGUARDING_LEAD)  # back again
    assert header_count(client) == 6
    assert listed(client, school) == [e.reference for e in school]


def test_losing_a_role_hides_only_what_that_role_let_them_open(world, kim, client):
    # Frank manages Erin at children's social care; he also holds a practitioner role there.
    practitioner = kim_gives(kim, world.frank, world.csc, Role.PRACTITIONER)
    manager = world.frank.memberships.get(role=Role.LINE_MANAGER)
    against_csc = OpenEscalationFactory()  # Alice challenges CSC: Frank sees it as a manager
    # Frank is the receiving practitioner of this one: his own part, whatever his roles.
    his_own = OpenEscalationFactory(receiving_person=world.frank)
    assert told(world.frank, [against_csc, his_own]) == 6
    about_his_own = Notice.objects.filter(recipient=world.frank, escalation=his_own).count()
    assert about_his_own >= 3  # with the raise's own "Challenge raised with you"
    sign_in(client, world.frank)
    assert header_count(client) == about_his_own + 3

    kim_removes(kim, world.frank, manager)

    assert header_count(client) == about_his_own
    assert listed(client, [against_csc, his_own]) == [his_own.reference]
    assert practitioner.pk in set(world.frank.memberships.values_list("pk", flat=True))


def test_the_header_count_is_one_query_on_the_notice_table_alone(world, client):
    escalations = [OpenEscalationFactory() for _ in range(3)] + [EscalationAtStage2Factory()]
    told(world.grace, escalations)  # CSC's safeguarding lead sees every one
    told(world.grace, escalations[:1])  # a repeat is not a second notice
    expected = (
        Notice.objects.filter(recipient=world.grace, read_at__isnull=True)
        .filter(visible_notices(world.grace.user))
        .count()
    )
    assert expected >= 12
    user = world.grace.user
    unread_count(user)  # the person and roles are loaded once a request, as by the header
    with CaptureQueriesContext(connection) as queries:
        assert unread_count(user) == expected
    assert len(queries.captured_queries) == 1
    sql = queries.captured_queries[0]["sql"].lower()
    assert "escalations_notice" in sql
    assert "escalations_escalation" not in sql and "conferencereport" not in sql


def test_a_notice_its_recipient_may_no_longer_open_is_not_emailed(world, kim):
    lead_at_school = kim_gives(kim, world.charlie, world.school, Role.SAFEGUARDING_LEAD)
    told(world.charlie, [OpenEscalationFactory()])
    kim_removes(kim, world.charlie, lead_at_school)
    notifications.relay()
    mine = Notice.objects.filter(recipient=world.charlie)
    assert mine.count() == 3
    assert all(n.email_given_up and n.emailed_at is None for n in mine)


def test_notices_written_before_the_change_are_brought_in_line_once(world, kim, client):
    lead_at_school = kim_gives(kim, world.charlie, world.school, Role.SAFEGUARDING_LEAD)
    told(world.charlie, [OpenEscalationFactory()])
    kim_removes(kim, world.charlie, lead_at_school)
    # As a database migrated from before hidden_at: nothing hidden yet.
    Notice.objects.update(hidden_at=None)
    sign_in(client, world.charlie)
    assert header_count(client) == 3
    out = StringIO()
    call_command("follow_notice_access", stdout=out)
    assert "3 notice(s) hidden or shown again." in out.getvalue()
    assert header_count(client) == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_postgresql_counts_from_the_partial_index(world):
    esc = OpenEscalationFactory()
    people = [world.grace, world.frank, world.heidi, world.carol, world.bob]
    Notice.objects.bulk_create(
        Notice(
            escalation=esc, kind=NoticeKind.REMINDER, recipient=person, key=f"bulk:{person.pk}:{i}"
        )
        for i in range(3000)
        for person in people
    )
    user = world.grace.user
    unread_count(user)
    with CaptureQueriesContext(connection) as queries:
        unread_count(user)
    (query,) = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE escalations_notice")
        cursor.execute(f"EXPLAIN {query['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "notice_unread_shown" in plan, plan
    assert "escalations_escalation" not in plan


def test_a_business_manager_who_loses_the_role_stops_seeing_the_partnerships_learning(
    world, kim, client
):
    """Learning sent to the partnership links to its dashboard, which only its partnership
    roles may open: a business manager whose role ends no longer sees or counts it."""
    from escalations import services
    from tests.factories import ResolvedEscalationFactory

    esc = ResolvedEscalationFactory()
    services.record_learning(
        esc, by=world.alice, learning="Share new disclosures the same day.", policy_gap=""
    )
    learning = Notice.objects.filter(kind=NoticeKind.LEARNING_TO_PARTNERSHIP, escalation=esc)
    assert list(learning.values_list("recipient", flat=True)) == [world.ivan.pk]
    sign_in(client, world.ivan)
    assert header_count(client) >= 1
    assert esc.reference not in client.get("/notifications/").content.decode()
    assert "learning" in client.get("/notifications/").content.decode().lower()
    before = header_count(client)

    # He moves to a practitioner's post at children's social care (his only role is kept
    # until then: a last role is never removed, only a leaver marked).
    kim_gives(kim, world.ivan, world.csc, Role.PRACTITIONER)
    role = world.ivan.memberships.get(role=Role.BUSINESS_MANAGER)
    kim_removes(kim, world.ivan, role)

    assert learning.get().hidden_at is not None
    assert header_count(client) == before - 1
