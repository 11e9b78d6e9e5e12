"""Every signed-in page's query count, for people with many unread notices (issue 18): a page
takes at most 15 queries and a list at most 10, however many notices its reader has. Each
route of the census (tests/security/test_route_census.py) that answers a signed-in GET is here,
or in NOT_PAGES with the reason."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalations import services
from escalations.conference import services as conference_services
from escalations.models import DraftChallenge, Escalation, Notice
from escalations.record.services import freeze_due_records
from tests.factories import (
    AwaitingApprovalEscalationFactory,
    OpenEscalationFactory,
)
from tests.factories.escalations import climb, many_unread_notices
from tests.helpers import sign_in
from tests.security.test_fuzz_escalation_forms import complete_answers
from tests.security.test_route_census import classification, routes

pytestmark = pytest.mark.django_db
PAGE, LIST = 15, 10
UNREAD = 300  # unread notices for each reader; the count costs the same for 3 or 3,000

# Route -> (who, path of the sample, budget). {ref}: the busiest escalation (resolved at
# Kirklees stage 5 with notes, positions, responses, an action and a record copy); {open}: one
# open at stage 1; {draft}, {report}, {school}, {alice}, {alice_role}, {entry}, {agency}.
PAGES: dict[str, list[tuple[str, str, int]]] = {
    # Home is four lists, their sizes, drafts and concerns waiting, in one page: a page's
    # budget (10-11 queries, from 14-17 before issue 18).
    "": [("alice", "/", PAGE), ("grace", "/", PAGE), ("ivan", "/", PAGE)],
    "notifications/": [("alice", "/notifications/", LIST), ("grace", "/notifications/", LIST)],
    "escalations/<str:reference>/": [
        ("alice", "/escalations/{ref}/", PAGE),
        ("grace", "/escalations/{ref}/", PAGE),
        ("ivan", "/escalations/{ref}/", PAGE),
    ],
    "escalations/<str:reference>/raised/": [("alice", "/escalations/{open}/raised/", PAGE)],
    "escalations/<str:reference>/<slug:action>/": [
        ("alice", f"/escalations/{{open}}/{slug}/", PAGE)
        for slug in ("note", "position", "escalate", "refer-directly", "resolve", "withdraw")
    ]
    + [("grace", "/escalations/{open}/response/", PAGE)]
    + [("carol", f"/escalations/{{asked}}/{slug}/", PAGE) for slug in ("approve", "return")]
    + [
        ("alice", f"/escalations/{{ref}}/{slug}/", PAGE)
        for slug in ("learning", "parents", "debrief", "reopen", "child-file")
    ]
    + [("carol", "/escalations/{open}/share/", PAGE)],
    "escalations/<str:reference>/records/": [("alice", "/escalations/{ref}/records/", LIST)],
    "account/two-factor/backup-codes/": [("alice", "/account/two-factor/backup-codes/", PAGE)],
    "audit/": [("carol", "/audit/", LIST), ("kim", "/audit/", LIST)],
    "audit/subject-access/": [("carol", "/audit/subject-access/", PAGE)],
    "conference/": [("carol", "/conference/", LIST), ("erin", "/conference/", LIST)],
    "conference/new/": [("erin", "/conference/new/", PAGE)],
    "conference/<int:pk>/": [("carol", "/conference/{report}/", PAGE)],
    "approvals/": [("carol", "/approvals/", LIST)],
    "agency/escalations/": [("carol", "/agency/escalations/", LIST)],
    "directory/": [("alice", "/directory/", LIST)],
    "raise/": [("alice", "/raise/", PAGE)],
    "raise/drafts/<int:draft_id>/": [("alice", "/raise/drafts/{draft}/", PAGE)],
    "raise/drafts/<int:draft_id>/check/": [("alice", "/raise/drafts/{draft}/check/", PAGE)],
    "raise/drafts/<int:draft_id>/saved/": [("alice", "/raise/drafts/{draft}/saved/", PAGE)],
    "raise/drafts/<int:draft_id>/<slug:slug>/": [("alice", "/raise/drafts/{draft}/child/", PAGE)],
    "partnerships/<slug:slug>/dashboard/": [("ivan", "/partnerships/kirklees/dashboard/", PAGE)],
    "partnerships/<slug:slug>/dashboard/<slug:table>/": [
        ("ivan", "/partnerships/kirklees/dashboard/learning/", PAGE)
    ],
    "partnerships/<slug:slug>/escalations/": [
        ("ivan", "/partnerships/kirklees/escalations/", LIST)
    ],
    "partnerships/<slug:slug>/report/": [("ivan", "/partnerships/kirklees/report/", PAGE)],
    "partnerships/<slug:slug>/annual-return/": [
        ("ivan", "/partnerships/kirklees/annual-return/", PAGE)
    ],
    "case-systems/": [("carol", "/case-systems/", LIST)],
    "account/": [("alice", "/account/", PAGE)],
    "account/work-phone/": [("alice", "/account/work-phone/", PAGE)],
    "case-systems/agencies/<int:agency_id>/": [("carol", "/case-systems/agencies/{school}/", PAGE)],
}


def as_route(tail: str) -> str:
    return re.sub(r"\{\w+\}", "<int:pk>", tail)


MANAGE = (
    ("", PAGE),
    ("people/", LIST),
    ("people/{alice}/", PAGE),
    ("people/{alice}/roles/add/", PAGE),
    ("people/{alice}/leaver/", PAGE),
    ("people/{alice}/pass-on/", PAGE),
    ("invite/", PAGE),
    ("invitations/", LIST),
)
# What only a partnership's administrators manage (an agency's scope answers 404).
PARTNERSHIP_ONLY = (
    ("people/import/", PAGE),
    ("people/{alice}/edit/", PAGE),
    ("people/{alice}/second-factor/", PAGE),
    ("agencies/", LIST),
    ("agencies/new/", PAGE),
    ("agencies/{agency}/", PAGE),
    ("closure-days/", LIST),
    ("directory/", LIST),
    ("directory/new/", PAGE),
    ("directory/{entry}/", PAGE),
    ("undelivered-notices/", LIST),
)
for scope, who, base, tails in (
    ("manage/partnerships/<slug:key>/", "kim", "/manage/partnerships/kirklees/", MANAGE),
    ("manage/partnerships/<slug:key>/", "kim", "/manage/partnerships/kirklees/", PARTNERSHIP_ONLY),
    ("manage/agencies/<int:key>/", "carol", "/manage/agencies/{school}/", MANAGE),
):
    for tail, budget in tails:
        route = scope + as_route(tail)
        PAGES.setdefault(route, []).append((who, base + tail, budget))
# Answered with a redirect, by design.
REDIRECTS = {
    "raise/drafts/<int:draft_id>/": "to the draft's first unanswered question",
    "case-systems/": "to the lead's own agency's page",
}

# Routes of the census that are not pages a signed-in person GETs, and why.
NOT_PAGES = {
    "admin/*": "Django's own admin, for staff: not the portal's pages",
    "bench/baseline/": "development only (settings.BENCH_ROUTES)",
    "manage/": "a redirect to the person's first scope",
    "notifications/<int:pk>/read/": "POST only",
    "notifications/read/": "POST only",
    "notifications/emails/": "POST only",
    "notifications/mobile/": "POST only",
    "*/webhook/": "POST only",
    "*/webhook/stop/": "POST only",
    "escalations/<str:reference>/actions/<int:action_id>/done/": "POST only",
    "raise/drafts/<int:draft_id>/delete/": "POST only",
    "*/remove/": "POST only",
    "*/send-again/": "POST only",
    "*/withdraw/": "POST only",
    "*/revoke/": "POST only",
    "partnerships/<slug:slug>/outcome-requests/": "Pan-Cheshire's only (404 in this Kirklees "
    "scene): its budget is pinned in tests/escalations/test_outcome_requests.py",
    "outcome-requests/<int:pk>/": "Pan-Cheshire's only: pinned in "
    "tests/escalations/test_outcome_requests.py",
    "*.pdf": "a file, not a page (the record PDF; its budget is in tests/record)",
    "*.csv": "a file, not a page (exports)",
    "*export.<str:fmt>": "a file, not a page (exports)",
}
NOT_PAGES |= {
    "manage/agencies/<int:key>/" + as_route(tail): "a partnership's only: 404 for an agency"
    for tail, _ in PARTNERSHIP_ONLY
}


def not_a_page(route: str) -> bool:
    for pattern in NOT_PAGES:
        if pattern.startswith("*") and route.endswith(pattern[1:]):
            return True
        if pattern.endswith("*") and route.startswith(pattern[:-1]):
            return True
        if route == pattern:
            return True
    return False


def test_every_signed_in_page_of_the_census_has_a_budget_here():
    missing = [
        route
        for route in routes()
        if classification(route) == "protected" and route not in PAGES and not not_a_page(route)
    ]
    assert missing == []


@pytest.fixture
def scene(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    busiest = OpenEscalationFactory()
    for i in range(3):
        services.add_note(busiest, by=world.alice, body=f"Note {i}")
        services.record_position(busiest, by=world.alice, body=f"Position {i}")
        services.record_response(busiest, by=world.erin, summary=f"Response {i}")
    busiest = climb(busiest, 5)  # Kirklees keeps the record from stage 5
    freeze_due_records()
    services.resolve(
        busiest,
        by=world.dan,
        category="upheld",
        summary="Agreed.",
        raiser_satisfied=True,
        actions=[services.ActionItem("Call", "Frank", date(2099, 1, 1))],
    )
    opened = OpenEscalationFactory()
    asked = AwaitingApprovalEscalationFactory()
    report = conference_services.record_conference_concern(
        by=world.erin,
        partnership=world.kirklees,
        meeting_on=date(2026, 11, 2),
        family_identifier="Invented family",
        chair_name="Erin Earl",
        agency=world.school,
        agency_representative="An invented representative",
        reason="report_missing",
        details="An invented report was missing.",
    )
    draft = DraftChallenge.objects.create(owner=world.alice, answers=complete_answers(world))
    from policies.models import DirectoryEntry

    entry = DirectoryEntry.objects.create(
        partnership=world.kirklees,
        agency_name="Invented Health Trust",
        role="Named nurse",
        job_title="Named nurse for safeguarding",
    )
    for person in (world.alice, world.carol, world.grace, world.ivan, world.kim, world.erin):
        many_unread_notices(person, UNREAD)
    return {
        "ref": Escalation.objects.get(pk=busiest.pk).reference,
        "open": opened.reference,
        "asked": asked.reference,
        "report": report.pk,
        "draft": draft.pk,
        "school": world.school.pk,
        "alice": world.alice.pk,
        "agency": world.school.pk,
        "entry": entry.pk,
    }


def test_every_page_keeps_its_query_budget_for_readers_with_many_unread_notices(
    world, scene, client
):
    over, answered = [], []
    clients = {}
    for route, samples in PAGES.items():
        for who, path, budget in samples:
            person = getattr(world, who)
            assert Notice.objects.shown_to(person).filter(read_at__isnull=True).count() >= UNREAD
            if who not in clients:
                clients[who] = client.__class__()
                sign_in(clients[who], person)
            url = path.format(**scene)
            clients[who].get(url)  # a first visit: sessions and caches as on any later one
            with CaptureQueriesContext(connection) as queries:
                status = clients[who].get(url).status_code
            answered.append((url, who, status, len(queries), budget))
            if status != (302 if route in REDIRECTS else 200) or len(queries) > budget:
                over.append(f"{route} {url} as {who}: {status}, {len(queries)} > {budget}")
    for row in answered:
        print(*row)
    assert over == []
