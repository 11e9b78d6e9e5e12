from django.urls import path

from sso import views

urlpatterns = [
    path("sso/<slug:key>/start/", views.Start.as_view(), name="sso-start"),
    path("sso/callback/", views.Callback.as_view(), name="oidc_authentication_callback"),
]
