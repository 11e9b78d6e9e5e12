"""The conference chair's record of a concern and the agency's response (the fields of Kirklees
Appendix 3's form)."""

from __future__ import annotations

from django import forms

from cases import limits
from cases.models import Agency
from escalations.fields import DateField, too_long
from escalations.models import ConferenceReason


class ConferenceConcernForm(forms.Form):
    meeting_on = DateField(
        label="Date of the conference",
        what="the date of the conference",
        not_future=True,
        help_text="For example, 27 3 2026",
    )
    family_identifier = forms.CharField(
        label="Family name, or identifying factors",
        max_length=200,
        help_text="Only as much as the agency needs to find the case.",
        error_messages={"required": "Enter the family name or identifying factors"},
    )
    chair_name = forms.CharField(
        label="Child protection conference chair",
        max_length=200,
        error_messages={"required": "Enter the name of the conference chair"},
    )
    agency = forms.TypedChoiceField(
        label="Agency",
        coerce=int,
        error_messages={"required": "Select the agency"},
    )
    agency_representative = forms.CharField(
        label="Name of the agency's representative (if known)", max_length=200, required=False
    )
    reason = forms.ChoiceField(
        label="Reason for the escalation",
        choices=ConferenceReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the reason for the escalation"},
    )
    details = forms.CharField(
        label="Details",
        widget=forms.Textarea,
        help_text="What happened, and what you need from the agency.",
        max_length=limits.ACCOUNT,
        error_messages={"required": "Enter the details"} | too_long("the details", limits.ACCOUNT),
    )

    def __init__(self, *args, agencies: list[Agency], **kwargs):
        super().__init__(*args, **kwargs)
        self.agencies = {a.pk: a for a in agencies}
        self.fields["agency"].choices = [("", "Select an agency")] + [
            (a.pk, a.name) for a in agencies
        ]


class ConferenceResponseForm(forms.Form):
    summary = forms.CharField(
        label="Your response",
        widget=forms.Textarea,
        help_text="Why it happened, and what your agency will do so that it does not happen again.",
        max_length=limits.ACCOUNT,
        error_messages={"required": "Enter your response"}
        | too_long("your response", limits.ACCOUNT),
    )
