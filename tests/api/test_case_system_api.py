"""The case-system API as an agency's case system uses it: what a token sees (its agency's
safeguarding lead's view), the child's escalations by the agency's own case reference, one
escalation, the record PDF, changes since a cursor; every read audited; tokens refused once
revoked; every endpoint rate-limited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from api import tokens
from api.models import CaseReference, CaseSystemToken
from audit.models import AuditEntry
from escalations import services
from escalations.models import Escalation
from tests.api.conftest import api_client
from tests.factories import OpenEscalationFactory, ResolvedEscalationFactory

pytestmark = pytest.mark.django_db


def test_a_token_is_kept_only_as_a_digest_and_works_until_revoked(world):
    token, secret = tokens.issue(world.csc, "Mosaic", world.grace)
    stored = CaseSystemToken.objects.get(pk=token.pk)
    assert secret not in {stored.digest, stored.prefix, stored.name}
    assert stored.digest == tokens.digest(secret)
    assert secret.startswith(stored.prefix)
    client = api_client(secret)
    assert client.get("/api/v1/changes/").status_code == 200
    assert tokens.revoke(token, world.grace)
    answer = client.get("/api/v1/changes/")
    assert answer.status_code == 401
    assert answer.json()["detail"] == "The token is not known or has been revoked."


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer epcs_nottherightone", "Bearer two parts", "Token abc"],
)
def test_no_token_or_a_wrong_one_is_refused_with_401(world, header):
    client = api_client(None)
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    answer = client.get("/api/v1/changes/")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_person_without_a_token_gets_nothing(world, client):
    from tests.helpers import sign_in

    sign_in(client, world.grace)
    OpenEscalationFactory()
    assert client.get("/api/v1/changes/").status_code == 401


def test_the_escalation_shows_summary_stage_deadlines_outcome_and_events(world, token_for):
    resolved = ResolvedEscalationFactory(category="upheld", summary="CSC will reassess.")
    _, client = token_for(world.csc, world.grace)
    answer = client.get(f"/api/v1/escalations/{resolved.reference}/")
    assert answer.status_code == 200
    body = answer.json()
    assert body["reference"] == resolved.reference
    assert body["state"] == "resolved"
    assert body["raising_agency"]["name"] == "Meadow School"
    assert body["receiving_agency"]["name"] == "Northfold Children's Social Care"
    assert body["child"]["name"] == "Poppy Testwell"
    assert body["stage"]["number"] == resolved.stage.number
    assert set(body["deadlines"]) == {"stage_started_at", "due_at", "overdue"}
    assert body["outcomes"][0]["category"] == "upheld"
    assert body["outcomes"][0]["summary"] == "CSC will reassess."
    kinds = [event["kind"] for event in body["events"]]
    assert {"raised", "resolved"} <= set(kinds)
    assert [e["sequence"] for e in body["events"]] == sorted(e["sequence"] for e in body["events"])
    assert body["record_pdf"] == f"/api/v1/escalations/{resolved.reference}/record.pdf"


def test_every_read_is_in_the_audit_log_naming_the_token_and_its_agency(world, token_for):
    escalation = OpenEscalationFactory()
    token, client = token_for(world.csc, world.grace, name="Mosaic CSC")
    client.get(f"/api/v1/escalations/{escalation.reference}/")
    entry = AuditEntry.objects.filter(reference=escalation.reference, what="API: escalation").get()
    assert entry.kind == AuditEntry.Kind.READ
    assert entry.user is None
    assert "Mosaic CSC" in entry.username and token.prefix in entry.username
    assert "Northfold Children's Social Care" in entry.username
    assert entry.path == f"/api/v1/escalations/{escalation.reference}/"
    assert entry.request_id
    assert entry.address == "127.0.0.1"
    assert sorted(entry.agency_ids) == sorted([world.school.pk, world.csc.pk])
    # The safeguarding lead reads the API's reads in the audit log like any other.
    from audit.models import AuditEntry as Entries

    assert Entries.objects.visible_to(world.grace).filter(pk=entry.pk).exists()


def test_the_record_pdf_is_the_record_and_its_download_is_audited(world, token_for):
    escalation = OpenEscalationFactory()
    _, client = token_for(world.school, world.carol)
    answer = client.get(f"/api/v1/escalations/{escalation.reference}/record.pdf")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert answer["Cache-Control"] == "no-store, private"
    assert answer.content.startswith(b"%PDF")
    assert AuditEntry.objects.filter(
        reference=escalation.reference, kind=AuditEntry.Kind.DOWNLOAD, what="API: record PDF"
    ).exists()


def test_a_child_is_found_by_the_agency_s_own_case_reference(world, token_for):
    first = OpenEscalationFactory()
    second = OpenEscalationFactory()
    other_child = OpenEscalationFactory()
    _, csc = token_for(world.csc, world.grace)
    for escalation in (first, second):
        answer = csc.put(
            f"/api/v1/escalations/{escalation.reference}/case-reference/",
            {"case_reference": "MOS-4471"},
            format="json",
        )
        assert answer.status_code == 200, answer.content
    csc.put(
        f"/api/v1/escalations/{other_child.reference}/case-reference/",
        {"case_reference": "MOS-9000"},
        format="json",
    )
    answer = csc.get("/api/v1/children/MOS-4471/escalations/")
    assert answer.status_code == 200
    assert sorted(e["reference"] for e in answer.json()) == sorted(
        [first.reference, second.reference]
    )
    assert {e["case_reference"] for e in answer.json()} == {"MOS-4471"}
    # The school's own references are its own: the CSC's mean nothing to its system.
    _, school = token_for(world.school, world.carol)
    assert school.get("/api/v1/children/MOS-4471/escalations/").json() == []
    assert AuditEntry.objects.filter(
        what="API: escalations for a child by case reference", reference=first.reference
    ).exists()
    change = AuditEntry.objects.get(what="API: case reference given", reference=first.reference)
    assert change.changes == [["Northfold Children's Social Care case reference", "", "MOS-4471"]]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Enter your agency's case reference for the child."),
        ("   ", "Enter your agency's case reference for the child."),
        ("x" * 101, "The case reference must be 100 characters or fewer."),
        ("MOS\n1", "The case reference must be one line of text, with no control characters."),
    ],
)
def test_a_bad_case_reference_is_refused_with_a_clear_message(world, token_for, value, message):
    escalation = OpenEscalationFactory()
    _, client = token_for(world.csc, world.grace)
    answer = client.put(
        f"/api/v1/escalations/{escalation.reference}/case-reference/",
        {"case_reference": value},
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json() == {"case_reference": [message]}
    assert not CaseReference.objects.exists()


def test_changes_since_a_cursor_give_each_event_once_in_order(world, token_for):
    _, client = token_for(world.csc, world.grace)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first = OpenEscalationFactory()
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        answer = client.get("/api/v1/changes/?after=0&limit=1").json()
        assert answer["more"] is (len(first.events.all()) > 1)
        seen = [(e["escalation"], e["sequence"]) for e in answer["events"]]
        cursor = answer["next_cursor"]
        while True:
            page = client.get(f"/api/v1/changes/?after={cursor}&limit=1").json()
            seen += [(e["escalation"], e["sequence"]) for e in page["events"]]
            if page["next_cursor"] == cursor:
                break
            cursor = page["next_cursor"]
    assert seen == [(first.reference, n) for n in range(1, first.event_count + 1)]


def test_changes_keep_back_what_has_not_settled(world, token_for, settings):
    settings.API_CHANGES_SETTLE_SECONDS = 60
    _, client = token_for(world.csc, world.grace)
    escalation = OpenEscalationFactory()
    fresh = client.get("/api/v1/changes/?after=0").json()
    assert fresh == {"events": [], "next_cursor": 0, "more": False}
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        settled = client.get("/api/v1/changes/?after=0").json()
    assert [e["escalation"] for e in settled["events"]] == [escalation.reference] * (
        escalation.event_count
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("after=-1", "after must be a whole number from 0 to 4611686018427387904."),
        ("after=abc", "after must be a whole number from 0 to 4611686018427387904."),
        ("limit=0", "limit must be a whole number from 1 to 500."),
        ("limit=501", "limit must be a whole number from 1 to 500."),
    ],
)
def test_a_bad_cursor_or_limit_is_refused_with_a_clear_message(world, token_for, query, message):
    _, client = token_for(world.csc, world.grace)
    answer = client.get(f"/api/v1/changes/?{query}")
    assert answer.status_code == 400
    assert message in str(answer.json())


def test_every_endpoint_is_rate_limited_per_token(world, token_for, settings):
    escalation = OpenEscalationFactory()
    _, client = token_for(world.csc, world.grace)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"case_system": "3/min", "address": "1000/min"},
    }
    ref = escalation.reference
    for path in (
        "/api/v1/changes/",
        f"/api/v1/escalations/{ref}/",
        f"/api/v1/escalations/{ref}/record.pdf",
        "/api/v1/children/X1/escalations/",
    ):
        from django.core.cache import caches

        caches["api"].clear()
        answers = [client.get(path).status_code for _ in range(4)]
        assert answers[:3] == [200, 200, 200], path
        assert answers[3] == 429, path
    # Another agency's token has its own allowance.
    _, other = token_for(world.school, world.carol)
    assert other.get("/api/v1/changes/").status_code == 200


def test_too_many_requests_from_one_address_are_refused_token_or_not(world, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"case_system": "1000/min", "address": "2/min"},
    }
    client = api_client("epcs_guessing")
    assert [client.get("/api/v1/changes/").status_code for _ in range(3)] == [401, 401, 429]


def test_a_withdrawn_escalation_still_answers_its_agencies(world, token_for):
    escalation = OpenEscalationFactory()
    services.withdraw(escalation, by=world.alice, reason="Settled.")
    _, client = token_for(world.csc, world.grace)
    assert client.get(f"/api/v1/escalations/{escalation.reference}/").json()["state"] == (
        "withdrawn"
    )


def test_a_token_starts_no_session_and_nothing_is_cached(world, token_for):
    escalation = OpenEscalationFactory()
    _, client = token_for(world.csc, world.grace)
    answer = client.get(f"/api/v1/escalations/{escalation.reference}/")
    assert answer.status_code == 200
    assert "sessionid" not in answer.cookies
    assert answer["Cache-Control"] == "no-store, private"
    from django.contrib.sessions.models import Session

    assert not Session.objects.exists()


def test_the_lists_take_the_same_number_of_queries_however_long(world, token_for):
    """No query per escalation or event: a busy agency's system polls often."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, client = token_for(world.csc, world.grace)

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    def link_all():
        for escalation in Escalation.objects.visible_to(world.grace.user):
            CaseReference.objects.get_or_create(
                agency=world.csc, escalation=escalation, defaults={"reference": "MOS-1"}
            )

    later = timezone.now() + timedelta(minutes=5)
    OpenEscalationFactory()
    link_all()
    with time_machine.travel(later):
        client.get("/api/v1/changes/")  # the token's use is remembered (one write a minute)
        few = (queries("/api/v1/changes/?after=0"), queries("/api/v1/children/MOS-1/escalations/"))
    for _ in range(4):
        ResolvedEscalationFactory()
    link_all()
    with time_machine.travel(later):
        many = (queries("/api/v1/changes/?after=0"), queries("/api/v1/children/MOS-1/escalations/"))
    assert many == few
    assert few[0] <= 8 and few[1] <= 8, few


