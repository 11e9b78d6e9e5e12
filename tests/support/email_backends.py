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
