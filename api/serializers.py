"""What the API answers, field by field: the same facts the escalation page shows an agency's
safeguarding lead (summary, stage, deadlines and history), never more."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from escalations import clock


class AgencySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ChildSerializer(serializers.Serializer):
    name = serializers.CharField(source="display_name")
    date_of_birth = serializers.DateField(allow_null=True)
    is_unborn = serializers.BooleanField()
    is_family_group = serializers.BooleanField()
    anonymised = serializers.SerializerMethodField()

    def get_anonymised(self, child) -> bool:
        return child.anonymised_on is not None


class StageSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    brings_in_partnership = serializers.BooleanField()
    after_resolution = serializers.BooleanField()


class DeadlinesSerializer(serializers.Serializer):
    stage_started_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField(help_text="Past the stage's time limit while still open.")


class EscalationListItemSerializer(serializers.Serializer):
    reference = serializers.CharField()
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    partnership = serializers.CharField(source="partnership.name")
    raising_agency = AgencySerializer()
    receiving_agency = AgencySerializer()
    child = ChildSerializer()
    stage = StageSerializer()
    raised_on = serializers.DateTimeField(allow_null=True)
    updated_on = serializers.DateTimeField()
    case_reference = serializers.SerializerMethodField(
        help_text="Your agency's own reference for the child's file, where your system gave one."
    )

    def get_case_reference(self, escalation) -> str | None:
        agency = self.context["agency"]
        for link in escalation.case_references.all():
            if link.agency_id == agency.pk:
                return link.reference
        return None


class OutcomeSerializer(serializers.Serializer):
    category = serializers.CharField()
    category_label = serializers.CharField(source="get_category_display")
    summary = serializers.CharField()
    raiser_satisfied = serializers.BooleanField(allow_null=True)
    recorded_at = serializers.DateTimeField()
    stage_number = serializers.IntegerField()


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Increases with every event: the changes cursor.")
    escalation = serializers.CharField(source="escalation.reference")
    sequence = serializers.IntegerField(help_text="The event's number within its escalation.")
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor.full_name", allow_null=True, default=None)
    actor_agency = serializers.CharField(source="actor_agency.name", allow_null=True, default=None)
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    from_stage = serializers.IntegerField(allow_null=True)
    to_stage = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()


class EscalationDetailSerializer(EscalationListItemSerializer):
    pathway = serializers.CharField(source="get_pathway_display")
    natures = serializers.ListField(child=serializers.CharField(), source="nature_labels")
    nature_other = serializers.CharField()
    details = serializers.CharField()
    outcome_sought = serializers.CharField()
    immediate_risk = serializers.BooleanField()
    interim_safety = serializers.CharField()
    deadlines = serializers.SerializerMethodField()
    resolved_on = serializers.DateTimeField(allow_null=True)
    closed_on = serializers.DateTimeField(allow_null=True)
    withdrawn_on = serializers.DateTimeField(allow_null=True)
    outcomes = OutcomeSerializer(many=True)
    events = EventSerializer(many=True)
    record_pdf = serializers.SerializerMethodField()

    def get_deadlines(self, escalation) -> DeadlinesSerializer:
        return DeadlinesSerializer(
            {
                "stage_started_at": escalation.stage_started_at,
                "due_at": escalation.due_at,
                "overdue": clock.is_overdue(escalation, timezone.now()),
            }
        ).data

    def get_record_pdf(self, escalation) -> str:
        return f"/api/v1/escalations/{escalation.reference}/record.pdf"


class ChangesSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    next_cursor = serializers.IntegerField(
        help_text="Pass as ?after= next time; the same value when nothing new has settled."
    )
    more = serializers.BooleanField(help_text="True when another page is ready at once.")


class CaseReferenceSerializer(serializers.Serializer):
    case_reference = serializers.CharField(
        max_length=100,
        help_text="Your agency's own reference for the child's file.",
        error_messages={
            "blank": "Enter your agency's case reference for the child.",
            "required": "Enter your agency's case reference for the child.",
            "max_length": "The case reference must be 100 characters or fewer.",
        },
    )

    def validate_case_reference(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("Enter your agency's case reference for the child.")
        if any(ord(c) < 32 for c in value):
            raise serializers.ValidationError(
                "The case reference must be one line of text, with no control characters."
            )
        return value
