"""No personal data where it does not belong (SPEC: emails, logs, URLs and task messages carry a
reference, never a child's name, date of birth or address).

A child with invented details unique to this run (tests/security/canary.py) goes through the
real journeys in the Django test client: raised page by page with immediate risk, noted,
escalated and approved up to the partnership stage, responded to, resolved with an action,
parents, learning, debrief and closure recorded; the notices page, the record PDF and its frozen
copies, the partnership's dashboards and CSV exports, the audit log and its CSV, subject access,
a 404 and two 500s; then the deadline sweep, the notice relay and the digest run as their Celery
tasks. Every page reachable from every participant's pages is then crawled.

Searched for the child's details, case-insensitive, the date of birth in several forms: every
log record of every logger at DEBUG (exception text and extra attributes included), every URL
asked for, every response header (Location, Content-Disposition), every link on every page,
every email (notices, digests and, were ADMINS set, error reports), and the broker's stored
task messages exactly as they sit in Redis (every key of its database) or in kombu's
filesystem queue folder. The self-check plants the canary in each channel and proves each
search finds it."""

from __future__ import annotations

import contextlib
import json
import logging
from collections import deque
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import DatabaseError, connections

from escalation_portal.celery import app as celery_app
from escalation_portal.tasks import heartbeat
from escalations import tasks as escalation_tasks
from escalations.drafts import DraftChallenge
from escalations.models import Escalation, Notice, State
from escalations.record.models import RecordCopy
from escalations.record.tasks import freeze_due_records
from security.tasks import anonymise_after_retention
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in
from tests.security import canary as c

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# A Wednesday in working hours, clear of bank holidays; the sweep runs a month on.
START = datetime(2026, 11, 4, 10, 0, tzinfo=LONDON)
LATER = datetime(2026, 12, 9, 10, 0, tzinfo=LONDON)
DIGEST_TIME = datetime(2026, 12, 10, 8, 0, tzinfo=LONDON)
ADMINS = [("Operations", "ops@example.invalid")]


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# --- the broker ---------------------------------------------------------------------------------


def broker_url() -> str:
    return celery_app.conf.broker_url or settings.CELERY_BROKER_URL


def on_redis() -> bool:
    return broker_url().startswith(("redis://", "rediss://"))


def broker_store() -> dict[str, list[bytes]]:
    if on_redis():
        return c.redis_store(broker_url())
    return c.filesystem_store([settings.CELERY_QUEUE_DIR, settings.CELERY_PROCESSED_DIR])


def remove_messages(task_ids: set[str]) -> int:
    """Take this test's messages out of the broker again (no worker ever consumed them)."""
    removed = 0
    if on_redis():
        import redis

        r = redis.Redis.from_url(broker_url())
        for key, values in c.redis_store(broker_url()).items():
            if r.type(key) != b"list":
                continue
            for raw in values:
                if any(task_id.encode() in raw for task_id in task_ids):
                    removed += r.lrem(key, 0, raw)
        return removed
    for key, values in broker_store().items():
        if any(task_id.encode() in values[0] for task_id in task_ids):
            Path(key).unlink(missing_ok=True)
            removed += 1
    return removed


def ids_of_new_messages(before: dict[str, list[bytes]], after: dict[str, list[bytes]]) -> set[str]:
    old = {raw for values in before.values() for raw in values}
    ids = set()
    for values in after.values():
        for raw in values:
            if raw in old:
                continue
            with contextlib.suppress(ValueError, KeyError, TypeError):
                ids.add(json.loads(raw)["headers"]["id"])
    return ids


# --- the journeys -------------------------------------------------------------------------------


def raise_through_pages(client, world, child: c.Canary, *, finish: bool = True) -> str:
    dob = child.date_of_birth
    answers = {
        "immediate-risk": {"immediate_risk": "yes"},
        "start-stage": {"start_stage": "1"},
        "conduct": {"conduct": "no"},
        "child": {
            "child_kind": "child",
            "given_names": child.given_names,
            "family_name": child.family_name,
            "date_of_birth-day": str(dob.day),
            "date_of_birth-month": str(dob.month),
            "date_of_birth-year": str(dob.year),
            "address": child.address,
        },
        "other-agency": {"receiving_agency": str(world.csc.pk)},
        "practitioner": {"receiving_person": str(world.erin.pk), "receiving_team": "Duty team"},
        "pathway": {"pathway": "referral"},
        "nature": {"natures": ["referral_decision"]},
        "details": {"details": "The referral was declined despite new disclosures."},
        "outcome": {"outcome_sought": "A manager reconsiders the referral."},
        "interim-safety": {"interim_safety": "The school's DSL checks in daily."},
        "discussion-date": {
            "initial_discussion_on-day": str(START.day),
            "initial_discussion_on-month": str(START.month),
            "initial_discussion_on-year": str(START.year),
        },
    }
    response = client.post("/raise/")
    url = response["Location"]
    for _ in range(25):
        client.get(url)
        slug = url.split("?")[0].rstrip("/").split("/")[-1]
        if slug == "check" or (not finish and slug == "details"):
            break
        response = client.post(url, answers.get(slug, {}))
        assert response.status_code == 302, (slug, response.content.decode()[:2000])
        url = response["Location"]
    if not finish:
        return url
    assert url.endswith("/check/")
    return url


