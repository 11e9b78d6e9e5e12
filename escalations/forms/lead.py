"""Filters for an agency's escalations."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from cases.models import Agency
from escalations.models import Nature, State


class AgencyFilterForm(forms.Form):
    stage = forms.TypedChoiceField(
        label="Stage",
        coerce=int,
        required=False,
        empty_value=None,
        choices=[("", "Any stage")] + [(n, f"Stage {n}") for n in range(1, 7)],
        error_messages={"invalid_choice": "Select a stage from the list"},
    )
    state = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status")] + [c for c in State.choices if c[0] != State.DRAFT],
        error_messages={"invalid_choice": "Select a status from the list"},
    )
    nature = forms.ChoiceField(
        label="Nature of the difference",
        required=False,
        choices=[("", "Any nature"), *Nature.choices],
        error_messages={"invalid_choice": "Select a nature from the list"},
    )
    other_agency = forms.TypedChoiceField(
        label="Other agency",
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": "Select an agency from the list"},
    )
    overdue = forms.BooleanField(label="Only overdue escalations", required=False)

    def __init__(self, *args, agencies: list[Agency], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["other_agency"].choices = [("", "Any agency")] + [
            (a.pk, a.name) for a in agencies
        ]

    def apply(self, queryset):
        data = self.cleaned_data
        if data.get("stage"):
            queryset = queryset.filter(stage__number=data["stage"])
        if data.get("state"):
            queryset = queryset.filter(state=data["state"])
        if data.get("nature"):
            queryset = queryset.filter(natures__nature=data["nature"])
        if data.get("other_agency"):
            other = data["other_agency"]
            queryset = queryset.filter(Q(raising_agency=other) | Q(receiving_agency=other))
        if data.get("overdue"):
            queryset = queryset.overdue()
        return queryset
