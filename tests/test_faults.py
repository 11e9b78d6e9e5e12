"""The fault test: deadlines and notices keep working while the worker's pool process is killed
mid-relay, Redis is killed and started again and then frozen, and the mail server refuses and
then hangs. A real worker and beat (subprocesses) on PostgreSQL and a redis-server of our own;
a fake SMTP server in this process. Asserts: no notice lost; a notice doubled only when its
sender was killed between the mail server's 250 and the recording UPDATE, both copies with one
Message-ID; the worker's main process alive throughout; /healthz answering within 2 s at every
probe. Prints its figures at the end. Runs wherever PostgreSQL and Redis are configured (CI's
PostgreSQL run); skipped, with one line, on SQLite."""

from __future__ import annotations

import json
import random
import shutil
import signal
import threading
import time

import pytest
from django.conf import settings
from django.test import Client

from escalation_portal.celery import app
from escalations.models import Notice
from tests.factories import OpenEscalationFactory
from tests.support.fake_smtp import FakeSmtp
from tests.support.processes import Cluster, RedisServer, wait_until


def _why_not() -> str:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "fault test needs PostgreSQL and Redis (set DATABASE_URL and CELERY_BROKER_URL)"
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        return "fault test needs Redis: set CELERY_BROKER_URL=redis://..."
    if shutil.which("redis-server") is None:
        return "fault test needs the redis-server binary (apt-get install redis-server)"
    return ""


pytestmark = [
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(bool(_why_not()), reason=_why_not() or "runs"),
]

REDIS_PORT = 6414  # this test's own redis-server (never the shared one)
SMTP_PORT = 2514
HEALTHZ_BUDGET = 2.0
RANDOM_KILLS = 6


class FaultCluster(Cluster):
    """The worker and beat send through the fake SMTP server, with short timeouts and retries
    so that a run of the faults fits in a few minutes."""

    def env(self) -> dict[str, str]:
        env = super().env()
        env.pop("EMAIL_FILE_DIR", None)
        env.update(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(SMTP_PORT),
            EMAIL_USE_TLS="false",
            EMAIL_TIMEOUT="2",
            NOTICE_EMAIL_RETRY_SECONDS="1",
            NOTICE_EMAIL_MAX_ATTEMPTS="1000",
            HEARTBEAT_SECONDS="2",
        )
        return env


