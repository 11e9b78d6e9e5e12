from django.urls import path

from escalations.notices import callbacks, views

urlpatterns = [
    path("", views.notification_list, name="notifications"),
    path("<int:pk>/read/", views.mark_read, name="notification-read"),
    path("read/", views.mark_all_read, name="notifications-read"),
    path("emails/", views.email_preference, name="notification-emails"),
    path("mobile/", views.mobile_number, name="notification-mobile"),
    path("govuk-notify/receipts/", callbacks.delivery_receipt, name="govuk-notify-receipts"),
]
