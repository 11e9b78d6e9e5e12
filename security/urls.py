from django.urls import path

from security import views

urlpatterns = [
    path("", views.start, name="two-factor"),
    path("set-up/", views.set_up, name="two-factor-set-up"),
    path("verify/", views.verify, name="two-factor-verify"),
    path("backup-codes/", views.backup_codes, name="two-factor-backup-codes"),
]
