"""The approval request and decision as typed data (who was asked, in which role, the asker's
own words; the role a decision was taken in), where the escalation page used to read them
back out of the request's reason text.

Escalations already awaiting approval get their request filled in from that reason once,
here, as escalate() wrote it; decisions taken before keep decided_as blank (their events
still say who decided and how). The history triggers are off while the rows are filled in."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

# How escalate() wrote a request put to stand-ins: "<reason>\n\n<agency> has no active
# safeguarding lead: approval asked in the absence of a safeguarding lead of <who>."
ABSENCE = "in the absence of a safeguarding lead of "


def fill_in_waiting_requests(apps, schema_editor):
    Escalation = apps.get_model("escalations", "Escalation")
    Event = apps.get_model("escalations", "Event")
    waiting = Escalation.objects.filter(state="awaiting_approval")
    for escalation in waiting.only("pk").iterator():
        request = (
            Event.objects.filter(escalation_id=escalation.pk, kind="approval_requested")
            .order_by("-sequence")
            .first()
        )
        if request is None:
            continue
        reason, asked_as, asked_of = request.reason, "safeguarding_lead", ""
        head, _, tail = request.reason.rpartition("\n\n")
        if head and ABSENCE in tail:
            reason, asked_of = head, tail.split(ABSENCE, 1)[1].rstrip(".")
            asked_as = "line_manager" if "line manager" in asked_of else "senior_manager"
        Escalation.objects.filter(pk=escalation.pk).update(
            approval_reason=reason, approval_asked_as=asked_as, approval_asked_of=asked_of[:300]
        )


class Migration(migrations.Migration):
    dependencies = [
        # The history triggers recreated here write the new audit_escalationchange columns.
        ("audit", "0006_escalation_history_keeps_the_approval_request"),
        ("escalations", "0010_notice_kinds_approval_without_a_lead"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="escalation",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="escalation",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="escalation",
            name="delete_delete",
        ),
        migrations.AddField(
            model_name="approval",
            name="decided_as",
            field=models.CharField(
                blank=True,
                choices=[
                    ("practitioner", "Practitioner"),
                    ("line_manager", "Line manager / supervisor"),
                    ("safeguarding_lead", "Safeguarding lead"),
                    ("senior_manager", "Head of service / senior manager"),
                    ("business_manager", "Partnership business manager"),
                    ("chair", "Partnership chair / independent person"),
                    ("partnership_admin", "Partnership administrator"),
                ],
                max_length=30,
            ),
        ),
        migrations.AddField(
            model_name="escalation",
            name="approval_asked_as",
            field=models.CharField(
                blank=True,
                choices=[
                    ("practitioner", "Practitioner"),
                    ("line_manager", "Line manager / supervisor"),
                    ("safeguarding_lead", "Safeguarding lead"),
                    ("senior_manager", "Head of service / senior manager"),
                    ("business_manager", "Partnership business manager"),
                    ("chair", "Partnership chair / independent person"),
                    ("partnership_admin", "Partnership administrator"),
                ],
                max_length=30,
            ),
        ),
        migrations.AddField(
            model_name="escalation",
            name="approval_asked_of",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="escalation",
            name="approval_reason",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(fill_in_waiting_requests, migrations.RunPython.noop),
        pgtrigger.migrations.AddTrigger(
            model_name="escalation",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "audit_escalationchange" ("approval_asked_as", "approval_asked_of", "approval_reason", "approval_requested_by_id", "child_id", "closed_on", "created_on", "debrief_declined_reason", "debrief_on", "debrief_summary", "details", "due_at", "event_count", "highest_stage_number", "holder_id", "id", "immediate_risk", "initial_discussion_on", "interim_safety", "ladder_id", "learning", "nature_other", "outcome_sought", "overdue", "parents_informed", "parents_not_informed_reason", "partnership_id", "partnership_sees_record", "pathway", "pending_stage_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "policy_gap", "raised_by_id", "raised_on", "raising_agency_id", "receiving_agency_id", "receiving_person_id", "receiving_team", "reference", "reminded", "reminder_at", "resolved_on", "revision", "stage_id", "stage_started_at", "state", "step", "updated_on", "withdrawn_on") VALUES (NEW."approval_asked_as", NEW."approval_asked_of", NEW."approval_reason", NEW."approval_requested_by_id", NEW."child_id", NEW."closed_on", NEW."created_on", NEW."debrief_declined_reason", NEW."debrief_on", NEW."debrief_summary", NEW."details", NEW."due_at", NEW."event_count", NEW."highest_stage_number", NEW."holder_id", NEW."id", NEW."immediate_risk", NEW."initial_discussion_on", NEW."interim_safety", NEW."ladder_id", NEW."learning", NEW."nature_other", NEW."outcome_sought", NEW."overdue", NEW."parents_informed", NEW."parents_not_informed_reason", NEW."partnership_id", NEW."partnership_sees_record", NEW."pathway", NEW."pending_stage_id", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."policy_gap", NEW."raised_by_id", NEW."raised_on", NEW."raising_agency_id", NEW."receiving_agency_id", NEW."receiving_person_id", NEW."receiving_team", NEW."reference", NEW."reminded", NEW."reminder_at", NEW."resolved_on", NEW."revision", NEW."stage_id", NEW."stage_started_at", NEW."state", NEW."step", NEW."updated_on", NEW."withdrawn_on"); RETURN NULL;',
                    hash="e38159cdba9fd50b8d8a3da22606a1030a908172",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_3fd8b",
                    table="escalations_escalation",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="escalation",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "audit_escalationchange" ("approval_asked_as", "approval_asked_of", "approval_reason", "approval_requested_by_id", "child_id", "closed_on", "created_on", "debrief_declined_reason", "debrief_on", "debrief_summary", "details", "due_at", "event_count", "highest_stage_number", "holder_id", "id", "immediate_risk", "initial_discussion_on", "interim_safety", "ladder_id", "learning", "nature_other", "outcome_sought", "overdue", "parents_informed", "parents_not_informed_reason", "partnership_id", "partnership_sees_record", "pathway", "pending_stage_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "policy_gap", "raised_by_id", "raised_on", "raising_agency_id", "receiving_agency_id", "receiving_person_id", "receiving_team", "reference", "reminded", "reminder_at", "resolved_on", "revision", "stage_id", "stage_started_at", "state", "step", "updated_on", "withdrawn_on") VALUES (NEW."approval_asked_as", NEW."approval_asked_of", NEW."approval_reason", NEW."approval_requested_by_id", NEW."child_id", NEW."closed_on", NEW."created_on", NEW."debrief_declined_reason", NEW."debrief_on", NEW."debrief_summary", NEW."details", NEW."due_at", NEW."event_count", NEW."highest_stage_number", NEW."holder_id", NEW."id", NEW."immediate_risk", NEW."initial_discussion_on", NEW."interim_safety", NEW."ladder_id", NEW."learning", NEW."nature_other", NEW."outcome_sought", NEW."overdue", NEW."parents_informed", NEW."parents_not_informed_reason", NEW."partnership_id", NEW."partnership_sees_record", NEW."pathway", NEW."pending_stage_id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."policy_gap", NEW."raised_by_id", NEW."raised_on", NEW."raising_agency_id", NEW."receiving_agency_id", NEW."receiving_person_id", NEW."receiving_team", NEW."reference", NEW."reminded", NEW."reminder_at", NEW."resolved_on", NEW."revision", NEW."stage_id", NEW."stage_started_at", NEW."state", NEW."step", NEW."updated_on", NEW."withdrawn_on"); RETURN NULL;',
                    hash="b3909f5cdc7830d06fed3d5cea0c1288512c44b3",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_eb871",
                    table="escalations_escalation",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="escalation",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "audit_escalationchange" ("approval_asked_as", "approval_asked_of", "approval_reason", "approval_requested_by_id", "child_id", "closed_on", "created_on", "debrief_declined_reason", "debrief_on", "debrief_summary", "details", "due_at", "event_count", "highest_stage_number", "holder_id", "id", "immediate_risk", "initial_discussion_on", "interim_safety", "ladder_id", "learning", "nature_other", "outcome_sought", "overdue", "parents_informed", "parents_not_informed_reason", "partnership_id", "partnership_sees_record", "pathway", "pending_stage_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "policy_gap", "raised_by_id", "raised_on", "raising_agency_id", "receiving_agency_id", "receiving_person_id", "receiving_team", "reference", "reminded", "reminder_at", "resolved_on", "revision", "stage_id", "stage_started_at", "state", "step", "updated_on", "withdrawn_on") VALUES (OLD."approval_asked_as", OLD."approval_asked_of", OLD."approval_reason", OLD."approval_requested_by_id", OLD."child_id", OLD."closed_on", OLD."created_on", OLD."debrief_declined_reason", OLD."debrief_on", OLD."debrief_summary", OLD."details", OLD."due_at", OLD."event_count", OLD."highest_stage_number", OLD."holder_id", OLD."id", OLD."immediate_risk", OLD."initial_discussion_on", OLD."interim_safety", OLD."ladder_id", OLD."learning", OLD."nature_other", OLD."outcome_sought", OLD."overdue", OLD."parents_informed", OLD."parents_not_informed_reason", OLD."partnership_id", OLD."partnership_sees_record", OLD."pathway", OLD."pending_stage_id", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."policy_gap", OLD."raised_by_id", OLD."raised_on", OLD."raising_agency_id", OLD."receiving_agency_id", OLD."receiving_person_id", OLD."receiving_team", OLD."reference", OLD."reminded", OLD."reminder_at", OLD."resolved_on", OLD."revision", OLD."stage_id", OLD."stage_started_at", OLD."state", OLD."step", OLD."updated_on", OLD."withdrawn_on"); RETURN NULL;',
                    hash="a6f1cd897f599b70c7e2585435dd7e9119b53faf",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_41cfe",
                    table="escalations_escalation",
                    when="AFTER",
                ),
            ),
        ),
    ]