def test_a_settled_event_waits_behind_an_earlier_one_still_settling(world, token_for, settings):
    """The cursor must never pass an event that may still appear: an event written later but
    stamped earlier (a long transaction's) waits for every lower id to settle."""
    settings.API_CHANGES_SETTLE_SECONDS = 10
    _, client = token_for(world.csc, world.grace)
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        recent = OpenEscalationFactory()  # lower ids, stamped now
    with time_machine.travel(now - timedelta(hours=1), tick=False):
        stamped_earlier = OpenEscalationFactory()  # higher ids, stamped an hour ago
    with time_machine.travel(now + timedelta(seconds=5), tick=False):
        early = client.get("/api/v1/changes/?after=0").json()
    assert early == {"events": [], "next_cursor": 0, "more": False}
    with time_machine.travel(now + timedelta(seconds=11), tick=False):
        later = client.get("/api/v1/changes/?after=0").json()
    assert [e["escalation"] for e in later["events"]] == [recent.reference] * recent.event_count + [
        stamped_earlier.reference
    ] * stamped_earlier.event_count


def test_the_lead_reads_the_api_s_reads_on_the_audit_log_page(world, token_for, client):
    from tests.helpers import sign_in

    escalation = OpenEscalationFactory()
    token, api = token_for(world.csc, world.grace, name="Mosaic CSC")
    api.get(f"/api/v1/escalations/{escalation.reference}/")
    sign_in(client, world.grace)
    page = client.get("/audit/").content.decode().replace("&#x27;", "'")
    assert f"case system: Mosaic CSC ({token.prefix}…, Northfold Children's Social Care)" in page
    assert "API: escalation" in page
