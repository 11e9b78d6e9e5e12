"""Real processes for tests of exactly-once delivery: a private redis-server, Celery workers and
beats against the test database, and a count of the emails they wrote.

Every process started here is stopped by its own id when the test ends."""

from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent
CELERY = str(Path(sys.executable).parent / "celery")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class RedisServer:
    """A redis-server of our own on a free port, without persistence: stopping it loses every
    queued message, as a restarted Redis does."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, 10, 0.05, "redis-server to answer")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@dataclass
class Mailbox:
    """The folder the FileEmailBackend writes to: one .eml per message delivered."""

    folder: Path

    def keys(self) -> Counter:
        found = Counter()
        for path in self.folder.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes())
            for key in (message["X-Portal-Notice"] or "").split():
                found[key] += 1
        return found

    def delivered(self) -> int:
        return len(list(self.folder.glob("*.eml")))

    def partial(self) -> list[Path]:
        return list(self.folder.glob("*.partial"))

    @staticmethod
    def sender(partial: Path) -> int:
        """The process id writing a message (the backend puts it in the file name)."""
        return int(partial.name.split("-")[1])

    def slow(self, on: bool) -> None:
        flag = self.folder / "slow"
        if on:
            flag.touch()
        else:
            flag.unlink(missing_ok=True)

    def figures(self, expected_keys: set[str]) -> dict:
        counts = self.keys()
        sent = sum(1 for key in expected_keys if counts[key] >= 1)
        return {
            "notices": len(expected_keys),
            "sent": sent,
            "lost": len(expected_keys) - sent,
            "duplicated": sum(1 for key in expected_keys if counts[key] > 1),
            "unexpected": sum(1 for key in counts if key not in expected_keys),
        }


@dataclass
class Cluster:
    """Celery workers and beats of the portal, pointed at the test database and a broker."""

    folder: Path
    broker_url: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self):
        self.mail = Mailbox(self.folder / "mail")
        self.mail.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "var").mkdir(exist_ok=True)

    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.folder),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "escalation_portal.settings",
            "DEBUG": "false",
            "SECRET_KEY": "services-test-secret-key-not-for-production",
            "VAR_DIR": str(self.folder / "var"),
            "DATABASE_URL": database_url(),
            "DB_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_VISIBILITY_TIMEOUT": "10",
            # Sends here take half a second: a claim whose relay was killed returns soon.
            "NOTICE_CLAIM_LEASE_SECONDS": "5",
            "EMAIL_BACKEND": "tests.support.email_backends.FileEmailBackend",
            "EMAIL_FILE_DIR": str(self.mail.folder),
            "EMAIL_SLOW_SECONDS": "0.5",
            # Any hour, any day: these tests are about delivery, not the working-hours window.
            "NOTIFY_HOURS": "00:00-23:59:59",
            "NOTIFY_WORKING_DAYS_ONLY": "false",
            "DEADLINE_SWEEP_SECONDS": "2",
            "RELAY_NOTICES_SECONDS": "1",
            "HEARTBEAT_SECONDS": "3600",
        }

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        with self.log(name).open("a") as log:
            process = subprocess.Popen(
                [CELERY, "-A", "escalation_portal", *args],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def worker(self, name: str, concurrency: int = 2) -> subprocess.Popen:
        return self._start(
            name,
            [
                "worker",
                "-l",
                "info",
                "--concurrency",
                str(concurrency),
                "-n",
                f"{name}-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        )

    def beat(self, name: str) -> subprocess.Popen:
        return self._start(
            name,
            ["beat", "-l", "info", "-s", str(self.folder / f"{name}-schedule")],
        )

    def pool_children(self, name: str) -> list[int]:
        pid = self.processes[name].pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(child) for child in children]

    def kill_hard(self, name: str) -> None:
        """kill -9 the worker and its pool processes (its own session, started here)."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def kill_pool_child(self, name: str, pid: int) -> bool:
        """kill -9 one pool process of the worker; the worker sees it lost and requeues its
        task (task_reject_on_worker_lost)."""
        if pid not in self.pool_children(name):
            return False
        os.kill(pid, signal.SIGKILL)
        return True

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(15)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(5)
        self.processes.clear()

    def log_text(self, name: str) -> str:
        return self.log(name).read_text(errors="replace") if self.log(name).exists() else ""
