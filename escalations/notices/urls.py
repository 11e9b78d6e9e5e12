from django.urls import path

from escalations.notices import views

urlpatterns = [
    path("", views.notification_list, name="notifications"),
    path("<int:pk>/read/", views.mark_read, name="notification-read"),
    path("read/", views.mark_all_read, name="notifications-read"),
    path("emails/", views.email_preference, name="notification-emails"),
]
