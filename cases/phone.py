"""UK telephone numbers, one home for the rule (issue 17, point 12): a person's work phone and
an agency's safeguarding contact phone are checked and written the same way, so the directory
and the emergency route show numbers a person can ring.

Accepted: a UK number of 10 or 11 digits starting with 0, or the same with +44 (or 0044) in
place of the 0 (an optional "(0)" after it is dropped); spaces, hyphens, dots and brackets are
allowed between digits. Anything else gets one specific message with examples from Ofcom's
ranges kept for drama.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

MESSAGE = "Enter a UK telephone number, like 01632 960 001, 07700 900 982 or +44 1632 960 001"
MAX_LENGTH = 20
_SEPARATORS = re.compile(r"[\s\-.()]")


def normalise(value: str) -> str:
    """The number as it is kept and shown ("01632 960001", "020 7946 0000"), or a
    ValidationError saying what a UK number looks like. Blank stays blank."""
    value = (value or "").strip()
    if not value:
        return ""
    compact = value.replace("(0)", "")
    compact = _SEPARATORS.sub("", compact)
    if compact.startswith("+44"):
        compact = "0" + compact[3:]
    elif compact.startswith("0044"):
        compact = "0" + compact[4:]
    if not re.fullmatch(r"0[1-9][0-9]{8,9}", compact):
        raise ValidationError(MESSAGE, code="invalid")
    if compact.startswith("02") and len(compact) == 11:
        # London, Cardiff and the other 02 areas: 020 7946 0000.
        return f"{compact[:3]} {compact[3:7]} {compact[7:]}"
    return f"{compact[:5]} {compact[5:]}"
