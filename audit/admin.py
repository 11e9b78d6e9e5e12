from django.contrib import admin

from audit.models import AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records nobody adds, changes or deletes through the admin: the audit log, the
    escalation's events and record copies, the outbox."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the log cannot be added to, changed or deleted through the admin."""

    list_display = ["at", "username", "kind", "what", "reference", "address", "request_id"]
    list_filter = ["kind"]
    search_fields = ["username", "reference", "request_id"]
    date_hierarchy = "at"
