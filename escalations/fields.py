"""Form fields the GOV.UK way: a date as three boxes, and specific error messages."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone


class DateWidget(forms.Widget):
    """GOV.UK date input: day, month and year boxes named <name>-day, -month, -year."""

    template_name = ""  # rendered by the govuk field layer, never by Django's widget templates
    parts = ("day", "month", "year")

    def value_from_datadict(self, data, files, name):
        return tuple((data.get(f"{name}-{part}") or "").strip() for part in self.parts)

    def value_omitted_from_data(self, data, files, name):
        return not any(f"{name}-{part}" in data for part in self.parts)


class DateField(forms.Field):
    """A date typed into three boxes, with the GOV.UK pattern's error messages.

    `what` names the date in messages ("the date of the initial discussion"); `not_future`
    refuses dates after today."""

    widget = DateWidget

    def __init__(self, *, what: str, not_future: bool = False, not_past: bool = False, **kwargs):
        self.what = what
        self.not_future = not_future
        self.not_past = not_past
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, date) or value in (None, ""):
            return value or None
        day, month, year = value
        if not (day or month or year):
            return None
        missing = [part for part, typed in zip(DateWidget.parts, value, strict=True) if not typed]
        capital = self.what[0].upper() + self.what[1:]
        if missing:
            raise ValidationError(f"{capital} must include a {' and '.join(missing)}")
        try:
            result = date(int(year), int(month), int(day))
        except (ValueError, OverflowError):  # a 40-digit year overflows rather than misfits
            raise ValidationError(f"{capital} must be a real date") from None
        if len(year) != 4:
            raise ValidationError("Year must include 4 numbers")
        return result

    def validate(self, value):
        if value is None and self.required:
            raise ValidationError(f"Enter {self.what}")
        if value is None:
            return
        capital = self.what[0].upper() + self.what[1:]
        if self.not_future and value > timezone.localdate():
            raise ValidationError(f"{capital} must be today or in the past")
        if self.not_past and value < timezone.localdate():
            raise ValidationError(f"{capital} must be today or in the future")


def parts_of(value) -> tuple[str, str, str]:
    """Day, month, year as shown in the boxes, from a date or what was typed."""
    if isinstance(value, date):
        return str(value.day), str(value.month), str(value.year)
    if isinstance(value, str) and value:
        try:
            return parts_of(date.fromisoformat(value))
        except ValueError:
            return "", "", ""
    if isinstance(value, (tuple, list)) and len(value) == 3:
        return tuple(str(v) for v in value)  # type: ignore[return-value]
    return "", "", ""


def too_long(what: str, limit: int) -> dict:
    """The GOV.UK message for text over its limit (cases.limits): "<What> must be 5,000
    characters or fewer"."""
    return {"max_length": f"{what[0].upper()}{what[1:]} must be {limit:,} characters or fewer"}
