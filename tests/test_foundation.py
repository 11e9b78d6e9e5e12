import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_home_page_says_what_the_portal_is(client, db):
    response = client.get("/", follow=True)
    assert response.status_code == 200
    assert b"Escalation Portal" in response.content
    assert b'href="#main-content"' in response.content


def test_healthz_is_ok_when_database_and_broker_answer_and_worker_and_beat_were_seen(client, db):
    from escalations.models import Pulse, PulseKind

    Pulse.objects.record(PulseKind.WORKER)
    Pulse.objects.record(PulseKind.SWEEP)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["down"]) == ("ok", [])
    # "redis" when the broker is Redis (CI, compose), "broker" for the embedded one.
    broker = "redis" if "redis" in body else "broker"
    assert body["database"] == body[broker] == {"ok": True}


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean_env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean_env, capture_output=True, text=True
    )


SETUP = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'escalation_portal.settings';"
    " django.setup(); from django.conf import settings as s; "
)


def test_settings_refuse_to_start_without_a_secret_key_when_not_debugging(tmp_path):
    result = run_python(SETUP, DEBUG="false", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_settings_default_to_sqlite_and_the_embedded_broker(tmp_path):
    result = run_python(
        SETUP
        + "import json; print(json.dumps([s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL,"
        " s.TIME_ZONE, s.EMAIL_BACKEND, s.DEBUG]))",
        DEBUG="true",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    engine, broker, zone, email, debug = json.loads(result.stdout.strip().splitlines()[-1])
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://localhost//"
    assert zone == "Europe/London"
    assert email.endswith("console.EmailBackend")
    assert debug is True
    assert (tmp_path / "celery" / "queue").is_dir()


def test_settings_use_postgresql_redis_and_smtp_when_told(tmp_path):
    result = run_python(
        SETUP + "import json; print(json.dumps([s.DATABASES['default']['ENGINE'],"
        " s.DATABASES['default']['NAME'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND]))",
        DEBUG="false",
        SECRET_KEY="x" * 50,
        VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/portal",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/3",
        EMAIL_HOST="smtp.example.org",
    )
    assert result.returncode == 0, result.stderr
    engine, name, broker, email = json.loads(result.stdout.strip().splitlines()[-1])
    assert engine == "django.db.backends.postgresql"
    assert name == "portal"
    assert broker == "redis://127.0.0.1:6379/3"
    assert email.endswith("smtp.EmailBackend")


def test_healthz_names_the_database_when_it_does_not_answer(tmp_path):
    # A real connection attempt to a port where no PostgreSQL listens, in a fresh process.
    result = run_python(
        SETUP + "from django.test import Client; r = Client().get('/healthz');"
        " print(r.status_code, r.content.decode())",
        DEBUG="false",
        SECRET_KEY="x" * 50,
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="testserver",
        VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere",
    )
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    # The worker and beat are read from the database: not known, so not well.
    assert json.loads(body)["down"] == ["database", "worker", "beat"]


def test_healthz_names_the_broker_when_it_does_not_answer(tmp_path):
    # A real connection attempt to a port where no Redis listens, in a fresh process.
    result = run_python(
        SETUP + "from django.test import Client; r = Client().get('/healthz');"
        " print(r.status_code, r.content.decode())",
        DEBUG="false",
        SECRET_KEY="x" * 50,
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="testserver",
        VAR_DIR=str(tmp_path),
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
    )
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    body = json.loads(body)
    assert body["redis"] == {"ok": False}
    assert body["down"][0] == "redis"


def test_worker_and_beat_run_the_periodic_heartbeat(tmp_path):
    env = {**os.environ, "DEBUG": "true", "VAR_DIR": str(tmp_path), "HEARTBEAT_SECONDS": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "escalation_portal",
            "worker",
            "-B",
            "-l",
            "info",
            "--concurrency",
            "1",
            "-n",
            f"heartbeat-{os.getpid()}@%h",
            "-s",
            str(tmp_path / "beat-schedule"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    deadline = time.monotonic() + 90
    try:
        for line in worker.stdout:
            seen.append(line)
            if "heartbeat: worker and beat alive" in line or time.monotonic() > deadline:
                break
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert any("heartbeat: worker and beat alive" in line for line in seen), "".join(seen[-30:])


def test_a_bad_boolean_setting_is_refused_by_name(tmp_path):
    result = run_python(SETUP, DEBUG="perhaps", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


@pytest.mark.browser
def test_smoke_home_page_opens_in_chromium(live_server, page, screenshot_dir):
    page.goto(live_server.url + "/")
    assert page.title() == "Sign in \N{EN DASH} Escalation Portal"
    assert page.locator("h1").inner_text() == "Sign in to the Escalation Portal"
    page.screenshot(path=str(screenshot_dir / "home.png"), full_page=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
    except urllib.error.HTTPError:
        return True  # any HTTP answer: the server is up
    except OSError:
        return False
    return True


def kill_processes_with(setting: str) -> None:
    """After a failed run: the children the run command started, found by their environment."""
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if setting.encode() in environ.read_bytes().split(b"\0"):
                os.kill(int(environ.parent.name), signal.SIGKILL)
        except OSError:
            continue


def test_the_run_command_serves_and_ctrl_c_stops_web_worker_and_beat(tmp_path):
    port = free_port()
    env = {**os.environ, "DEBUG": "true", "VAR_DIR": str(tmp_path), "PORTAL_PORT": str(port)}
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)  # its own SQLite file and broker folder under tmp_path
    portal = subprocess.Popen(
        [sys.executable, "scripts/run_portal.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # As a shell starts a background job: SIGINT ignored. Ctrl-C must still stop it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        deadline = time.monotonic() + 90
        while not answers(f"http://127.0.0.1:{port}/healthz") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert answers(f"http://127.0.0.1:{port}/healthz")
        portal.send_signal(signal.SIGINT)
        output, _ = portal.communicate(timeout=60)
    finally:
        if portal.poll() is None:
            portal.kill()
            kill_processes_with(f"VAR_DIR={tmp_path}")
    assert f"http://127.0.0.1:{port}/" in output
    assert "Stopped web, worker and beat." in output, output[-2000:]
    assert portal.returncode == 0
    assert not answers(f"http://127.0.0.1:{port}/healthz")


def children_of(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def test_the_run_command_starts_a_worker_that_died_again_saying_so(tmp_path):
    import threading

    port = free_port()
    env = {**os.environ, "DEBUG": "true", "VAR_DIR": str(tmp_path), "PORTAL_PORT": str(port)}
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    portal = subprocess.Popen(
        [sys.executable, "scripts/run_portal.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(portal.stdout), daemon=True)
    reader.start()

    def worker_pids() -> list[int]:
        return [
            pid
            for pid in children_of(portal.pid)
            if b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        ]

    try:
        deadline = time.monotonic() + 90
        while not answers(f"http://127.0.0.1:{port}/healthz") and time.monotonic() < deadline:
            time.sleep(0.5)
        [first] = worker_pids()
        os.killpg(first, signal.SIGKILL)  # the worker and its pool, as the OOM killer might
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(p != first for p in worker_pids()):
            time.sleep(0.5)
        restarted = [p for p in worker_pids() if p != first]
        assert answers(f"http://127.0.0.1:{port}/healthz")  # the web server went on serving
        portal.send_signal(signal.SIGINT)
        portal.wait(timeout=60)
        reader.join(10)
    finally:
        if portal.poll() is None:
            portal.kill()
        kill_processes_with(f"VAR_DIR={tmp_path}")
    output = "".join(lines)
    assert restarted, output[-2000:]
    assert "The worker stopped unexpectedly (exit code -9); starting it again" in output
    assert "Stopped web, worker and beat." in output


@pytest.mark.django_db(transaction=True)
def test_200_requests_through_the_run_command_leave_no_more_connections_than_its_processes(
    tmp_path,
):
    """The development server answers each request in a new thread; a connection kept after
    the request stays with a thread that never returns (98 idle connections were seen)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL connections: set DATABASE_URL=postgres://...")
    from tests.support.processes import database_url

    port = free_port()
    env = {**os.environ, "DEBUG": "true", "VAR_DIR": str(tmp_path), "PORTAL_PORT": str(port)}
    env.update(DATABASE_URL=database_url(), HEARTBEAT_SECONDS="3600")
    for name in ("DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL", "DB_CONN_MAX_AGE"):
        env.pop(name, None)
    portal = subprocess.Popen(
        [sys.executable, "scripts/run_portal.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    name = connection.settings_dict["NAME"]

    def connections_open() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            return cursor.fetchone()[0]

    try:
        deadline = time.monotonic() + 90
        while not answers(f"http://127.0.0.1:{port}/healthz") and time.monotonic() < deadline:
            time.sleep(0.5)
        with ThreadPoolExecutor(10) as pool:
            list(pool.map(lambda _: answers(f"http://127.0.0.1:{port}/healthz"), range(200)))
        time.sleep(2)
        # The worker's main process, its two pool processes and beat, at most.
        assert connections_open() <= 4
    finally:
        portal.send_signal(signal.SIGINT)
        try:
            portal.wait(timeout=60)
        except subprocess.TimeoutExpired:
            portal.kill()
            kill_processes_with(f"VAR_DIR={tmp_path}")
