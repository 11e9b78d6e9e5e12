"""Reading a record PDF as a person (or a screen reader) would: its text, pages and metadata."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def page_texts(pdf: bytes) -> list[str]:
    return [flat(page.extract_text()) for page in reader(pdf).pages]


def flat(text: str) -> str:
    """Whitespace collapsed, so a label wrapped over two lines of a cell still reads as one."""
    return re.sub(r"\s+", " ", text).strip()


def text_of(pdf: bytes) -> str:
    return " ".join(page_texts(pdf))


# Each page's header and footer, which pypdf reads after the page's body.
MARGINS = re.compile(
    r" ?OFFICIAL-SENSITIVE Reference \S+ (?:OFFICIAL-SENSITIVE )?Produced .*? Page \d+ of \d+$"
)


def body_text(pdf: bytes) -> str:
    """The pages' text without their headers and footers, so text running over a page break
    reads on as one."""
    return " ".join(MARGINS.sub("", text) for text in page_texts(pdf))


def squeezed(text: str) -> str:
    """No whitespace at all: a long URL may wrap anywhere, even where it had no space."""
    return re.sub(r"\s+", "", text)
