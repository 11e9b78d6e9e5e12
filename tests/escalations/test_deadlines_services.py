"""Exactly once, with real processes: PostgreSQL, a private redis-server and Celery workers and
beats. Workers are killed mid-send, Redis is stopped, two beats run at once; every notice is
emailed once. Each test prints its figures (sent, lost, duplicated).

Run with DATABASE_URL on PostgreSQL and CELERY_BROKER_URL on Redis (as CI does); the tests
start their own redis-server on a free port, so stopping it disturbs nobody."""

import json
import re
import shutil
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from escalation_portal.celery import app as celery_app
from escalations import services
from escalations.models import Escalation, Event, EventKind, Notice, NoticeKind
from tests.factories import OpenEscalationFactory
from tests.helpers import sign_in
from tests.support.processes import Cluster, RedisServer, wait_until


def _why_not() -> str:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://... (SKIP LOCKED, real row locks)"
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        return "needs Redis: set CELERY_BROKER_URL=redis://... (real broker semantics)"
    if shutil.which("redis-server") is None:
        return "needs the redis-server binary to run a private Redis (apt-get install redis-server)"
    return ""


pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(bool(_why_not()), reason=_why_not() or "runs"),
]

DELIVERY_TIMEOUT = 90


@pytest.fixture
def redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cluster(transactional_db, tmp_path, redis, monkeypatch):
    # The web side (this process) publishes to the private Redis too (Celery reads this
    # variable before its configuration).
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", redis.url)
    assert celery_app.conf.broker_write_url == redis.url
    cluster = Cluster(tmp_path, redis.url)
    yield cluster
    cluster.stop_all()


def raise_due(world, n: int, *, days_ago: int = 20, **overrides) -> list[Escalation]:
    """n challenges whose stage-1 clock started days ago, so their due moment has passed."""
    start = timezone.localdate() - timedelta(days=days_ago)
    return [OpenEscalationFactory(initial_discussion_on=start, **overrides) for _ in range(n)]


def all_keys() -> set[str]:
    return set(Notice.objects.values_list("key", flat=True))


def overdue_keys(ids) -> set[str]:
    """The sweep's notices about these escalations: overdue, and (Kirklees asks for the
    child's file at every stage, issue 15) the reminders to confirm it, each to go once."""
    return set(
        Notice.objects.filter(
            escalation_id__in=ids,
            kind__in=[
                NoticeKind.OVERDUE,
                NoticeKind.OVERDUE_MANAGER,
                NoticeKind.CHILD_FILE_REMINDER,
            ],
        ).values_list("key", flat=True)
    )


def everything_emailed() -> bool:
    return not Notice.objects.filter(emailed_at__isnull=True, email_given_up=False).exists()


def report(name: str, figures: dict) -> None:
    print(f"\n{name}: {json.dumps(figures)}")


def assert_once_each(cluster: Cluster, figures: dict) -> None:
    assert figures["lost"] == 0, figures
    assert figures["duplicated"] == 0, figures
    assert figures["unexpected"] == 0, figures
    assert not Notice.objects.filter(email_given_up=True).exists()


def overdue_events_per_escalation(ids) -> set[int]:
    return set(
        Event.objects.filter(escalation_id__in=ids, kind=EventKind.OVERDUE)
        .values("escalation")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )


