"""Text direction for values that may be written right to left (Arabic, Hebrew names)."""

import unicodedata

from django import template

register = template.Library()


@register.filter
def dir_of(value) -> str:
    """'rtl' when the first strongly directional letter is right-to-left, as HTML's dir=auto
    would decide (WeasyPrint does not work dir=auto out itself)."""
    for char in str(value or ""):
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"
