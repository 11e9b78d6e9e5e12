from django.urls import path

from audit import views

urlpatterns = [
    path("", views.entries, name="audit-entries"),
    path("export.csv", views.export, name="audit-export"),
    path("subject-access/", views.subject_access, name="subject-access"),
]
