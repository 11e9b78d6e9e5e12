from django import forms
from django.utils import timezone

from audit.models import AuditEntry


class AuditFilterForm(forms.Form):
    """Filters for the audit log page and its CSV export; every field optional."""

    reference = forms.CharField(
        label="Escalation reference",
        required=False,
        max_length=30,
        error_messages={"max_length": "An escalation reference is 30 characters or fewer"},
    )
    username = forms.CharField(
        label="Username",
        required=False,
        max_length=150,
        error_messages={"max_length": "A username is 150 characters or fewer"},
    )
    kind = forms.ChoiceField(
        label="What happened",
        required=False,
        choices=[("", "Anything"), *AuditEntry.Kind.choices],
        error_messages={"invalid_choice": "Choose what happened from the list"},
    )
    since = forms.DateField(
        label="From",
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"invalid": "The start date must be a real date, like 2026-11-02"},
    )
    until = forms.DateField(
        label="To",
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"invalid": "The end date must be a real date, like 2026-11-30"},
    )

    def clean_since(self):
        since = self.cleaned_data.get("since")
        if since and since > timezone.localdate():
            raise forms.ValidationError("The start date must be today or in the past")
        return since

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date must be the same as or after the start date")
        return cleaned

    def filter(self, entries):
        data = self.cleaned_data
        if data.get("reference"):
            entries = entries.filter(reference__iexact=data["reference"].strip())
        if data.get("username"):
            entries = entries.filter(username__iexact=data["username"].strip())
        if data.get("kind"):
            entries = entries.filter(kind=data["kind"])
        if data.get("since"):
            entries = entries.filter(at__date__gte=data["since"])
        if data.get("until"):
            entries = entries.filter(at__date__lte=data["until"])
        return entries


class SubjectAccessForm(forms.Form):
    child = forms.IntegerField(
        label="Child number",
        min_value=1,
        max_value=2**31 - 1,
        error_messages={
            "required": "Enter the child's number",
            "invalid": "The child's number must be a whole number, like 1234",
            "min_value": "The child's number must be a whole number, like 1234",
            "max_value": "There is no child with that number in your partnership",
        },
    )

    def __init__(self, *args, children=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.children = children

    def clean_child(self):
        child = self.children.filter(pk=self.cleaned_data["child"]).first()
        if child is None:
            # The same words for a missing child and another partnership's.
            raise forms.ValidationError("There is no child with that number in your partnership")
        return child
