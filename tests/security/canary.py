"""The canary harness: invented child details unique to one test run, and everything the portal
writes where personal data does not belong (log records, URLs, redirects, links, response
headers, emails, the broker's stored task messages), gathered so they can be searched for them.

A celery message stores its body base64-encoded inside JSON (Redis and the filesystem
transport alike), so stored messages are searched raw and with every base64 field decoded."""

from __future__ import annotations

import base64
import binascii
import html
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import unquote_plus

from django.test import Client

# Every logger the portal or its libraries write to. Handlers go on the root (which sees them
# all, propagation being on); levels are lowered to DEBUG so nothing is filtered before it, as
# with LOG_LEVEL=DEBUG, except where settings.LOGGING pins a logger's level: that is what a
# deployment runs whatever LOG_LEVEL says.
LOGGERS = [
    "",
    "django",
    "django.request",
    "django.server",
    "django.security",
    "django.template",
    "django.db.backends",
    "celery",
    "celery.app.trace",
    "kombu",
    "escalations",
    "escalation_portal",
    "security",
    "audit",
    "cases",
    "policies",
    "axes",
    "weasyprint",
    "fontTools",
]


@dataclass(frozen=True)
class Canary:
    """A child nobody else has: every value carries this run's random token."""

    token: str
    given_names: str
    family_name: str
    date_of_birth: date
    address: str
    postcode: str

    @classmethod
    def new(cls) -> Canary:
        token = secrets.token_hex(4)
        postcode = f"QZ{token.upper()} 9XJ"
        return cls(
            token=token,
            given_names=f"Zebediah Wrenfoot{token}",
            family_name=f"Canaryfield-{token}",
            date_of_birth=date(2015, 2, 1),
            address=f"7 Quillfeather{token} Mews\nSnodsbury Parva\n{postcode}",
            postcode=postcode,
        )

    def needles(self) -> list[str]:
        """Every form in which the child's details could be written out."""
        dob = self.date_of_birth
        return [
            "Zebediah",
            f"Wrenfoot{self.token}",
            f"Canaryfield-{self.token}",
            f"Quillfeather{self.token}",
            "Snodsbury",
            self.postcode,
            self.postcode.replace(" ", ""),
            dob.isoformat(),
            f"{dob.day} {dob:%B %Y}",
            f"{dob:%d %B %Y}",
            f"{dob:%d/%m/%Y}",
            f"{dob.day}/{dob.month}/{dob.year}",
            f"{dob:%B} {dob.day}, {dob.year}",
        ]


@dataclass(frozen=True)
class Leak:
    channel: str
    where: str
    needle: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.channel} [{self.where}]: {self.needle!r} in ...{self.excerpt}..."


