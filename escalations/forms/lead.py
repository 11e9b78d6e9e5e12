"""Filters for an agency's escalations."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from cases.models import Agency
from escalations.models import Nature, State
from policies.models import Stage


def stage_choices(stages: list[Stage]) -> list:
    """The stages of the ladders of the person's agencies' partnerships (`current_stages`).
    One partnership: its stages, the value the stage number. Several (a police force in two
    partnerships): each partnership's stages under its name, the value `<slug>-<number>`."""
    by_partnership: dict = {}
    for stage in stages:
        by_partnership.setdefault(stage.ladder.partnership, []).append(stage)
    choices: list = [("", "Any stage")]
    if len(by_partnership) == 1:
        [ladder_stages] = by_partnership.values()
        return choices + [(str(s.number), f"Stage {s.number}: {s.name}") for s in ladder_stages]
    for partnership, ladder_stages in by_partnership.items():
        choices.append(
            (
                partnership.name,
                [
                    (f"{partnership.slug}-{s.number}", f"Stage {s.number}: {s.name}")
                    for s in ladder_stages
                ],
            )
        )
    return choices


class AgencyFilterForm(forms.Form):
    stage = forms.ChoiceField(
        label="Stage",
        required=False,
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

    def __init__(self, *args, agencies: list[Agency], stages: list[Stage], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = stage_choices(stages)
        self.partnership_ids = {s.ladder.partnership.slug: s.ladder.partnership_id for s in stages}
        self.fields["other_agency"].choices = [("", "Any agency")] + [
            (a.pk, a.name) for a in agencies
        ]

    def apply(self, queryset):
        data = self.cleaned_data
        if data.get("stage"):
            slug, _, number = data["stage"].rpartition("-")
            queryset = queryset.filter(stage__number=int(number))
            if slug:
                queryset = queryset.filter(partnership_id=self.partnership_ids[slug])
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
