"""Email backends for tests that run real worker processes (locmem is per process).

FileEmailBackend writes one file per message sent, so a message sent twice is two files. A
message is first written as `.partial` and renamed when complete, like a mail server that
keeps a message only once its transmission ends: a worker killed mid-send leaves a `.partial`,
which is not a delivery. While the file `slow` exists in the folder, each send pauses with its
`.partial` on disk, so a test can kill a worker while a send is under way."""

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class FileEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = Path(os.environ["EMAIL_FILE_DIR"])
        for message in email_messages:
            name = folder / f"{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex}.eml"
            partial = name.with_suffix(".partial")
            partial.write_bytes(message.message().as_bytes())
            if (folder / "slow").exists():
                time.sleep(float(os.environ.get("EMAIL_SLOW_SECONDS", "0.5")))
            partial.rename(name)
        return len(email_messages)


class FailingEmailBackend(BaseEmailBackend):
    """A mail server that refuses everything."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server refused the connection")


class HoldingEmailBackend(BaseEmailBackend):
    """A mail server that holds each message until a test says so, noting what the sender held
    while it waited: whether a transaction was open. `during` runs in another thread while the
    send is held (a person's request, say) and the send waits for it, at most `patience` s."""

    seen: list[dict] = []
    during = None
    patience = 5.0

    def send_messages(self, email_messages):
        import threading

        from django.db import connection

        for message in email_messages:
            note = {
                "in_transaction": connection.in_atomic_block or not connection.get_autocommit(),
                "message_id": message.extra_headers.get("Message-ID"),
                "during_finished": None,
            }
            if HoldingEmailBackend.during is not None:
                worker = threading.Thread(target=HoldingEmailBackend.during)
                worker.start()
                worker.join(HoldingEmailBackend.patience)
                note["during_finished"] = not worker.is_alive()
                worker.join()
            HoldingEmailBackend.seen.append(note)
        return len(email_messages)


class RefusingRecipientBackend(BaseEmailBackend):
    """A mail server that works but refuses one address."""

    refused = "refused@example.invalid"
    delivered: list = []

    def send_messages(self, email_messages):
        import smtplib

        for message in email_messages:
            if self.refused in message.to:
                raise smtplib.SMTPRecipientsRefused({self.refused: (550, b"No such user")})
            RefusingRecipientBackend.delivered.append(message)
        return len(email_messages)
