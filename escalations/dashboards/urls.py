from django.conf import settings
from django.urls import path

from escalations.dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("partnerships/<slug:slug>/dashboard/", views.dashboard, name="dashboard"),
    path(
        "partnerships/<slug:slug>/dashboard/<slug:table>/",
        views.dashboard_table,
        name="dashboard_table",
    ),
    path("partnerships/<slug:slug>/escalations/", views.escalation_list, name="list"),
    path("partnerships/<slug:slug>/escalations/export.csv", views.export_list, name="export_list"),
    path("partnerships/<slug:slug>/report/", views.report, name="report"),
    path("partnerships/<slug:slug>/annual-return/", views.annual_return, name="annual_return"),
    path(
        "partnerships/<slug:slug>/<slug:page>/<slug:table>.csv",
        views.export_table,
        name="export_table",
    ),
] + (
    # Development only (settings.BENCH_ROUTES): the benchmark's yardstick page.
    [path("bench/baseline/", views.baseline, name="baseline")] if settings.BENCH_ROUTES else []
)
