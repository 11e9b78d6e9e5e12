"""The one form-field layer: GOV.UK Design System components for Django bound fields.

Pages use `{% govuk_field form.x %}` and `{% govuk_error_summary form %}`; the markup follows
govuk-frontend 6's macros (labels, hints, error messages, aria-describedby)."""

from __future__ import annotations

from django import forms, template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from escalations.fields import DateWidget, parts_of

register = template.Library()


def anchor_id(bound: forms.BoundField) -> str:
    """The id an error summary links to: the field's first input."""
    if isinstance(bound.field.widget, DateWidget):
        return f"{bound.auto_id}-day"
    return bound.auto_id


def _kind(widget: forms.Widget) -> str:
    if isinstance(widget, DateWidget):
        return "date"
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    return "input"


def _choices(bound: forms.BoundField, kind: str):
    value = bound.value()
    if kind == "checkboxes":
        selected = {str(v) for v in (value or [])}
    else:
        selected = {str(value)} if value not in (None, "") else set()
    rows = []
    for i, (choice_value, label) in enumerate(bound.field.choices):
        if kind in ("radios", "checkboxes") and choice_value == "":
            continue
        if kind == "select" and isinstance(label, list | tuple):
            # A group of options (<optgroup>): choice_value is the group's label.
            options = [
                {"value": v, "label": text, "checked": str(v) in selected} for v, text in label
            ]
            rows.append({"group": choice_value, "options": options})
            continue
        rows.append(
            {
                "value": choice_value,
                "label": label,
                "id": bound.auto_id if not rows else f"{bound.auto_id}-{i}",
                "checked": str(choice_value) in selected,
                "hint": getattr(bound.field, "choice_hints", {}).get(choice_value, ""),
            }
        )
    return rows


@register.simple_tag
def govuk_field(
    bound: forms.BoundField,
    heading: bool = False,
    size: str = "m",
    classes: str = "",
    rows: int = 5,
    conditional_value: str = "",
    conditional: forms.BoundField | None = None,
    autocomplete: str = "",
    inline: bool = False,
    label: str = "",
    input_type: str = "",
):
    kind = _kind(bound.field.widget)
    context = {
        "field": bound,
        "kind": kind,
        "label": label or bound.label,
        "heading": heading,
        "size": size,
        "classes": classes,
        "rows": rows,
        "hint": bound.help_text,
        "hint_id": f"{bound.auto_id}-hint",
        "error_id": f"{bound.auto_id}-error",
        "errors": bound.errors,
        "autocomplete": autocomplete,
        "inline": inline,
        "input_type": input_type or getattr(bound.field.widget, "input_type", "text") or "text",
        "value": bound.value() if kind not in ("date",) else None,
    }
    if getattr(bound.field, "max_length", None):
        context["max_length"] = f"{bound.field.max_length:,}"
    if kind in ("radios", "checkboxes", "select"):
        context["choices"] = _choices(bound, kind)
    if kind == "date":
        day, month, year = parts_of(bound.value())
        context["parts"] = [
            ("day", "Day", day, 2, "govuk-input--width-2"),
            ("month", "Month", month, 2, "govuk-input--width-2"),
            ("year", "Year", year, 4, "govuk-input--width-4"),
        ]
    if conditional is not None:
        context["conditional_value"] = conditional_value
        context["conditional_id"] = f"conditional-{bound.auto_id}-{conditional_value}"
        context["conditional_html"] = govuk_field(conditional, size="s")
    return mark_safe(render_to_string(f"govuk/{kind}.html", context))  # noqa: S308


@register.inclusion_tag("govuk/error_summary.html")
def govuk_error_summary(*forms_):
    items = []
    for form in forms_:
        if form is None or not form.errors:
            continue
        for message in form.non_field_errors():
            items.append({"message": message, "href": ""})
        for name in form.errors:
            if name == forms.forms.NON_FIELD_ERRORS:
                continue
            bound = form[name]
            for message in form.errors[name]:
                items.append({"message": message, "href": f"#{anchor_id(bound)}"})
    return {"items": items}


@register.filter
def has_errors(form) -> bool:
    return bool(form is not None and form.errors)


@register.filter
def govuk_datetime(value) -> str:
    """23 November 2026 at 2:17pm (GOV.UK style: no dots, no leading zero)."""
    if not value:
        return ""
    from django.utils import timezone

    local = timezone.localtime(value)
    hour = local.strftime("%I").lstrip("0")
    return f"{local.day} {local:%B %Y} at {hour}:{local:%M}{local:%p}".replace("AM", "am").replace(
        "PM", "pm"
    )
