"""The partnership's request for outcomes, and the agency's answer (issue 15, point 8)."""

from __future__ import annotations

from django import forms

from cases import limits
from escalations.fields import DateField, too_long


class AskForOutcomesForm(forms.Form):
    agency = forms.ModelChoiceField(
        queryset=None,
        label="Which agency do you ask?",
        empty_label="Choose an agency",
        error_messages={"required": "Choose the agency you ask"},
    )
    since = DateField(
        label="Escalations raised since",
        what="the day the escalations were raised since",
        not_future=True,
    )
    question = forms.CharField(
        label="What do you ask for?",
        help_text="For example: the outcomes, and any learning, of escalations that stopped "
        "at steps 2 and 3 this quarter.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=limits.REASON,
        error_messages={"required": "Enter what you ask the agency for"}
        | too_long("what you ask", limits.REASON),
    )

    def __init__(self, *args, agencies=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies


class AnswerOutcomesForm(forms.Form):
    answer = forms.CharField(
        label="The outcomes, as a summary",
        help_text="Do not name any child or family, and give no dates of birth or addresses: "
        "the partnership's dashboard shows only summaries.",
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=limits.ACCOUNT,
        error_messages={"required": "Enter the outcomes, as a summary"}
        | too_long("the summary", limits.ACCOUNT),
    )
