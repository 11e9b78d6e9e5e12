"""Talking to the broker from a web request, never for long.

A request that queues work (an urgent relay, an invitation) has already committed its outbox
row; the message only says "look now". So a broker that is down, or frozen (a stuck network,
a Redis under SIGSTOP, which accepts connections and then never answers), must cost the person
at most PUBLISH_WAIT_SECONDS: the publish runs in a helper thread with short socket timeouts,
and the request waits for it that long at most. A publish that has not finished by then goes
on in the background until its socket timeouts end it; the relay's next scheduled run sends
the row either way. /healthz asks the broker the same way."""

from __future__ import annotations

import logging
import threading

from escalation_portal.celery import app

logger = logging.getLogger(__name__)

PUBLISH_WAIT_SECONDS = 1.0
# Per socket operation; a publish is a connect and two or three round trips.
QUICK_SOCKET_SECONDS = 0.5


def quick_transport_options() -> dict:
    url = app.conf.broker_write_url or app.conf.broker_url or ""
    if not url.startswith(("redis", "rediss")):
        return {}
    return {
        "socket_timeout": QUICK_SOCKET_SECONDS,
        "socket_connect_timeout": QUICK_SOCKET_SECONDS,
    }


def _within(seconds: float, work, what: str) -> bool:
    """Run work in a daemon thread; True if it finished without error within seconds."""
    outcome: dict = {}

    def run() -> None:
        try:
            work()
            outcome["ok"] = True
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=f"broker-{what}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        logger.warning("Broker did not answer within %.1f s (%s)", seconds, what)
        return False
    if "error" in outcome:
        logger.warning("Broker unreachable (%s): %s", what, outcome["error"])
        return False
    return True


def publish(task_name: str, kwargs: dict | None = None, *, wait=PUBLISH_WAIT_SECONDS) -> bool:
    """Queue task_name by name; False (logged) when the broker did not take it within wait."""

    def work() -> None:
        with app.connection_for_write(transport_options=quick_transport_options()) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=wait)
            app.send_task(task_name, kwargs=kwargs or {}, connection=conn, retry=False)

    return _within(wait, work, f"publish {task_name}")


def broker_answers(wait: float = PUBLISH_WAIT_SECONDS) -> bool:
    """The broker accepts a connection and answers on it, within wait seconds."""

    def work() -> None:
        with app.connection_for_write(transport_options=quick_transport_options()) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=wait)
            # A frozen Redis accepts the TCP connection (the kernel does); only a command it
            # must answer tells it is alive.
            client = getattr(conn.default_channel, "client", None)
            if hasattr(client, "ping"):
                client.ping()

    return _within(wait, work, "health check")
