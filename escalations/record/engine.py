"""HTML to PDF with WeasyPrint, safely: a url_fetcher that reaches only the project's static
files, and a forked child with a hard time limit.

Why a forked child: WeasyPrint has no way to cancel a layout, and a thread cannot be killed.
A child process can. Forking from a parent that has already imported WeasyPrint (and warmed
Pango's font map once, see `warm_up`) costs a few milliseconds; the child renders, writes the
PDF down a pipe and leaves with os._exit, so it never touches the parent's database
connections. On the deadline the parent kills it (SIGKILL) and raises RenderTimeout. The child
also gets a CPU and memory ceiling, so a runaway layout cannot starve the machine.

Knows nothing of Django or escalations: render.py builds the HTML and passes the settings.
"""

from __future__ import annotations

import gc
import logging
import mimetypes
import os
import pickle
import select
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML, URLFetcher
from weasyprint.urls import URLFetcherResponse

logger = logging.getLogger(__name__)

# How much more address space the child may take than the parent had: a record needs well
# under 200 MB; hostile input that wants gigabytes fails instead of starving the machine.
CHILD_EXTRA_MEMORY_BYTES = 1024 * 1024 * 1024


class RenderError(Exception):
    """The PDF could not be produced."""


class RenderTimeout(RenderError):
    """Rendering took longer than its limit and was stopped."""


class RefusedURL(ValueError):
    """A URL the record may not fetch. WeasyPrint catches it, logs it and draws nothing."""


class StaticOnlyFetcher(URLFetcher):
    """Fetches file:// URLs inside the allowed folders only; no network, no other files.

    Every URL asked for is remembered in `asked`, every refusal in `refused`, so tests can
    show that hostile URLs reached the fetcher and went no further."""

    def __init__(self, roots: Iterable[Path]):
        super().__init__(timeout=1, allowed_protocols={"file"}, allow_redirects=False)
        self.roots = [Path(root).resolve() for root in roots]
        self.asked: list[str] = []
        self.refused: list[str] = []

    def allowed_path(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        # resolve() follows symlinks and "..", so neither leads out of a root.
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.roots):
            return None
        return path if path.is_file() else None

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        self.asked.append(url)
        path = self.allowed_path(url)
        if path is None:
            self.refused.append(url)
            raise RefusedURL(f"The record may not fetch {url[:200]!r}.")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": kind})


@dataclass
class Rendered:
    pdf: bytes
    asked: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    seconds: float = 0.0  # wall-clock time of the render itself
    cpu_seconds: float = 0.0  # the child's CPU time: steadier than wall time on a busy machine


def html_to_pdf_in_process(html: str, *, static_roots: Iterable[Path], base_url: str) -> Rendered:
    """Render here, with no time limit: for the child, and for warming up."""
    started = time.perf_counter()
    fetcher = StaticOnlyFetcher(static_roots)
    pdf = HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf(
        # PDF/UA-1: tagged, with the document language and title, for screen readers.
        pdf_variant="pdf/ua-1",
    )
    return Rendered(
        pdf=pdf,
        asked=list(fetcher.asked),
        refused=list(fetcher.refused),
        seconds=time.perf_counter() - started,
    )


_warm = False


def warm_up() -> None:
    """Load fonts and Pango's font map once in this process, so forked children inherit them."""
    global _warm
    if _warm:
        return
    html_to_pdf_in_process(
        '<html lang="en"><body style="font-family: sans-serif">'
        "<p>Aa <b>Bb</b> Zoë ł עברית العربية</p></body></html>",
        static_roots=[],
        base_url="file:///nonexistent/",
    )
    _warm = True


def _address_space_in_use() -> int:
    # The first field of statm is the virtual size in pages (Linux).
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _child(write_fd: int, html: str, static_roots: list[Path], base_url: str, seconds: float):
    import resource

    cpu = int(seconds) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    ceiling = _address_space_in_use() + CHILD_EXTRA_MEMORY_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    try:
        result = ("ok", html_to_pdf_in_process(html, static_roots=static_roots, base_url=base_url))
    except BaseException as error:  # report any failure to the parent, then leave
        result = ("error", f"{type(error).__name__}: {error}"[:500])
    data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(data)
    while view:
        written = os.write(write_fd, view)
        view = view[written:]
    os.close(write_fd)


def html_to_pdf(
    html: str, *, static_roots: Iterable[Path], base_url: str, timeout: float
) -> Rendered:
    """Render in a forked child; kill it and raise RenderTimeout after `timeout` seconds."""
    static_roots = [Path(root) for root in static_roots]
    warm_up()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        # The collector would walk (and so copy, page by page) the whole inherited heap: with
        # it off a render takes 0.3 s instead of 0.7 s. The child lives for one render.
        gc.disable()
        status = 1
        try:
            os.close(read_fd)
            _child(write_fd, html, static_roots, base_url, timeout)
            status = 0
        finally:
            # Never return into the parent's code (test runner, web worker): leave at once,
            # without running the parent's exit handlers or closing its connections.
            os._exit(status)
    os.close(write_fd)
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RenderTimeout(f"Rendering the record took longer than {timeout:g} seconds.")
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    except RenderTimeout:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        os.close(read_fd)
        _, _, usage = os.wait4(pid, 0)
    if not chunks:
        raise RenderError("The renderer stopped without producing the record.")
    outcome, value = pickle.loads(b"".join(chunks))  # noqa: S301 - our own child's bytes
    if outcome != "ok":
        raise RenderError(value)
    value.cpu_seconds = usage.ru_utime + usage.ru_stime
    for url in value.refused:
        logger.warning("record: refused to fetch %s", url[:200])
    return value
