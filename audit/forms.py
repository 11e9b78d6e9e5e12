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
    """Which child: by the reference of an escalation about them that the person may open
    (never a guessable number), read through Escalation.objects.visible_to by the view."""

    reference = forms.CharField(
        label="Escalation reference",
        max_length=30,
        error_messages={
            "required": "Enter the reference of an escalation about the child, like KIR-2026-00012",
            "max_length": "An escalation reference is 30 characters or fewer",
        },
    )

    def __init__(self, *args, escalations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.escalations = escalations

    def clean_reference(self):
        reference = self.cleaned_data["reference"].strip().upper()
        escalation = (
            self.escalations.filter(reference=reference).select_related("child").first()
            if reference
            else None
        )
        if escalation is None:
            # The same words for a missing escalation and one the person may not open.
            raise forms.ValidationError(
                "There is no escalation with that reference that you can open"
            )
        return escalation