def act(client, reference: str, slug: str, data: dict) -> None:
    page = f"/escalations/{reference}/{slug}/"
    assert client.get(page).status_code == 200, slug
    revision = Escalation.objects.get(reference=reference).revision
    response = client.post(page, {"revision": revision, **data})
    assert response.status_code == 302, (slug, response.content.decode()[:3000])
    client.get(response["Location"])


def crawl(client, start: list[str], limit: int) -> int:
    seen, queue = set(), deque(start)
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        before = len(client.seen_links)
        response = client.get(url)
        assert response.status_code < 500, url
        queue.extend(c.internal_links(client.seen_links[before:]))
    return len(seen)


def drive_everything(world, child: c.Canary, capture: c.Capture, settings, monkeypatch, on_commit):
    """Every journey that handles the child; returns counts for the report line."""
    counts: dict[str, int] = {}
    clients = {}

    def client_for(person):
        if person.pk not in clients:
            clients[person.pk] = c.CapturingClient(capture)
            sign_in(clients[person.pk], person)
        return clients[person.pk]

    alice, carol, erin, bob, dan = (world.alice, world.carol, world.erin, world.bob, world.dan)
    bob.daily_digest = True
    bob.save(update_fields=["daily_digest"])

    with time_machine.travel(START, tick=True):
        # Raised with immediate risk: its urgent alert is put on the broker after commit.
        check_url = raise_through_pages(client_for(alice), world, child)
        assert child.family_name.encode() in client_for(alice).get(check_url).content
        with on_commit(execute=True):
            response = client_for(alice).post(check_url)
        assert response.status_code == 302
        client_for(alice).get(response["Location"])
        esc = Escalation.objects.get(child__family_name=child.family_name)
        ref = esc.reference
        # A second draft left half written, listed on the home page.
        raise_through_pages(client_for(alice), world, child, finish=False)
        client_for(alice).get("/")
        client_for(alice).get("/raise/")

        act(client_for(alice), ref, "note", {
            "kind": "discussion",
            "body": "Spoke to the duty social worker.",
            "happened_on-day": str(START.day),
            "happened_on-month": str(START.month),
            "happened_on-year": str(START.year),
        })  # fmt: skip
        act(client_for(erin), ref, "position", {"body": "The threshold was not met."})
        act(client_for(alice), ref, "escalate", {"reason": "No change after the discussion."})
        act(client_for(carol), ref, "approve", {"comments": "Agreed."})
        act(client_for(carol), ref, "share", {"reason": "For the partnership's oversight."})
        act(client_for(erin), ref, "response", {
            "summary": "We will look again.",
            "responded_on-day": str(START.day),
            "responded_on-month": str(START.month),
            "responded_on-year": str(START.year),
        })  # fmt: skip
        for _ in range(3):  # stages 2 to 5, where Kirklees brings the partnership in
            holder = dan if Escalation.objects.get(pk=esc.pk).stage.number >= 4 else bob
            act(client_for(holder), ref, "escalate", {"reason": "Still unresolved."})
        assert Escalation.objects.get(pk=esc.pk).stage.number == 5
        act(client_for(dan), ref, "resolve", {
            "category": "partly_upheld",
            "summary": "The referral is reopened.",
            "raiser_satisfied": "yes",
            "action_1_what": "Hold a strategy discussion",
            "action_1_owner": "Frank Ford, CSC",
            "action_1_due-day": "1",
            "action_1_due-month": "1",
            "action_1_due-year": str(START.year + 1),
        })  # fmt: skip
        action = Escalation.objects.get(pk=esc.pk).outcomes.get().actions.get()
        response = client_for(dan).post(
            f"/escalations/{ref}/actions/{action.pk}/done/",
            {"revision": Escalation.objects.get(pk=esc.pk).revision},
        )
        assert response.status_code == 302
        act(client_for(dan), ref, "parents", {"informed": "yes"})
        act(client_for(carol), ref, "learning", {"learning": "Share disclosures in writing."})
        act(client_for(carol), ref, "debrief", {
            "summary": "Both agencies met.",
            "held_on-day": str(START.day),
            "held_on-month": str(START.month),
            "held_on-year": str(START.year),
        })  # fmt: skip
        assert Escalation.objects.get(pk=esc.pk).state == State.RESOLVED

        # The record: live PDF, frozen copies (by the real task), the copies page.
        assert client_for(alice).get(f"/escalations/{ref}/record.pdf").status_code == 200
        counts["frozen"] = freeze_due_records.apply().get()
        assert RecordCopy.objects.filter(escalation=esc).exists()
        crawl(client_for(alice), [f"/escalations/{ref}/records/"], 10)

        # Notices, in the portal and by email (the real relay task, then the digest).
        escalation_tasks.relay_notices.apply(kwargs={"urgent_only": True}).get()
        escalation_tasks.relay_notices.apply().get()
        notices = client_for(alice)
        notices.get("/notifications/")
        first = Notice.objects.filter(recipient=alice).first()
        notices.post(f"/notifications/{first.pk}/read/")
        notices.post("/notifications/read/")
        client_for(bob).post("/notifications/emails/", {"emails": "digest"})

        # The partnership: dashboards, lists and every CSV; the audit log; subject access.
        ivan = client_for(world.ivan)
        for path in ("/partnerships/kirklees/escalations/export.csv", "/audit/export.csv"):
            ivan.get(path)
        kim = client_for(world.kim)
        kim.get("/audit/export.csv")
        kim.get("/audit/", {"reference": ref})
        # Subject access by an escalation's reference (ADR 0023), by the raising agency's lead.
        response = client_for(world.carol).post("/audit/subject-access/", {"reference": ref})
        assert response.status_code == 200
        assert child.family_name in response.content.decode()  # the download is meant to

        # 404s: a missing record, and someone else's.
        assert client_for(alice).get("/escalations/KIR-2026-99999/").status_code == 404
        assert client_for(world.charlie).get(f"/escalations/{ref}/").status_code == 404

        # 500s with error emails on: the database failing while the child's details are saved,
        # and while an escalation page about the child is being written to the audit log.
        settings.ADMINS = ADMINS
        failing = c.CapturingClient(capture, raise_request_exception=False)
        sign_in(failing, alice)
        child_step = raise_through_pages(failing, world, child, finish=False)
        child_step = child_step.rsplit("/", 2)[0] + "/child/"

        def database_down(*args, **kwargs):
            raise DatabaseError("could not write: disk full")

        with monkeypatch.context() as patch:
            patch.setattr(DraftChallenge, "save", database_down)
            dob = child.date_of_birth
            response = failing.post(child_step, {
                "child_kind": "child",
                "given_names": child.given_names,
                "family_name": child.family_name,
                "date_of_birth-day": str(dob.day),
                "date_of_birth-month": str(dob.month),
                "date_of_birth-year": str(dob.year),
                "address": child.address,
            })  # fmt: skip
            assert response.status_code == 500
        with monkeypatch.context() as patch:
            patch.setattr("escalations.views.detail.record_read", database_down)
            assert failing.get(f"/escalations/{ref}/").status_code == 500
        counts["error emails"] = sum(1 for m in mail.outbox if "ops@example.invalid" in m.to)
        assert counts["error emails"] == 2
        settings.ADMINS = []

    # A month on: the sweep (reminders, overdue) on a fresh open escalation, relay, digests.
    with time_machine.travel(START, tick=True):
        from escalations import services

        other = OpenEscalationFactory(
            child=services.ChildDetails(
                home_partnership=world.kirklees,
                given_names=child.given_names,
                family_name=child.family_name,
                date_of_birth=child.date_of_birth,
                address=child.address,
            ),
            initial_discussion_on=START.date(),
        )
    for moment in (START + timedelta(days=6), LATER):
        with time_machine.travel(moment, tick=False):
            escalation_tasks.sweep_deadlines.apply().get()
            escalation_tasks.relay_notices.apply().get()
    with time_machine.travel(DIGEST_TIME, tick=False):
        escalation_tasks.send_digests.apply().get()
    counts["notices emailed"] = Notice.objects.filter(emailed_at__isnull=False).count()
    assert Notice.objects.filter(escalation=other, kind="overdue").exists()

    # Everything the participants can reach from their pages, at the end.
    with time_machine.travel(LATER, tick=True):
        pages = 0
        for person in (alice, carol, erin, dan, world.ivan, world.kim):
            fresh = c.CapturingClient(capture)
            sign_in(fresh, person)
            pages += crawl(fresh, ["/", f"/escalations/{ref}/", "/notifications/"], 60)
        counts["pages crawled"] = pages
    counts["requests"] = sum(x.requests for x in clients.values()) + failing.requests + pages
    counts["emails"] = len(mail.outbox)
    return counts