@dataclass
class Capture:
    """Texts gathered per channel: (channel, where, text)."""

    items: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, channel: str, where: str, text) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.items.append((channel, where, str(text)))

    def channels(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for channel, _, _ in self.items:
            counts[channel] = counts.get(channel, 0) + 1
        return counts

    def leaks(self, needles: list[str]) -> list[Leak]:
        found = []
        lowered = [n.lower() for n in needles]
        for channel, where, text in self.items:
            low = text.lower()
            for needle, needle_low in zip(needles, lowered, strict=True):
                at = low.find(needle_low)
                if at >= 0:
                    excerpt = text[max(0, at - 60) : at + len(needle) + 60]
                    found.append(Leak(channel, where, needle, excerpt.replace("\n", "\\n")))
        return found


# --- log records ----------------------------------------------------------------------------


class RecordingHandler(logging.Handler):
    """Keeps every record as a handler would write it, exception and stack included, and the
    text of its arguments and extra attributes (a formatter may print any of them)."""

    STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def __init__(self, capture: Capture):
        super().__init__(level=logging.DEBUG)
        self.capture = capture
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        where = f"{record.name} {record.levelname}"
        try:
            self.capture.add("log", where, self.format(record))
        except Exception as exc:  # a record that cannot be formatted is still searched
            self.capture.add("log", where, f"{record.msg!r} {record.args!r} ({exc})")
        for name, value in vars(record).items():
            if name not in self.STANDARD:
                self.capture.add("log", f"{where} extra {name}", repr(value))
        if record.args:
            self.capture.add("log", f"{where} args", repr(record.args))


class LogCapture:
    def __init__(self, capture: Capture):
        self.handler = RecordingHandler(capture)
        self.saved: list[tuple[logging.Logger, int, bool]] = []

    def __enter__(self) -> RecordingHandler:
        from django.conf import settings

        pinned = set(settings.LOGGING.get("loggers", {}))
        for name in LOGGERS:
            logger = logging.getLogger(name)
            self.saved.append((logger, logger.level, logger.disabled))
            if name not in pinned:
                logger.setLevel(logging.DEBUG)
            logger.disabled = False
        logging.getLogger().addHandler(self.handler)
        # Records of loggers that do not propagate (none by default) are caught here too.
        for name in LOGGERS[1:]:
            logger = logging.getLogger(name)
            if not logger.propagate:
                logger.addHandler(self.handler)
        return self.handler

    def __exit__(self, *exc) -> None:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(self.handler)
        for logger, level, disabled in self.saved:
            logger.setLevel(level)
            logger.disabled = disabled


# --- URLs, redirects, links, headers ---------------------------------------------------------

LINK = re.compile(r"""(href|src|action|formaction|data-href)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def links_in(content: str, kinds: tuple[str, ...] = ()) -> list[str]:
    """Every URL in a page's attributes (or only those of the attributes named)."""
    return [
        html.unescape(a or b) for kind, a, b in LINK.findall(content) if not kinds or kind in kinds
    ]


class CapturingClient(Client):
    """The Django test client, noting every URL asked for, every header of every answer
    (Location, Content-Disposition...) and every link in every HTML page."""

    def __init__(self, capture: Capture, **kwargs):
        super().__init__(**kwargs)
        self.capture = capture
        self.seen_links: list[str] = []
        self.requests = 0

    def request(self, **request):
        response = super().request(**request)
        self.requests += 1
        url = request.get("PATH_INFO", "")
        if request.get("QUERY_STRING"):
            url += "?" + request["QUERY_STRING"]
        self.capture.add("url", url, unquote_plus(url))
        for header, value in response.items():
            self.capture.add("header", f"{header} of {url}", unquote_plus(value))
        if "text/html" in response.get("Content-Type", "") and not response.streaming:
            content = response.content.decode("utf-8", "replace")
            for link in links_in(content):
                self.capture.add("link", f"on {url}", unquote_plus(link))
            self.seen_links += links_in(content, ("href",))
        return response


def internal_links(links: list[str]) -> list[str]:
    """Same-site GET targets worth following: not static files, not signing out."""
    out = []
    for link in links:
        path = link.split("#", 1)[0]
        if not path.startswith("/") or path.startswith("//"):
            continue
        if path.startswith(("/static/", "/sign-out/", "/admin/")):
            continue
        out.append(path)
    return out


# --- emails -----------------------------------------------------------------------------------


def add_emails(capture: Capture, outbox) -> None:
    for message in outbox:
        where = f"email to {', '.join(message.to)}: {message.subject[:60]}"
        capture.add("email", where, message.subject)
        capture.add("email", where, message.body)
        for content, _mimetype in getattr(message, "alternatives", []):
            capture.add("email", where, content)
        for name, value in (message.extra_headers or {}).items():
            capture.add("email", f"{where} header {name}", value)
        for attachment in message.attachments:
            capture.add("email", f"{where} attachment", repr(attachment))


# --- broker messages --------------------------------------------------------------------------

B64 = re.compile(rb"^[A-Za-z0-9+/=\s]{8,}$")


def decoded_layers(raw: bytes, depth: int = 0) -> list[bytes]:
    """The raw bytes, and every base64 string found in JSON inside them, decoded, recursively."""
    layers = [raw]
    if depth > 3:
        return layers
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        data = None
    strings: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            strings.append(value)

    walk(data)
    if data is None and B64.match(raw.strip() or b"-"):
        strings.append(raw.decode("ascii", "replace"))
    for text in strings:
        blob = text.encode()
        if not B64.match(blob):
            continue
        try:
            decoded = base64.b64decode(blob, validate=False)
        except (binascii.Error, ValueError):
            continue
        layers += decoded_layers(decoded, depth + 1)
    return layers


def redis_store(url: str) -> dict[str, list[bytes]]:
    """Every key of the broker's Redis database with its raw stored values."""
    import redis

    r = redis.Redis.from_url(url)
    store: dict[str, list[bytes]] = {}
    for key in r.scan_iter(count=500):
        kind = r.type(key).decode()
        if kind == "list":
            values = r.lrange(key, 0, -1)
        elif kind == "hash":
            values = [k + b"=" + v for k, v in r.hgetall(key).items()]
        elif kind == "set":
            values = list(r.smembers(key))
        elif kind == "zset":
            values = list(r.zrange(key, 0, -1))
        elif kind == "string":
            values = [r.get(key) or b""]
        else:
            values = [repr(r.dump(key)).encode()]
        store[key.decode("utf-8", "replace")] = values
    return store


def filesystem_store(folders: list[Path]) -> dict[str, list[bytes]]:
    store: dict[str, list[bytes]] = {}
    for folder in folders:
        if folder.exists():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    store[str(path)] = [path.read_bytes()]
    return store


def add_broker(capture: Capture, store: dict[str, list[bytes]]) -> int:
    count = 0
    for key, values in store.items():
        for i, raw in enumerate(values):
            count += 1
            raw_layer, *decoded = decoded_layers(raw)
            capture.add("broker", f"{key}[{i}]", raw_layer)
            for layer in decoded:
                capture.add("broker", f"{key}[{i}] decoded", layer)
    return count