def test_200_stages_fall_due_and_each_notice_goes_once_while_workers_are_killed_mid_send(
    world, cluster
):
    escalations = raise_due(world, 200)
    ids = [e.pk for e in escalations]
    # The "raised" notices went out long ago; this test follows the 200 overdue sets.
    Notice.objects.update(emailed_at=timezone.now())
    cluster.worker("worker")
    cluster.beat("beat")
    wait_until(
        lambda: Escalation.objects.filter(pk__in=ids, overdue=True).count() == 200,
        DELIVERY_TIMEOUT,
        what="the sweep to mark 200 stages overdue",
    )
    kills = 0
    for round_ in range(4):
        # Let some mail go, then slow sending down and kill while a message is in transit.
        target = cluster.mail.delivered() + 40
        wait_until(lambda t=target: cluster.mail.delivered() >= t or everything_emailed(), 60)
        if everything_emailed():
            break
        cluster.mail.slow(True)
        before = set(cluster.mail.partial())
        in_transit = wait_until(
            lambda b=before: set(cluster.mail.partial()) - b, 30, 0.01, "a send in transit"
        )
        if round_ % 2 == 0:
            cluster.kill_hard("worker")
            cluster.mail.slow(False)
            cluster.worker("worker")
        else:
            sender = cluster.mail.sender(next(iter(in_transit)))
            assert cluster.kill_pool_child("worker", sender)
            cluster.mail.slow(False)
        kills += 1
    wait_until(everything_emailed, DELIVERY_TIMEOUT, 0.5, "every notice emailed")
    figures = cluster.mail.figures(overdue_keys(ids))
    figures["kills_mid_send"] = kills
    figures["sends_cut_off"] = len(cluster.mail.partial())
    report("200 stages, workers killed mid-send", figures)
    assert kills >= 2 and figures["sends_cut_off"] >= kills
    assert_once_each(cluster, figures)
    for kind in (NoticeKind.OVERDUE, NoticeKind.OVERDUE_MANAGER):
        assert Notice.objects.filter(escalation_id__in=ids, kind=kind).count() == 200
    assert overdue_events_per_escalation(ids) == {1}


def test_redis_stopped_while_deadlines_pass_and_people_act_then_started_loses_nothing(
    world, cluster, redis
):
    cluster.worker("worker")
    cluster.beat("beat")
    before = raise_due(world, 20)
    wait_until(everything_emailed, DELIVERY_TIMEOUT, 0.5, "the first notices to go")

    redis.stop()
    down_at = time.monotonic()
    # Deadlines pass while Redis is down: stages whose due moment is seconds away.
    soon = raise_due(world, 30, days_ago=0)
    Escalation.objects.filter(pk__in=[e.pk for e in soon]).update(
        due_at=timezone.now() + timedelta(seconds=3),
        reminder_at=timezone.now() + timedelta(seconds=1),
    )
    # People go on working: urgent challenges (their relay kick finds no broker) and escalations.
    started = time.monotonic()
    urgent = raise_due(world, 10, days_ago=0, immediate_risk=True)
    raise_seconds = (time.monotonic() - started) / len(urgent)
    for esc in before[:10]:
        services.escalate(esc, by=world.alice, reason="No reply while the broker was down.")
    client = Client()
    sign_in(client, world.alice)
    statuses = [
        client.get("/notifications/").status_code,
        client.post("/notifications/read/").status_code,
        client.get("/healthz").status_code,
    ]
    time.sleep(max(0.0, 6 - (time.monotonic() - down_at)))
    redis.start()  # empty: every message queued before the stop is gone
    # The deadlines that passed while Redis was down are caught by beat's next sweep, which may
    # come after the relay has sent everything queued so far: wait for both.
    soon_ids = [e.pk for e in soon]
    wait_until(
        lambda: (
            Escalation.objects.filter(pk__in=soon_ids, overdue=True).count() == len(soon)
            and everything_emailed()
        ),
        DELIVERY_TIMEOUT,
        0.5,
        "the stages that fell due while Redis was down marked overdue and every notice emailed",
    )
    figures = cluster.mail.figures(all_keys())
    figures["seconds_down"] = round(time.monotonic() - down_at, 1)
    figures["seconds_per_urgent_raise_while_down"] = round(raise_seconds, 2)
    figures["web_statuses"] = statuses
    report("Redis stopped and started", figures)
    assert statuses == [200, 302, 503]  # healthz says the broker is down; nothing errs
    assert_once_each(cluster, figures)
    assert Notice.objects.filter(kind=NoticeKind.IMMEDIATE_RISK, urgent=True).count() == 10
    # Each of the 10 asks its agency's safeguarding lead and line manager (Kirklees step 2).
    approval_asks = Notice.objects.filter(kind=NoticeKind.APPROVAL_NEEDED)
    assert approval_asks.values("escalation").distinct().count() == 10
    assert overdue_events_per_escalation([e.pk for e in soon]) == {1}