class Probe:
    """Asks /healthz every half second from a thread, as a load balancer would, noting how
    long each answer took and whether the worker's main process was alive."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.seconds: list[float] = []
        self.statuses: list[int] = []
        self.worker_dead_at: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from django.db import connection

        client = Client()
        client.get("/healthz")  # warming up: the first request of a process loads the URLs
        try:
            while not self._stop.wait(0.5):
                started = time.monotonic()
                self.statuses.append(client.get("/healthz").status_code)
                self.seconds.append(time.monotonic() - started)
                if self.cluster.processes["worker"].poll() is not None:
                    self.worker_dead_at.append(time.monotonic())
        finally:
            connection.close()

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


def everything_emailed() -> bool:
    return not Notice.objects.filter(emailed_at__isnull=True, email_given_up=False).exists()


def raise_some(n: int, **overrides) -> None:
    for _ in range(n):
        OpenEscalationFactory(**overrides)


def test_notices_survive_worker_broker_and_mail_faults(world, tmp_path, monkeypatch):
    started = time.monotonic()
    redis = RedisServer(tmp_path)
    redis.port = REDIS_PORT
    redis.start()
    monkeypatch.setattr(app.conf, "broker_write_url", redis.url)
    smtp = FakeSmtp(SMTP_PORT).start()
    cluster = FaultCluster(tmp_path, redis.url)
    figures = {"pool_kills_mid_send": 0, "kills_after_250": 0, "redis_kills": 0, "freezes": 0}
    window_kills: list[float] = []
    random_kills: list[float] = []
    try:
        raise_some(30)
        raise_some(5, immediate_risk=True)
        cluster.worker("worker", concurrency=1)
        cluster.beat("beat")
        worker_pid = cluster.processes["worker"].pid
        with Probe(cluster) as probe:
            wait_until(lambda: len(smtp.accepted) >= 10, 90, what="the first emails")

            # 1. The pool process killed mid-send, before the mail server's 250: twice.
            for _ in range(2):
                smtp.hold_in_data = True
                wait_until(smtp.held.is_set, 30, 0.05, "a message held in DATA")
                [child] = cluster.pool_children("worker")
                cluster.kill_pool_child("worker", child)
                smtp.cut, smtp.hold_in_data = True, False
                smtp.release.set()
                figures["pool_kills_mid_send"] += 1
                time.sleep(1)

            # 1b. kill -9 at random moments, as a crashing host would: the doubling rate.
            rng = random.Random(14)
            raise_some(20)
            for _ in range(RANDOM_KILLS):
                time.sleep(rng.uniform(0.2, 1.2))
                for child in cluster.pool_children("worker"):
                    if cluster.kill_pool_child("worker", child):
                        random_kills.append(time.monotonic())

            # 2. Killed after the 250, before the recording UPDATE: the one window left.
            def kill_now() -> None:
                window_kills.append(time.monotonic())
                for child in cluster.pool_children("worker"):
                    cluster.kill_pool_child("worker", child)

            raise_some(5)
            smtp.on_quit = kill_now
            wait_until(lambda: window_kills, 60, 0.05, "a kill after the 250")
            figures["kills_after_250"] += 1

            # 3. Redis killed while people work, then started again (empty).
            redis.process.kill()
            redis.process.wait()
            figures["redis_kills"] += 1
            raise_some(5, immediate_risk=True)  # their relay nudges find no broker
            time.sleep(3)
            redis.start()

            # 4. Redis frozen (a stuck network), then thawed.
            time.sleep(3)
            redis.process.send_signal(signal.SIGSTOP)
            figures["freezes"] += 1
            raise_some(3, immediate_risk=True)
            time.sleep(5)
            redis.process.send_signal(signal.SIGCONT)

            # 5. The mail server refuses, then hangs after connecting, then recovers.
            raise_some(5)
            smtp.mode = "refuse"
            time.sleep(5)
            smtp.mode = "hang"
            time.sleep(6)
            smtp.mode = "accept"

            wait_until(everything_emailed, 150, 0.5, "every notice emailed")
            time.sleep(2)  # nothing more may go
        assert cluster.processes["worker"].pid == worker_pid

        keys = set(Notice.objects.values_list("key", flat=True))
        sent = smtp.keys()
        doubled = {key: copies for key, copies in sent.items() if len(copies) > 1}

        def after_a_kill(copies, kills) -> bool:
            return any(0 <= kill - copies[0].at < 2 for kill in kills)

        figures.update(
            random_kills=len(random_kills),
            doubled_after_random_kills=sum(
                1 for c in doubled.values() if after_a_kill(c, random_kills)
            ),
            notices=len(keys),
            emails_accepted=len(smtp.accepted),
            lost=len(keys - set(sent)),
            doubled=len(doubled),
            unexpected=len(set(sent) - keys),
            healthz_probes=len(probe.seconds),
            healthz_slowest_seconds=round(max(probe.seconds), 2),
            healthz_503=sum(1 for s in probe.statuses if s == 503),
            smtp_sessions=smtp.sessions,
            seconds=round(time.monotonic() - started, 1),
        )
        print(f"\nFault test figures: {json.dumps(figures)}")

        assert figures["lost"] == 0 and figures["unexpected"] == 0, figures
        for key, copies in doubled.items():
            # The same Message-ID, so mail clients fold the two ...
            assert len({c.message_id for c in copies}) == 1, key
            # ... and only where the sender died between the 250 and its UPDATE.
            assert after_a_kill(copies, window_kills + random_kills), key
        assert figures["doubled"] <= figures["kills_after_250"] + len(random_kills)
        assert not probe.worker_dead_at, "the worker's main process died"
        assert max(probe.seconds) < HEALTHZ_BUDGET, probe.seconds
        assert not Notice.objects.filter(email_given_up=True).exists()
    finally:
        cluster.stop_all()
        smtp.stop()
        if redis.process and redis.process.poll() is None:
            redis.process.send_signal(signal.SIGCONT)
        redis.stop()
