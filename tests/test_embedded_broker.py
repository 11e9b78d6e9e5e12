"""The embedded broker (kombu's filesystem transport, what `make run` uses with no Redis)
never hands a half-written message to a reader: publishers in several processes write at once
while a reader drains the folder, and every message arrives whole, exactly once."""

import multiprocessing
import os
from pathlib import Path

from kombu import Connection

import escalation_portal.celery  # noqa: F401 (registers the portal's transports)

PUBLISHERS = 4
EACH = 150
# Large enough that writing one takes a while: the window the reader used to fall into.
PAYLOAD = "x" * 200_000


def options(folder: Path) -> dict:
    return {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "processed_folder": str(folder.parent / "processed"),
        "store_processed": False,
    }


def publish(folder: str, publisher: int) -> None:
    with Connection("filesystem://", transport_options=options(Path(folder))) as conn:
        queue = conn.SimpleQueue("portal-test")
        for n in range(EACH):
            queue.put({"publisher": publisher, "n": n, "body": PAYLOAD})
        queue.close()


def test_concurrent_publishers_and_a_reader_see_only_whole_messages(tmp_path):
    folder = tmp_path / "queue"
    folder.mkdir()
    (tmp_path / "processed").mkdir()
    context = multiprocessing.get_context("fork")
    publishers = [context.Process(target=publish, args=(str(folder), p)) for p in range(PUBLISHERS)]
    received: list[tuple[int, int]] = []
    torn = 0
    with Connection("filesystem://", transport_options=options(folder)) as conn:
        assert type(conn.transport).__module__ == "escalation_portal.filesystem_transport"
        queue = conn.SimpleQueue("portal-test")
        for process in publishers:
            process.start()
        try:
            while len(received) < PUBLISHERS * EACH:
                try:
                    message = queue.get(timeout=0.01)
                except queue.Empty:
                    if not any(p.is_alive() for p in publishers) and not any(
                        name.endswith(".msg") for name in os.listdir(folder)
                    ):
                        break
                    continue
                except ValueError:  # JSONDecodeError: a message read before it was whole
                    torn += 1
                    continue
                body = message.payload
                assert body["body"] == PAYLOAD
                received.append((body["publisher"], body["n"]))
                message.ack()
        finally:
            for process in publishers:
                process.join(30)
        queue.close()
    assert torn == 0
    assert sorted(received) == [(p, n) for p in range(PUBLISHERS) for n in range(EACH)]