def test_two_beats_at_once_send_nothing_twice(world, cluster):
    escalations = raise_due(world, 60)
    cluster.worker("worker-a")
    cluster.worker("worker-b")
    cluster.beat("beat-a")
    cluster.beat("beat-b")
    wait_until(everything_emailed, DELIVERY_TIMEOUT, 0.5, "every notice emailed")
    time.sleep(3)  # both beats go on firing; nothing more may go
    runs = sum(
        len(re.findall(r"escalations\.tasks\.(sweep_deadlines|relay_notices)\[.*\] received", t))
        for t in (cluster.log_text("worker-a"), cluster.log_text("worker-b"))
    )
    beats = [
        "escalations.tasks.sweep_deadlines" in cluster.log_text(name)
        for name in ("beat-a", "beat-b")
    ]
    figures = cluster.mail.figures(all_keys())
    figures["task_runs"] = runs
    report("Two beats at once", figures)
    assert beats == [True, True]
    assert_once_each(cluster, figures)
    assert overdue_events_per_escalation([e.pk for e in escalations]) == {1}


def test_a_sweep_after_hours_of_downtime_catches_up_on_its_first_run(world, cluster):
    overdue = raise_due(world, 40, days_ago=0)
    reminded = raise_due(world, 10, days_ago=0)
    now = timezone.now()
    # Nothing ran for eight hours: due moments passed all through them.
    for i, esc in enumerate(overdue):
        Escalation.objects.filter(pk=esc.pk).update(
            due_at=now - timedelta(minutes=12 * (i + 1)),
            reminder_at=now - timedelta(hours=9),
        )
    Escalation.objects.filter(pk__in=[e.pk for e in reminded]).update(
        due_at=now + timedelta(hours=2), reminder_at=now - timedelta(hours=6)
    )
    cluster.worker("worker")
    cluster.beat("beat")
    pattern = re.compile(r"sweep_deadlines\[[^\]]+\] succeeded in [\d.]+s: (\{.*\})")
    first = wait_until(
        lambda: pattern.search(cluster.log_text("worker")), 60, 0.3, "the first sweep"
    )
    first_run = json.loads(first.group(1).replace("'", '"'))
    wait_until(everything_emailed, DELIVERY_TIMEOUT, 0.5, "every notice emailed")
    figures = cluster.mail.figures(all_keys())
    figures["first_sweep"] = first_run
    report("Catch-up after eight hours down", figures)
    assert (first_run["overdue"], first_run["reminded"]) == (40, 10)
    assert_once_each(cluster, figures)
    assert Escalation.objects.overdue().count() == 40


def test_beat_asks_for_a_sweep_as_it_starts_not_one_interval_later(world, cluster):
    """A sweep every hour, as a partnership might set it: the first still comes at start, so
    deadlines passed while beat was down are caught up and /healthz sees beat alive."""
    from escalations.models import Pulse, PulseKind

    hourly = Cluster.env(cluster) | {"DEADLINE_SWEEP_SECONDS": "3600"}
    cluster.env = lambda: hourly
    overdue = raise_due(world, 3, days_ago=0)
    Escalation.objects.filter(pk__in=[e.pk for e in overdue]).update(
        due_at=timezone.now() - timedelta(minutes=5)
    )
    cluster.worker("worker")
    cluster.beat("beat")
    wait_until(
        lambda: Pulse.objects.filter(kind=PulseKind.SWEEP).exists(), 60, 0.5, "a first sweep"
    )
    assert Escalation.objects.overdue().count() == 3