def publish_the_real_tasks() -> None:
    """What beat and the services put on the broker, with no worker to consume it."""
    for task, kwargs in (
        (escalation_tasks.sweep_deadlines, {}),
        (escalation_tasks.relay_notices, {}),
        (escalation_tasks.relay_notices, {"urgent_only": True}),
        (escalation_tasks.send_digests, {}),
        (freeze_due_records, {}),
        (anonymise_after_retention, {}),
        (heartbeat, {}),
    ):
        task.apply_async(kwargs=kwargs, retry=False)


# --- the tests ----------------------------------------------------------------------------------


def test_the_childs_details_appear_in_no_log_url_link_header_email_or_task_message(
    world, settings, monkeypatch, django_capture_on_commit_callbacks
):
    child = c.Canary.new()
    capture = c.Capture()
    before = broker_store()
    # As with DEBUG on: every SQL statement goes to the django.db.backends logger.
    database = connections["default"]
    database.force_debug_cursor = True
    ours: set[str] = set()
    try:
        with c.LogCapture(capture) as handler:
            counts = drive_everything(
                world, child, capture, settings, monkeypatch, django_capture_on_commit_callbacks
            )
            publish_the_real_tasks()
        after = broker_store()
        ours = ids_of_new_messages(before, after)
        # The raise's urgent relay (published after commit) and the 7 beat tasks are there.
        assert len(ours) >= 8, (len(ours), broker_url())
        counts["broker messages"] = c.add_broker(capture, after)
    finally:
        database.force_debug_cursor = False
        # Nothing of this test's is left for a later worker: what it published goes again.
        remove_messages(ours or ids_of_new_messages(before, broker_store()))
    c.add_emails(capture, mail.outbox)
    counts["log records"] = handler.count
    found = capture.leaks(child.needles())
    print(  # the counts, for the record
        f"\ncanary {child.token} via {broker_url().split(':')[0]}: {counts}; "
        f"searched {capture.channels()}"
    )
    assert counts["log records"] > 0 and counts["emails"] > 0
    assert not found, "\n".join(str(leak) for leak in found[:20])


