from django.contrib import admin

from audit.admin import ReadOnlyAdmin
from escalations.clock import add_closure_day, remove_closure_day
from escalations.models import Escalation, Event, Notice, StageEpisode
from policies.admin import ClosureDayAdmin as PolicyClosureDayAdmin
from policies.models import ClosureDay


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyInline):
    model = Event
    fields = [
        "sequence",
        "kind",
        "actor",
        "from_state",
        "to_state",
        "from_stage",
        "to_stage",
        "reason",
        "occurred_at",
    ]
    readonly_fields = fields


class EpisodeInline(ReadOnlyInline):
    model = StageEpisode
    fields = [
        "number",
        "raising_lead",
        "counterpart",
        "started_at",
        "due_at",
        "ended_at",
        "working_days_spent",
    ]
    readonly_fields = fields


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    """Changes go through the portal's services so they are recorded; here it is read only
    and nothing is ever deleted."""

    list_display = ["reference", "partnership", "state", "stage", "holder", "due_at", "overdue"]
    list_filter = ["partnership", "state", "overdue"]
    search_fields = ["reference"]
    list_select_related = ["partnership", "stage", "holder"]
    inlines = [EpisodeInline, EventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("partnership", "stage", "holder")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["escalation", "sequence", "kind", "actor", "occurred_at"]
    list_select_related = ["escalation", "actor"]


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = [
        "escalation",
        "conference_report",
        "kind",
        "recipient",
        "created_at",
        "emailed_at",
        "email_attempts",
    ]
    list_select_related = ["escalation", "conference_report", "recipient"]


# Closure days move running deadlines (SPEC section 7), so the admin adds and removes them
# through escalations.clock; policies knows nothing of escalations, hence the override here.
admin.site.unregister(ClosureDay)


@admin.register(ClosureDay)
class ClosureDayAdmin(PolicyClosureDayAdmin):
    fields = ["partnership", "date", "reason"]

    def get_readonly_fields(self, request, obj=None):
        # Changing the date of an existing day would skip the recalculation: remove and add.
        return ["partnership", "date"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["reason"])
            return
        closure, changed = add_closure_day(
            obj.partnership, obj.date, by=request.user, reason=obj.reason
        )
        obj.pk, obj.added_by, obj.added_on = closure.pk, closure.added_by, closure.added_on
        self.message_user(
            request, f"Deadlines recalculated: {changed} running escalation(s) changed."
        )

    def delete_model(self, request, obj):
        changed = remove_closure_day(obj, by=request.user)
        self.message_user(
            request, f"Deadlines recalculated: {changed} running escalation(s) changed."
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
