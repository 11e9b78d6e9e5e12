"""/healthz says what an operator needs: the database and broker now, how long ago the worker
and beat were last seen, the mail server's last success and failure, the outbox backlog and
the notices that gave up; 503 naming what is down. With Redis frozen it still answers, 503."""

import os
import shutil
import signal
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from escalation_portal.celery import app
from escalations.models import Notice, Pulse, PulseKind
from tests.factories import OpenEscalationFactory
from tests.support.processes import RedisServer

# The port the fault tests of issue 14 use for a redis-server of their own.
OWN_REDIS_PORT = 6414


def seen_now(*kinds):
    for kind in kinds:
        Pulse.objects.record(kind)


def test_all_well_when_the_worker_and_beat_were_seen_lately(client, db):
    seen_now(PulseKind.WORKER, PulseKind.SWEEP)
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["worker"]["ok"] and body["worker"]["age_seconds"] < 60
    assert body["beat"]["ok"] and body["beat"]["last_sweep"]
    assert body["mail"] == {
        "ok": True,
        "last_success": None,
        "last_failure": None,
        "last_error": "",
    }


def test_a_silent_worker_is_down(client, db, settings):
    seen_now(PulseKind.SWEEP)
    Pulse.objects.record(
        PulseKind.WORKER, at=timezone.now() - timedelta(seconds=2 * settings.HEARTBEAT_SECONDS + 61)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["worker"]


def test_beat_that_has_not_swept_for_two_intervals_is_down(client, db, settings):
    seen_now(PulseKind.WORKER)
    Pulse.objects.record(
        PulseKind.SWEEP,
        at=timezone.now() - timedelta(seconds=2 * settings.DEADLINE_SWEEP_SECONDS + 61),
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["beat"]
    assert response.json()["beat"]["ok"] is False


def test_never_seen_is_down(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["worker", "beat"]


def test_mail_backlog_and_notices_that_gave_up_are_reported(client, world):
    seen_now(PulseKind.WORKER, PulseKind.SWEEP)
    with time_machine.travel(timezone.now() - timedelta(minutes=30), tick=False):
        OpenEscalationFactory(immediate_risk=True)
    notices = list(Notice.objects.order_by("pk"))
    Notice.objects.filter(pk=notices[0].pk).update(
        email_given_up=True, email_error="SMTPServerDisconnected: gone"
    )
    Pulse.objects.record(PulseKind.MAIL_SENT)
    Pulse.objects.record(PulseKind.MAIL_FAILED, "TimeoutError: timed out")
    body = client.get("/healthz").json()
    assert body["status"] == "ok"  # a failing mail server is reported, not a 503
    assert body["mail"]["ok"] is False and body["mail"]["last_error"] == "TimeoutError: timed out"
    assert body["outbox"]["unsent"] == len(notices) - 1
    assert body["outbox"]["oldest_age_seconds"] >= 30 * 60
    assert body["notices_given_up"] == 1


@pytest.fixture
def frozen_redis(tmp_path, monkeypatch):
    """A redis-server of our own, stopped with SIGSTOP: it accepts connections (the kernel
    does) and answers nothing, as a stuck network does."""
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server binary (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.port = OWN_REDIS_PORT
    server.start()
    monkeypatch.setattr(app.conf, "broker_write_url", server.url)
    os.kill(server.process.pid, signal.SIGSTOP)
    yield server
    os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


def test_with_redis_frozen_healthz_answers_503_naming_redis(client, db, frozen_redis):
    seen_now(PulseKind.WORKER, PulseKind.SWEEP)
    started = time.monotonic()
    response = client.get("/healthz")
    waited = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["down"] == ["redis"]
    # Not a speed target: a health check that hangs is a broken one (the old one took 30 s).
    assert waited < 2


def test_with_redis_frozen_an_urgent_challenge_is_raised_and_its_alert_waits_in_the_outbox(
    world, frozen_redis, django_capture_on_commit_callbacks, caplog
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        escalation = OpenEscalationFactory(immediate_risk=True)
    waited = time.monotonic() - started
    assert "Broker did not answer within 1.0 s" in caplog.text
    alert = Notice.objects.get(escalation=escalation, urgent=True)
    assert alert.emailed_at is None and not alert.email_given_up
    assert waited < 2  # the person is not held by the frozen broker (it was 44 s)