def test_the_search_finds_the_canary_wherever_it_is_planted(world, settings):
    """The harness can fail: each channel, given the canary, reports it."""
    child = c.Canary.new()
    capture = c.Capture()
    with c.LogCapture(capture):
        logging.getLogger("escalations.views").debug("child %s", child.family_name)
        try:
            raise ValueError(child.postcode)
        except ValueError:
            logging.getLogger("celery").exception("task failed")
        client = c.CapturingClient(capture)
        sign_in(client, world.alice)
        client.get("/", {"q": child.date_of_birth.strftime("%d %B %Y")})
    capture.add("link", "a page", c.links_in(f'<a href="/x/?n={child.given_names}">')[0])
    mail.send_mail("Notice", f"About {child.address}", None, ["x@example.invalid"])
    c.add_emails(capture, mail.outbox)
    before = broker_store()
    result = celery_app.send_task("canary.self_check", args=[child.family_name], retry=False)
    after = broker_store()
    try:
        assert result.id in ids_of_new_messages(before, after)
        c.add_broker(capture, after)
    finally:
        remove_messages({result.id})
    channels = {leak.channel for leak in capture.leaks(child.needles())}
    assert channels == {"log", "url", "link", "email", "broker"}
    # Found both in the raw message (celery's argsrepr header) and in its base64 body.
    broker = {
        leak.where.endswith("decoded")
        for leak in capture.leaks(child.needles())
        if leak.channel == "broker"
    }
    assert broker == {True, False}
    needles = {leak.needle for leak in capture.leaks(child.needles())}
    assert {child.postcode, child.family_name, "Zebediah", "01 February 2015"} <= needles


def test_with_error_emails_on_a_500_reports_no_form_input(world, settings, monkeypatch):
    """Were ADMINS set, Django would email a report of every 500 with the request's POST data:
    the portal's reporter filter hides every posted value."""
    settings.ADMINS = ADMINS
    child = c.Canary.new()
    failing = c.CapturingClient(c.Capture(), raise_request_exception=False)
    sign_in(failing, world.alice)
    response = failing.post("/raise/")
    draft_url = response["Location"].rsplit("/", 2)[0]

    def database_down(*args, **kwargs):
        raise DatabaseError("could not write: disk full")

    monkeypatch.setattr("escalations.views.raise_._save_and_go_on", database_down)
    response = failing.post(
        f"{draft_url}/immediate-risk/?{urlencode({'x': '1'})}",
        {"immediate_risk": "yes", "note": child.address},
    )
    assert response.status_code == 500
    report = [m for m in mail.outbox if "ops@example.invalid" in m.to]
    assert len(report) == 1
    assert "immediate_risk" in report[0].body  # the report still names the fields
    assert child.postcode.lower() not in report[0].body.lower()
