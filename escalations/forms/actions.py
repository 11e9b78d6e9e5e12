"""One small form per thing a person does to an escalation. Each carries the revision it was
shown, so a stale form is refused by the service rather than overwriting someone's change."""

from __future__ import annotations

from django import forms

from cases import limits
from escalations.fields import DateField, too_long
from escalations.models import NoteKind, OutcomeCategory
from escalations.services import ActionItem

YES_NO = [("yes", "Yes"), ("no", "No")]
MAX_ACTIONS = 5


def required(message: str) -> dict:
    return {"required": message}


class RevisionForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput)

    def call_kwargs(self) -> dict:
        """The service's keyword arguments (besides by and expected_revision)."""
        return {}


class NoteForm(RevisionForm):
    kind = forms.ChoiceField(
        label="What are you recording?",
        choices=NoteKind.choices,
        widget=forms.RadioSelect,
        error_messages=required("Select what you are recording"),
    )
    body = forms.CharField(
        label="Note",
        help_text="Who took part, what was said and what was agreed.",
        widget=forms.Textarea,
        max_length=limits.ACCOUNT,
        error_messages=required("Enter the note") | too_long("the note", limits.ACCOUNT),
    )
    happened_on = DateField(
        label="When did it happen?",
        what="the date it happened",
        not_future=True,
        help_text="For example, 27 3 2026",
    )

    def call_kwargs(self):
        d = self.cleaned_data
        return {"kind": d["kind"], "body": d["body"], "happened_on": d["happened_on"]}


class PositionForm(RevisionForm):
    body = forms.CharField(
        label="What is your agency's position, and why?",
        widget=forms.Textarea,
        max_length=limits.ACCOUNT,
        error_messages=required("Enter your agency's position")
        | too_long("your agency's position", limits.ACCOUNT),
    )

    def call_kwargs(self):
        return {"body": self.cleaned_data["body"]}


class ResponseForm(RevisionForm):
    summary = forms.CharField(
        label="Summary of your agency's response",
        widget=forms.Textarea,
        max_length=limits.ACCOUNT,
        error_messages=required("Enter a summary of the response")
        | too_long("the summary of the response", limits.ACCOUNT),
    )
    responded_on = DateField(
        label="Date of the response", what="the date of the response", not_future=True
    )

    def call_kwargs(self):
        return {
            "summary": self.cleaned_data["summary"],
            "responded_on": self.cleaned_data["responded_on"],
        }


