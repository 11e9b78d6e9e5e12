from django.urls import path

from escalations.conference import views

urlpatterns = [
    path("conference/", views.index, name="conference"),
    path("conference/new/", views.new, name="conference-new"),
    path("conference/<int:pk>/", views.detail, name="conference-report"),
]
