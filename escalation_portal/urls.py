from django.contrib import admin
from django.urls import include, path

from escalation_portal import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("notifications/", include("escalations.notices.urls")),
    path("", include("escalations.record.urls")),
    path("account/two-factor/", include("security.urls")),
    path("audit/", include("audit.urls")),
    path("", include("escalations.conference.urls")),
    path("", include("people.urls")),
    path("", include("escalations.urls")),
    path("", include("escalations.dashboards.urls")),
    path("", include("api.urls")),
    path("", include("sso.urls")),
]

# Error pages that say nothing about any record (a forbidden record is a missing one).
handler400 = "escalations.views.errors.bad_request"
handler403 = "escalations.views.errors.forbidden"
handler404 = "escalations.views.errors.not_found"
handler500 = "escalations.views.errors.server_error"
