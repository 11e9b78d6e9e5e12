from django.contrib import admin

from policies.models import ClosureDay, DirectoryEntry, Ladder, Partnership, Stage


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    can_delete = False
    fields = [
        "number",
        "name",
        "time_limit_value",
        "time_limit_unit",
        "time_limit_source",
        "brings_in_partnership",
        "record_required",
        "approval_required",
        "after_resolution",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "reference_prefix",
        "default_time_limit_value",
        "reminder_working_days",
    ]
    readonly_fields = ["slug", "reference_prefix"]


@admin.register(Ladder)
class LadderAdmin(admin.ModelAdmin):
    """Ladders come from the data files (load_policies); here they are read only."""

    list_display = ["partnership", "version", "source_title", "effective_date", "loaded_on"]
    inlines = [StageInline]
    readonly_fields = [
        "partnership",
        "version",
        "source_title",
        "effective_date",
        "review_date",
        "content_hash",
        "loaded_on",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClosureDay)
class ClosureDayAdmin(admin.ModelAdmin):
    list_display = ["partnership", "date", "reason", "added_by"]
    list_filter = ["partnership"]


@admin.register(DirectoryEntry)
class DirectoryEntryAdmin(admin.ModelAdmin):
    list_display = ["partnership", "agency_name", "role", "job_title"]
    list_filter = ["partnership"]
