"""Read-only views for operators: which records are due or failing, and the frozen copies."""

from django.contrib import admin

from audit.admin import ReadOnlyAdmin
from escalations.record.models import DueRecord, RecordCopy


@admin.register(DueRecord)
class DueRecordAdmin(ReadOnlyAdmin):
    list_display = ["escalation", "stage_number", "due_since", "copy", "attempts", "last_error"]
    list_filter = ["stage_number"]
    list_select_related = ["escalation", "copy__escalation"]


@admin.register(RecordCopy)
class RecordCopyAdmin(ReadOnlyAdmin):
    list_display = ["escalation", "version", "stage_number", "produced_at", "size", "sha256"]
    list_select_related = ["escalation"]
    # The file itself is reached through the portal's download, which checks visibility.
    exclude = ["file"]
