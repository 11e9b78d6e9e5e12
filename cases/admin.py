from django.contrib import admin

from cases.models import Agency, Child, Membership, Person


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "sector"]
    list_filter = ["sector", "partnerships"]
    search_fields = ["name"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["full_name", "email"]
    search_fields = ["full_name", "email"]
    inlines = [MembershipInline]


@admin.register(Child)
class ChildAdmin(admin.ModelAdmin):
    list_display = ["id", "home_partnership", "is_family_group", "anonymised_on"]
    list_filter = ["home_partnership"]

    def has_delete_permission(self, request, obj=None):
        return False
