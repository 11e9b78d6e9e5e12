"""The worker survives the broker: Redis killed while a task runs, then started again, and the
worker reconnects and runs the next task. Before escalation_portal/redis_transport.py, kombu
raised `AttributeError: 'NoneType' object has no attribute 'hostname'` here and the worker
stopped, every time. Uses a redis-server of its own, so stopping it disturbs nobody."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.checks import run_checks

from escalation_portal.celery import app
from tests.support.processes import RedisServer, wait_until

ROOT = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).parent / "celery")
WORKER = [CELERY, "-A", "escalation_portal", "worker", "-I", "tests.support.slow_tasks"]
WORKER += ["-l", "info", "--concurrency", "2"]


def test_a_visibility_timeout_shorter_than_a_task_fails_the_system_check(monkeypatch):
    monkeypatch.setattr(
        settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {"visibility_timeout": 60}, raising=False
    )
    errors = [e for e in run_checks(tags=["celery"]) if e.id == "escalations.E002"]
    assert len(errors) == 1 and "60 s" in errors[0].msg
    monkeypatch.setattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {"visibility_timeout": 3600})
    assert not [e for e in run_checks(tags=["celery"]) if e.id == "escalations.E002"]


def publish(url: str, seconds: float, mark: str) -> None:
    with app.connection_for_write(url) as conn:
        app.send_task(
            "tests.support.slow_tasks.nap", args=[seconds, mark], connection=conn, retry=False
        )


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_redis_killed_mid_task_and_restarted_the_worker_carries_on(tmp_path):
    redis = RedisServer(tmp_path)
    redis.start()
    log = tmp_path / "worker.log"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "escalation_portal.settings",
        "DEBUG": "true",
        "VAR_DIR": str(tmp_path / "var"),
        "CELERY_BROKER_URL": redis.url,
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("w") as out:
        worker = subprocess.Popen(
            [*WORKER, "-n", f"survivor-{os.getpid()}@%h"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    text = lambda: log.read_text(errors="replace")  # noqa: E731
    try:
        wait_until(lambda: "ready." in text(), 60, what="the worker to start")
        publish(redis.url, 8, "first")
        wait_until(lambda: "nap[" in text(), 20, 0.1, what="the task to start")
        redis.process.kill()  # as a crashed Redis: no goodbye on the connection
        redis.process.wait()
        # The late-acknowledged task is cancelled or finishes (its message comes back either
        # way); what matters is that the worker noticed, and lives on.
        wait_until(lambda: "Connection to broker lost" in text(), 30, what="the worker to notice")
        time.sleep(2)
        redis.start()
        publish(redis.url, 0.1, "second")
        wait_until(
            lambda: "nap done: second" in text() or worker.poll() is not None,
            90,
            what="the worker to run a task after Redis came back",
        )
        assert worker.poll() is None, text()[-3000:]
        assert "nap done: second" in text()
        assert "Unrecoverable error" not in text()
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        redis.stop()
