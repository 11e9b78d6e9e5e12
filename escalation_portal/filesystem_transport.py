"""Kombu's filesystem transport (the embedded broker `make run` uses when no Redis is set),
writing each message whole before any reader can see it.

Kombu creates the message file under its final name and then writes into it; a worker
listing the folder in between takes an empty or half-written file, fails to decode it
(`JSONDecodeError`) and stops. Here the message is written under a name the reader skips
(`.tmp` after `.msg`; kombu reads only names ending `<queue>.msg`) and renamed into place,
which is atomic on one filesystem: a reader sees the whole message or none of it."""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.tmp"
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
