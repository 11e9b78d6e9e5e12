"""Runs the web server, a Celery worker and Celery beat together; Ctrl-C stops all three.

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
    for name, command in COMMANDS.items():
        processes[name] = subprocess.Popen(command, env=env, start_new_session=True)  # noqa: S603
    if web_answers(timeout=60):
        print(
            f"Escalation Portal: http://{HOST}:{PORT}/  (web, worker and beat running;"
            " Ctrl-C stops all three)\n",
            flush=True,
        )
        subprocess.run(
            [sys.executable, "manage.py", "demo_logins", "--featured"], env=env, check=False
        )
    while all(process.poll() is None for process in processes.values()):
        time.sleep(0.5)
    ended = [name for name, process in processes.items() if process.poll() is not None]
    print(f"{', '.join(ended)} stopped unexpectedly; stopping the rest.", flush=True)
    stop()
    return 1


if __name__ == "__main__":
    sys.exit(main())
