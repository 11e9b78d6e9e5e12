"""A mail server for fault tests: a small SMTP server in a thread that accepts, refuses (554 on
connecting), or hangs (accepts the connection and says nothing), and can hold a message in
DATA or call back when the client says QUIT, so a test can kill the sender at those moments.
Every message it accepts is kept with its Message-ID and X-Portal-Notice header."""

from __future__ import annotations

import email
import socket
import threading
import time
from dataclasses import dataclass


@dataclass
class Accepted:
    at: float
    message_id: str
    keys: list[str]


class FakeSmtp:
    def __init__(self, port: int):
        self.port = port
        self.mode = "accept"  # or "refuse", "hang"
        self.accepted: list[Accepted] = []
        self.hold_in_data = False
        self.held = threading.Event()  # a message is held in DATA
        self.release = threading.Event()
        self.cut = False  # the held message's sender was killed: drop it, no 250
        self.on_quit = None  # called once, instead of answering QUIT
        self.lock = threading.Lock()
        self.sessions = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self._listener.settimeout(0.2)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> FakeSmtp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.release.set()
        self._thread.join(5)
        self._listener.close()

    def keys(self) -> dict[str, list[Accepted]]:
        found: dict[str, list[Accepted]] = {}
        with self.lock:
            for accepted in self.accepted:
                for key in accepted.keys:
                    found.setdefault(key, []).append(accepted)
        return found

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        with self.lock:
            self.sessions += 1
        with conn:
            conn.settimeout(30)
            if self.mode == "refuse":
                conn.sendall(b"554 5.3.2 Not accepting mail now\r\n")
                return
            if self.mode == "hang":
                self._stop.wait(20)  # connected, and silent: the client must time out
                return
            file = conn.makefile("rb")
            conn.sendall(b"220 fake.example.invalid ESMTP\r\n")
            try:
                self._converse(conn, file)
            except OSError:
                return

    def _converse(self, conn: socket.socket, file) -> None:
        while True:
            line = file.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                conn.sendall(b"250-fake.example.invalid\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = file.readline()
                    if not chunk:
                        return
                    data += chunk
                if self.hold_in_data:
                    self.held.set()
                    self.release.wait(30)
                    self.release.clear()
                    self.held.clear()
                    if self.cut:
                        self.cut = False
                        return  # its sender died before any 250: not delivered
                message = email.message_from_bytes(data[:-5])
                conn.sendall(b"250 2.0.0 Ok: queued\r\n")
                with self.lock:
                    self.accepted.append(
                        Accepted(
                            at=time.monotonic(),
                            message_id=message["Message-ID"] or "",
                            keys=(message["X-Portal-Notice"] or "").split(),
                        )
                    )
            elif verb == b"QUIT":
                callback, self.on_quit = self.on_quit, None
                if callback is not None:
                    callback()
                    return
                conn.sendall(b"221 Bye\r\n")
                return
            else:  # MAIL, RCPT, RSET, NOOP, HELO
                conn.sendall(b"250 Ok\r\n")
