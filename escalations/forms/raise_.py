"""The question pages of raising a challenge, one question (or one small group) per page.

Each form reads its initial values from the draft's answers and writes back plain JSON."""

from __future__ import annotations

from datetime import date

from django import forms

from cases import limits
from cases.models import Agency, Membership
from escalations.fields import DateField, too_long
from escalations.models import Nature, Pathway
from policies.models import Partnership, Role

YES_NO = [("yes", "Yes"), ("no", "No")]


def required(message: str) -> dict:
    return {"required": message}


class Question(forms.Form):
    """A page of the journey. `heading_field` is the field whose label is the page's h1."""

    heading_field: str | None = None
    title = ""

    def __init__(self, *args, answers: dict, person, **kwargs):
        self.answers = answers
        self.person = person
        initial = {name: answers.get(name) for name in self.base_fields if name in answers}
        super().__init__(*args, initial=initial, **kwargs)

    def to_answers(self) -> dict:
        result = {}
        for name, value in self.cleaned_data.items():
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, Agency | Partnership):
                value = value.pk
            result[name] = value
        return result


class AgencyQuestion(Question):
    title = "Which agency are you raising this challenge for?"
    heading_field = "raising_agency"
    raising_agency = forms.TypedChoiceField(
        label=title,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages=required("Select the agency you are raising this challenge for"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["raising_agency"].choices = agencies_of(self.person)


def agencies_of(person) -> list[tuple[int, str]]:
    seen = {}
    for m in person.memberships.all():
        if m.agency_id and m.agency_id not in seen:
            seen[m.agency_id] = m.agency.name
    return list(seen.items())


class PartnershipQuestion(Question):
    title = "Which partnership's area does the child live in?"
    heading_field = "partnership"
    partnership = forms.TypedChoiceField(
        label=title,
        coerce=int,
        help_text="The child's home partnership decides which escalation ladder applies.",
        widget=forms.RadioSelect,
        error_messages=required("Select the partnership where the child lives"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        agency = Agency.objects.filter(pk=self.answers.get("raising_agency")).first()
        partnerships = agency.partnerships.all() if agency else Partnership.objects.none()
        self.fields["partnership"].choices = [(p.pk, p.name) for p in partnerships]


class ImmediateRiskQuestion(Question):
    title = "Is the child at immediate risk of significant harm?"
    heading_field = "immediate_risk"
    immediate_risk = forms.ChoiceField(
        label=title,
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages=required("Select yes if the child is at immediate risk of significant harm"),
    )


class StartStageQuestion(Question):
    title = "Which stage should the escalation start at?"
    heading_field = "start_stage"
    start_stage = forms.TypedChoiceField(
        label=title,
        coerce=int,
        help_text="With immediate risk, your partnership's policy lets you start at any stage.",
        widget=forms.RadioSelect,
        error_messages=required("Select the stage to start at"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        partnership = Partnership.objects.filter(pk=self.answers.get("partnership")).first()
        ladder = partnership.current_ladder if partnership else None
        stages = ladder.escalation_stages() if ladder else []
        self.fields["start_stage"].choices = [
            (s.number, f"Stage {s.number}: {s.name}") for s in stages
        ]
        self.fields["start_stage"].choice_hints = {s.number: s.who for s in stages}


class ConductQuestion(Question):
    title = "Is your concern about the conduct of a person who works with children?"
    heading_field = "conduct"
    conduct = forms.ChoiceField(
        label=title,
        help_text="For example, a professional who may have harmed a child or behaved "
        "inappropriately towards children.",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages=required("Select yes if your concern is about a person's conduct"),
    )


class ChildQuestion(Question):
    title = "Who is the challenge about?"
    child_kind = forms.ChoiceField(
        label="Is it about a child, an unborn baby or a family group?",
        choices=[("child", "A child"), ("unborn", "An unborn baby"), ("family", "A family group")],
        widget=forms.RadioSelect,
        error_messages=required("Select whether it is about a child, an unborn baby or a family"),
    )
    given_names = forms.CharField(
        label="Given names",
        required=False,
        max_length=200,
        help_text="For an unborn baby, the mother's names.",
    )
    family_name = forms.CharField(
        label="Family name", max_length=200, error_messages=required("Enter the family name")
    )
    date_of_birth = DateField(
        label="Date of birth (if known)",
        what="the date of birth",
        required=False,
        not_future=True,
        help_text="For example, 27 3 2019. Leave empty for an unborn baby or a family group.",
    )
    address = forms.CharField(
        label="Address (if known)",
        required=False,
        widget=forms.Textarea,
        max_length=limits.ADDRESS,
        error_messages=too_long("the address", limits.ADDRESS),
    )

    def clean(self):
        data = super().clean()
        if data.get("child_kind") == "child" and not (data.get("given_names") or "").strip():
            self.add_error("given_names", "Enter the child's given names")
        return data


class OtherAgencyQuestion(Question):
    title = "Which agency's decision are you challenging?"
    heading_field = "receiving_agency"
    receiving_agency = forms.TypedChoiceField(
        label=title,
        coerce=int,
        error_messages=required("Select the agency whose decision you are challenging"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        agencies = Agency.objects.filter(partnerships=self.answers.get("partnership")).exclude(
            pk=self.answers.get("raising_agency")
        )
        self.fields["receiving_agency"].choices = [("", "Select an agency")] + [
            (a.pk, a.name) for a in agencies
        ]


class PractitionerQuestion(Question):
    title = "Who made the decision you are challenging?"
    receiving_person = forms.TypedChoiceField(
        label="Practitioner (if known)",
        coerce=int,
        required=False,
        empty_value=None,
    )
    receiving_team = forms.CharField(
        label="Team, or the practitioner's name if they are not listed (optional)",
        required=False,
        max_length=200,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        memberships = (
            Membership.objects.filter(
                agency=self.answers.get("receiving_agency"),
                role__in=[Role.PRACTITIONER, Role.LINE_MANAGER],
                person__user__is_active=True,
            )
            .select_related("person")
            .order_by("person__full_name")
        )
        people = {m.person_id: f"{m.person.full_name}, {m.job_title}" for m in memberships}
        self.fields["receiving_person"].choices = [
            ("", "Not known or not listed"),
            *people.items(),
        ]


class PathwayQuestion(Question):
    title = "Which pathway is the child on?"
    heading_field = "pathway"
    pathway = forms.ChoiceField(
        label=title,
        choices=Pathway.choices,
        widget=forms.RadioSelect,
        error_messages=required("Select the pathway"),
    )


class NatureQuestion(Question):
    title = "What is the professional difference about?"
    heading_field = "natures"
    natures = forms.MultipleChoiceField(
        label=title,
        help_text="Select all that apply.",
        choices=Nature.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages=required("Select what the professional difference is about"),
    )
    nature_other = forms.CharField(label="Say what it is", required=False, max_length=300)

    def clean(self):
        data = super().clean()
        if (
            Nature.OTHER in (data.get("natures") or [])
            and not (data.get("nature_other") or "").strip()
        ):
            self.add_error("nature_other", "Enter what the other difference is about")
        return data


class DetailsQuestion(Question):
    title = "What are the details of the difference?"
    heading_field = "details"
    details = forms.CharField(
        label=title,
        help_text="What was decided, why you disagree, and what you have already tried.",
        widget=forms.Textarea,
        max_length=limits.ACCOUNT,
        error_messages=required("Enter the details of the difference")
        | too_long("the details of the difference", limits.ACCOUNT),
    )


class OutcomeQuestion(Question):
    title = "What outcome are you seeking?"
    heading_field = "outcome_sought"
    outcome_sought = forms.CharField(
        label=title,
        widget=forms.Textarea,
        max_length=limits.ACCOUNT,
        error_messages=required("Enter the outcome you are seeking")
        | too_long("the outcome you are seeking", limits.ACCOUNT),
    )


class InterimSafetyQuestion(Question):
    title = "While this is open, who is keeping the child safe, and how?"
    heading_field = "interim_safety"
    interim_safety = forms.CharField(
        label=title,
        help_text="At no time must a professional disagreement detract from keeping the child safe.",
        widget=forms.Textarea,
        max_length=limits.ACCOUNT,
        error_messages=required("Enter who is keeping the child safe meanwhile, and how")
        | too_long("who is keeping the child safe, and how", limits.ACCOUNT),
    )


class DiscussionDateQuestion(Question):
    title = "When was the initial discussion?"
    heading_field = "initial_discussion_on"
    initial_discussion_on = DateField(
        label=title,
        what="the date of the initial discussion",
        not_future=True,
        help_text="The first time you raised the difference with the other agency. The clock "
        "of the first stage starts from it. For example, 27 3 2026.",
    )
