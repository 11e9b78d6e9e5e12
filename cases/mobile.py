"""A UK mobile number, for text messages on immediate-risk alerts (GOV.UK Notify sends them only
to numbers it can text). People type numbers many ways ("07700 900123", "+44 7700 900123",
"(07700) 900-123"); the portal keeps one form, +447..., so a number is stored once however
it was typed, and refuses anything else with a message that says what to type."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

EXAMPLE = "07700 900123"
_SEPARATORS = re.compile(r"[\s\-().]")


def uk_mobile(value: str) -> str:
    """The number as +447xxxxxxxxx, or "" for an empty one; ValidationError otherwise."""
    digits = _SEPARATORS.sub("", value or "")
    if not digits:
        return ""
    if digits.startswith("+44"):
        digits = "0" + digits[3:]
    elif digits.startswith("0044"):
        digits = "0" + digits[4:]
    elif digits.startswith("44") and len(digits) == 12:
        digits = "0" + digits[2:]
    foreign = digits.startswith("+")  # another country's code
    if not foreign and not digits.isdigit():
        raise ValidationError(
            f"Enter a mobile number using digits only, like {EXAMPLE}", code="not_digits"
        )
    if foreign or not digits.startswith("07") or len(digits) != 11:
        raise ValidationError(
            f"Enter a UK mobile number: 11 digits starting 07, like {EXAMPLE}", code="not_mobile"
        )
    return "+44" + digits[1:]


def display(stored: str) -> str:
    """+447700900123 -> 07700 900123."""
    if not stored.startswith("+447"):
        return stored
    national = "0" + stored[3:]
    return f"{national[:5]} {national[5:]}"
