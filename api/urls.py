"""/api/v1/... for case systems (a token), /api/schema/ and /api/docs/ for their developers,
/case-systems/... for the people who make and revoke the tokens."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from api import pages, views

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", pages.api_docs, name="api-docs"),
    path(
        "api/v1/children/<str:case_reference>/escalations/",
        views.ChildEscalations.as_view(),
    ),
    path("api/v1/escalations/<str:reference>/", views.EscalationDetail.as_view()),
    path("api/v1/escalations/<str:reference>/record.pdf", views.RecordPdf.as_view()),
    path(
        "api/v1/escalations/<str:reference>/case-reference/",
        views.SetCaseReference.as_view(),
    ),
    path("api/v1/changes/", views.Changes.as_view()),
    path("case-systems/", pages.start, name="case-systems"),
    path("case-systems/agencies/<int:agency_id>/", pages.agency_tokens),
    path("case-systems/agencies/<int:agency_id>/tokens/<int:token_id>/revoke/", pages.revoke),
    path("case-systems/agencies/<int:agency_id>/webhook/", pages.webhook_set),
    path("case-systems/agencies/<int:agency_id>/webhook/stop/", pages.webhook_stop),
]
