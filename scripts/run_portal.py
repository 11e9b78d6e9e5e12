"""Runs the web server, a Celery worker and Celery beat together; Ctrl-C stops all three.

A child that dies is started again, with a line saying which and why; one that dies
RESTART_LIMIT times within RESTART_WINDOW seconds is not, and everything stops with a message
saying so. Never a web server left running with no worker, and never a portal stopped because
its worker met a broker hiccup.

Once the web server answers it prints the address and a short table of demo logins, last, so
they are what a newcomer sees: the worker and beat start without their banners and log only
warnings and errors (CELERY_LOG_LEVEL=info shows every task)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = os.environ.get("PORTAL_HOST", "127.0.0.1")
PORT = os.environ.get("PORTAL_PORT", "8000")
CELERY_LOG_LEVEL = os.environ.get("CELERY_LOG_LEVEL", "warning")
CELERY = [str(BIN / "celery"), "-A", "escalation_portal", "--quiet"]

COMMANDS = {
    # --nostatic: WhiteNoise serves static files, as in production, and a missing one gets the
    # portal's "Page not found" rather than Django's debug page.
    "web": [
        sys.executable,
        "manage.py",
        "runserver",
        f"{HOST}:{PORT}",
        "--noreload",
        "--nostatic",
        "--skip-checks",  # migrate has just run them
    ],
    "worker": [
        *CELERY,
        "worker",
        "-l",
        CELERY_LOG_LEVEL,
        "--concurrency",
        "2",
        "-n",
        "portal-worker@%h",
    ],
    "beat": [*CELERY, "beat", "-l", CELERY_LOG_LEVEL],
}


RESTART_LIMIT = int(os.environ.get("PORTAL_RESTART_LIMIT", "5"))
RESTART_WINDOW = 300.0


# The development server answers each request in a thread of its own: a connection kept
# after the request would stay with a thread that never comes back (98 idle PostgreSQL
# connections after a busy demo). Each request closes its own; the worker and beat keep theirs
# (one per process), as gunicorn's workers do.
ENVIRONMENT = {"web": {"DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "0")}}


def web_answers(timeout: float) -> bool:
    """The web server accepts connections (a bare connection: no request, so no log line)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, int(PORT)), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def main() -> int:
    os.chdir(ROOT)
    env = {
        **os.environ,
        "DEBUG": os.environ.get("DEBUG", "true"),
        "PYTHONUNBUFFERED": "1",
        # This is the demo; production runs gunicorn (docker-compose.yml).
        "DJANGO_RUNSERVER_HIDE_WARNING": "true",
        # The demo may be started as root (a container, a CI machine); production runs the
        # worker as its own user. Seven lines of warning on the first screen say nothing new.
        "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges",
    }
    processes: dict[str, subprocess.Popen] = {}

    def stop(*_args: object) -> None:
        # The main processes only: Celery then stops its own pool children cleanly.
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        print("Stopped web, worker and beat.", flush=True)

    # Before anything starts, and SIGINT too: a shell starting this in the background passes
    # SIGINT on as ignored, and Ctrl-C must stop all three however the command was started.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *a: (stop(), sys.exit(0)))

    def start(name: str) -> None:
        processes[name] = subprocess.Popen(  # noqa: S603
            COMMANDS[name], env={**env, **ENVIRONMENT.get(name, {})}, start_new_session=True
        )

    for name in COMMANDS:
        start(name)
    if web_answers(timeout=60):
        print(
            f"Escalation Portal: http://{HOST}:{PORT}/  (web, worker and beat running;"
            " Ctrl-C stops all three)\n",
            flush=True,
        )
        subprocess.run(
            [sys.executable, "manage.py", "demo_logins", "--featured"], env=env, check=False
        )
    restarts: dict[str, list[float]] = {name: [] for name in COMMANDS}
    while True:
        time.sleep(0.5)
        for name, process in list(processes.items()):
            code = process.poll()
            if code is None:
                continue
            now = time.monotonic()
            recent = [t for t in restarts[name] if now - t < RESTART_WINDOW] + [now]
            restarts[name] = recent
            if len(recent) > RESTART_LIMIT:
                print(
                    f"The {name} stopped (exit code {code}) {len(recent)} times in"
                    f" {RESTART_WINDOW / 60:.0f} minutes; stopping web, worker and beat."
                    f" Its log lines above say why.",
                    flush=True,
                )
                stop()
                return 1
            print(
                f"The {name} stopped unexpectedly (exit code {code}); starting it again"
                f" ({len(recent)} of at most {RESTART_LIMIT} restarts in"
                f" {RESTART_WINDOW / 60:.0f} minutes).",
                flush=True,
            )
            start(name)


if __name__ == "__main__":
    sys.exit(main())
