"""The filters every dashboard, list, report and export accepts, validated with messages in the
GOV.UK style. Bad input gives an error summary, never a server error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django import forms
from django.core.cache import caches
from django.db.models import CharField, Subquery, Value

from cases.models import Agency
from escalations.dashboards.queries import STATUSES, Filters
from escalations.models import Nature, OutcomeCategory, Pathway
from policies.models import Ladder, Partnership, Stage

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d %m %Y", "%d-%m-%Y"]
REFERENCE_SECONDS = 60
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


@dataclass(frozen=True)
class ReferenceData:
    """What the filters choose from: the partnership's agencies and its current ladder's stages."""

    partnership: Partnership
    agencies: list[Agency]
    stages: list[Stage]

    @classmethod
    def for_partnership(cls, partnership: Partnership) -> ReferenceData:
        """Cached for a minute like the figures: an agency added to the partnership shows in
        the filters within a minute."""
        key = f"dashboards:reference:{partnership.pk}"
        ref = caches["shared"].get(key)
        if ref is None:
            ref = cls.load(partnership)
            caches["shared"].set(key, ref, REFERENCE_SECONDS)
        return ref

    @classmethod
    def load(cls, partnership: Partnership) -> ReferenceData:
        """Agencies and current stages in one query (a UNION): every page needs both, and each
        page has a query budget (at most 10 for a list, 15 for the dashboard)."""
        latest = Ladder.objects.filter(partnership=partnership).order_by("-version").values("pk")
        agencies = partnership.agencies.values_list(
            "pk", "name", Value(False), Value("agency", output_field=CharField())
        )
        stages = Stage.objects.filter(
            ladder=Subquery(latest[:1]), after_resolution=False
        ).values_list(
            "number", "name", "brings_in_partnership", Value("stage", output_field=CharField())
        )
        found_agencies, found_stages = [], []
        for key, name, brings_in, kind in agencies.order_by().union(stages.order_by(), all=True):
            if kind == "agency":
                found_agencies.append(Agency(pk=key, name=name))
            else:
                found_stages.append(
                    Stage(number=key, name=name, brings_in_partnership=bool(brings_in))
                )
        found_agencies.sort(key=lambda a: a.name)
        found_stages.sort(key=lambda s: s.number)
        return cls(partnership, found_agencies, found_stages)

    @property
    def stage_numbers(self) -> list[int]:
        return [s.number for s in self.stages]

    def stage_name(self, number: int) -> str:
        for stage in self.stages:
            if stage.number == number:
                return stage.name
        return ""

    def agency_name(self, agency_id: int) -> str:
        for agency in self.agencies:
            if agency.pk == agency_id:
                return agency.name
        return ""


def _date_field(label: str, what: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=DATE_FORMATS,
        error_messages={"invalid": f"{what} must be a real date, like 1/4/2026"},
    )


def _choice(label: str, choices, what: str) -> forms.TypedChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=[("", "All"), *choices],
        error_messages={"invalid_choice": f"Select {what}"},
    )


class FilterForm(forms.Form):
    # The six a person sets on the page; the others arrive in links from figures.
    VISIBLE = ("from", "to", "agency", "nature", "pathway", "stage")

    def __init__(self, data, *, reference: ReferenceData):
        super().__init__(data)
        self.reference = reference
        agency_choices = [(str(a.pk), a.name) for a in reference.agencies]
        stage_choices = [(str(s.number), f"{s.number}: {s.name}") for s in reference.stages]
        self.fields["from"] = _date_field("From", "The start of the period")
        self.fields["to"] = _date_field("To", "The end of the period")
        self.fields["agency"] = _choice("Agency", agency_choices, "an agency of this partnership")
        self.fields["nature"] = _choice("Nature of difference", Nature.choices, "a nature")
        self.fields["pathway"] = _choice("Pathway", Pathway.choices, "a pathway")
        self.fields["stage"] = _choice("Stage now", stage_choices, "a stage of this ladder")
        self.fields["raising_agency"] = _choice(
            "Raised by", agency_choices, "an agency of this partnership"
        )
        self.fields["receiving_agency"] = _choice(
            "Received by", agency_choices, "an agency of this partnership"
        )
        self.fields["highest_stage"] = _choice(
            "Highest stage reached", stage_choices, "a stage of this ladder"
        )
        self.fields["reached_stage"] = _choice(
            "Reached stage or beyond", stage_choices, "a stage of this ladder"
        )
        self.fields["status"] = _choice(
            "Status", [(k, v[0]) for k, v in STATUSES.items()], "a status"
        )
        self.fields["outcome"] = _choice("Outcome", OutcomeCategory.choices, "an outcome")
        self.fields["learning"] = forms.BooleanField(required=False, label="Learning recorded")
        self.fields["policy_gap"] = forms.BooleanField(required=False, label="Policy gap referred")
        self.fields["resolved_from"] = _date_field(
            "Resolved from", "The start of the resolution period"
        )
        self.fields["resolved_to"] = _date_field("Resolved to", "The end of the resolution period")

    def clean(self):
        data = super().clean()
        for start, end, what in (
            ("from", "to", "period"),
            ("resolved_from", "resolved_to", "resolution period"),
        ):
            for name in (start, end):
                value = data.get(name)
                if value and not EARLIEST <= value <= LATEST:
                    self.add_error(name, f"Enter a date between 2000 and 2100 for the {what}")
            if data.get(start) and data.get(end) and data[end] < data[start]:
                self.add_error(end, f"The end of the {what} must be the same as or after the start")
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data

        def number(name):
            return int(data[name]) if data.get(name) else None

        return Filters(
            date_from=data.get("from"),
            date_to=data.get("to"),
            agency=number("agency"),
            raising_agency=number("raising_agency"),
            receiving_agency=number("receiving_agency"),
            nature=data.get("nature") or "",
            pathway=data.get("pathway") or "",
            stage=number("stage"),
            highest_stage=number("highest_stage"),
            reached_stage=number("reached_stage"),
            status=data.get("status") or "",
            outcome=data.get("outcome") or "",
            learning=bool(data.get("learning")),
            policy_gap=bool(data.get("policy_gap")),
            resolved_from=data.get("resolved_from"),
            resolved_to=data.get("resolved_to"),
        )

    def error_list(self) -> list[dict]:
        """For the GOV.UK error summary: each message with the id of the field it belongs to."""
        return [
            {"href": f"#filter-{name}" if name in self.VISIBLE else "#filters", "text": message}
            for name, messages in self.errors.items()
            for message in messages
        ]

    def controls(self) -> list[dict]:
        """The visible filter controls, pre-digested for the template."""
        controls = []
        for name in self.VISIBLE:
            field = self.fields[name]
            raw = self.data.get(name, "") if self.is_bound else ""
            controls.append(
                {
                    "name": name,
                    "id": f"filter-{name}",
                    "label": field.label,
                    "value": raw,
                    "is_date": isinstance(field, forms.DateField),
                    "hint": "For example, 1/4/2026" if isinstance(field, forms.DateField) else "",
                    "choices": [
                        {"value": v, "label": label, "selected": str(v) == raw}
                        for v, label in getattr(field, "choices", [])
                    ],
                    "errors": self.errors.get(name, []) if self.is_bound else [],
                }
            )
        return controls

    def hidden_filters(self) -> list[tuple[str, str]]:
        """Filters that came in a link and have no control on the page: kept as hidden inputs."""
        return [
            (name, self.data[name])
            for name in self.fields
            if name not in self.VISIBLE and self.data.get(name)
        ]