class ReasonForm(RevisionForm):
    """Escalate, reopen, withdraw, share, next step: a required reason in words."""

    reason = forms.CharField(
        widget=forms.Textarea,
        max_length=limits.REASON,
        error_messages=too_long("the reason", limits.REASON),
    )
    argument = "reason"

    def __init__(self, *args, label: str, message: str, argument: str = "reason", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        self.fields["reason"].error_messages["required"] = message
        self.argument = argument

    def call_kwargs(self):
        return {self.argument: self.cleaned_data["reason"]}


class CommentsForm(RevisionForm):
    comments = forms.CharField(
        label="Comments (optional)",
        widget=forms.Textarea,
        required=False,
        max_length=limits.REASON,
        error_messages=too_long("your comments", limits.REASON),
    )

    def call_kwargs(self):
        return {"comments": self.cleaned_data["comments"]}


class ReturnForm(RevisionForm):
    comments = forms.CharField(
        label="What needs to change before you can approve?",
        widget=forms.Textarea,
        max_length=limits.REASON,
        error_messages=required("Enter your comments for the person who asked")
        | too_long("your comments", limits.REASON),
    )

    def call_kwargs(self):
        return {"comments": self.cleaned_data["comments"]}


class ParentsForm(RevisionForm):
    informed = forms.ChoiceField(
        label="Were parents or carers told about the escalation and its outcome?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages=required("Select yes if parents or carers were told"),
    )
    reason = forms.CharField(
        label="If they were not told, why not?",
        help_text="For example, telling them would put the child at risk of significant harm.",
        widget=forms.Textarea,
        required=False,
        max_length=limits.REASON,
        error_messages=too_long("why parents or carers were not told", limits.REASON),
    )

    def clean(self):
        data = super().clean()
        if data.get("informed") == "no" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Enter why parents or carers were not told")
        return data

    def call_kwargs(self):
        informed = self.cleaned_data["informed"] == "yes"
        return {"informed": informed, "reason": "" if informed else self.cleaned_data["reason"]}


class LearningForm(RevisionForm):
    learning = forms.CharField(
        label="What learning was identified?",
        help_text="Write 'none identified' if there was none. Do not name the child or family: "
        "where the partnership's policy says so, the learning is sent to the partnership.",
        widget=forms.Textarea,
        max_length=limits.ACCOUNT,
        error_messages=required("Enter the learning identified, or 'none identified'")
        | too_long("the learning identified", limits.ACCOUNT),
    )
    policy_gap = forms.CharField(
        label="Any gap in policy or procedure (optional)",
        help_text="Do not name the child or family: where the partnership's policy says so, "
        "gaps in policy are sent to the partnership.",
        widget=forms.Textarea,
        required=False,
        max_length=limits.ACCOUNT,
        error_messages=too_long("the gap in policy", limits.ACCOUNT),
    )

    def call_kwargs(self):
        return {
            "learning": self.cleaned_data["learning"],
            "policy_gap": self.cleaned_data["policy_gap"],
        }


class DebriefForm(RevisionForm):
    summary = forms.CharField(
        label="What did the debrief find?",
        widget=forms.Textarea,
        max_length=limits.ACCOUNT,
        error_messages=required("Enter what the debrief found")
        | too_long("what the debrief found", limits.ACCOUNT),
    )
    held_on = DateField(
        label="When was the debrief held?", what="the date of the debrief", not_future=True
    )

    def call_kwargs(self):
        return {"summary": self.cleaned_data["summary"], "held_on": self.cleaned_data["held_on"]}


class ChildFileForm(RevisionForm):
    recorded_on = DateField(
        label="When was it recorded on your agency's file for the child?",
        what="the date it was recorded",
        not_future=True,
    )
    file_reference = forms.CharField(
        label="Your agency's reference for the child's file",
        help_text="Your own system's reference, so the record can be found.",
        max_length=100,
        error_messages=required("Enter your agency's reference for the child's file")
        | {"max_length": "The file reference must be 100 characters or fewer"},
    )

    def call_kwargs(self):
        return {
            "recorded_on": self.cleaned_data["recorded_on"],
            "file_reference": self.cleaned_data["file_reference"],
        }


class CloseForm(RevisionForm):
    declined_reason = forms.CharField(
        label="If no debrief will be held, you can say why (optional)",
        widget=forms.Textarea,
        required=False,
        max_length=limits.REASON,
        error_messages=too_long("why the debrief or learning will not be recorded", limits.REASON),
    )

    def call_kwargs(self):
        return {"declined_reason": self.cleaned_data["declined_reason"]}


class MarkDoneForm(RevisionForm):
    pass


class ResolveForm(RevisionForm):
    category = forms.ChoiceField(
        label="What was the outcome?",
        choices=[c for c in OutcomeCategory.choices if c[0] != OutcomeCategory.WITHDRAWN],
        widget=forms.RadioSelect,
        error_messages=required("Select the outcome"),
    )
    summary = forms.CharField(
        label="The agreed outcome, in writing",
        widget=forms.Textarea,
        max_length=limits.ACCOUNT,
        error_messages=required("Enter the agreed outcome")
        | too_long("the agreed outcome", limits.ACCOUNT),
    )
    raiser_satisfied = forms.ChoiceField(
        label="Is the person who raised the challenge satisfied with the outcome?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages=required("Select yes if the person who raised it is satisfied"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, MAX_ACTIONS + 1):
            self.fields[f"action_{i}_what"] = forms.CharField(
                label="What is to be done",
                required=False,
                widget=forms.Textarea,
                max_length=limits.REASON,
                error_messages=too_long(f"what is to be done in action {i}", limits.REASON),
            )
            self.fields[f"action_{i}_owner"] = forms.CharField(
                label="By whom (name and agency)",
                required=False,
                max_length=200,  # Action.owner_name
                error_messages={
                    "max_length": f"Who will do action {i} must be 200 characters or fewer"
                },
            )
            self.fields[f"action_{i}_due"] = DateField(
                label="By when", what=f"the date action {i} is due", required=False, not_past=True
            )

    def more_actions_open(self) -> bool:
        """Rows 2 on sit in a details element: open it when any of them holds input."""
        return self.is_bound and any(
            (self.data.get(f"action_{i}_{part}") or "").strip()
            for i in range(2, MAX_ACTIONS + 1)
            for part in ("what", "owner", "due-day", "due-month", "due-year")
        )

    def action_rows(self):
        return [
            (
                i,
                self[f"action_{i}_what"],
                self[f"action_{i}_owner"],
                self[f"action_{i}_due"],
            )
            for i in range(1, MAX_ACTIONS + 1)
        ]

    def clean(self):
        data = super().clean()
        self.actions = []
        for i in range(1, MAX_ACTIONS + 1):
            what = (data.get(f"action_{i}_what") or "").strip()
            owner = (data.get(f"action_{i}_owner") or "").strip()
            due = data.get(f"action_{i}_due")
            due_errors = f"action_{i}_due" in self.errors
            owner_errors = f"action_{i}_owner" in self.errors  # too long: already said
            if not (what or owner or due or due_errors or owner_errors):
                continue
            if not what:
                self.add_error(f"action_{i}_what", f"Enter what action {i} is")
            if not owner and not owner_errors:
                self.add_error(f"action_{i}_owner", f"Enter who will do action {i}")
            if not due and not due_errors:
                self.add_error(f"action_{i}_due", f"Enter when action {i} is to be done by")
            if what and owner and due:
                self.actions.append(ActionItem(what=what, owner_name=owner, due_on=due))
        return data

    def call_kwargs(self):
        return {
            "category": self.cleaned_data["category"],
            "summary": self.cleaned_data["summary"],
            "raiser_satisfied": self.cleaned_data["raiser_satisfied"] == "yes",
            "actions": self.actions,
        }
