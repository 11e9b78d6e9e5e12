"""Runs the web server, a Celery worker and Celery beat together; Ctrl-C stops all three."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = os.environ.get("PORTAL_HOST", "127.0.0.1")
PORT = os.environ.get("PORTAL_PORT", "8000")

COMMANDS = {
    "web": [sys.executable, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"],
    "worker": [
        str(BIN / "celery"),
        "-A",
        "escalation_portal",
        "worker",
        "-l",
        "info",
        "--concurrency",
        "2",
        "-n",
        "portal-worker@%h",
    ],
    "beat": [str(BIN / "celery"), "-A", "escalation_portal", "beat", "-l", "info"],
}


def main() -> int:
    os.chdir(ROOT)
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "true"), "PYTHONUNBUFFERED": "1"}
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
    print(
        f"\nEscalation Portal: http://{HOST}:{PORT}/  (web, worker and beat running;"
        " Ctrl-C stops all three)\n",
        flush=True,
    )
    subprocess.run([sys.executable, "manage.py", "demo_logins"], env=env, check=False)
    while all(process.poll() is None for process in processes.values()):
        time.sleep(0.5)
    ended = [name for name, process in processes.items() if process.poll() is not None]
    print(f"{', '.join(ended)} stopped unexpectedly; stopping the rest.", flush=True)
    stop()
    return 1


if __name__ == "__main__":
    sys.exit(main())
