from django.urls import path

from escalations.record import views

app_name = "record"

urlpatterns = [
    path("escalations/<str:reference>/record.pdf", views.record_pdf, name="pdf"),
    path("escalations/<str:reference>/records/", views.copies, name="copies"),
    path("escalations/<str:reference>/records/<int:version>.pdf", views.copy_pdf, name="copy"),
]
