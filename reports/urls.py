"""Pages of the reports app: home, dashboards, exports, the PDF report and the public portal."""

from django.urls import path

from . import api, public_views, views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    # Dashboards (staff and chair; a department; a deputy).
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/department/", views.dashboard_department, name="dashboard-department"),
    path("dashboard/deputy/", views.dashboard_deputy, name="dashboard-deputy"),
    path("dashboard/report/<str:period>.pdf", views.quarterly_report, name="quarterly-report"),
    # Exports: small ones download at once, large ones become a job with a progress page.
    path("exports/", views.export_jobs, name="export-jobs"),
    path("exports/requests/", views.export_requests, name="export-requests"),
    path("exports/instructions/", views.export_instructions, name="export-instructions"),
    path("exports/kpi/", views.export_kpi, name="export-kpi"),
    path("exports/<int:pk>/", views.export_job, name="export-job"),
    path("exports/<int:pk>/status/", api.ExportJobStatusView.as_view(), name="export-job-status"),
    path(
        "exports/<int:pk>/download/",
        api.ExportJobDownloadView.as_view(),
        name="export-job-download",
    ),
    # The public portal (no login).
    path("public/", public_views.index, name="public"),
    path("public/requests/", public_views.request_list, name="public-requests"),
    path("public/requests/<int:pk>/", public_views.request_detail, name="public-request"),
    path("public/statistics/", public_views.statistics, name="public-statistics"),
    path("public/rankings/", public_views.rankings, name="public-rankings"),
    path("public/methodology/", public_views.methodology, name="public-methodology"),
    path("public/deputies/", public_views.deputy_list, name="public-deputies"),
    path("public/deputies/<int:pk>/", public_views.deputy_detail, name="public-deputy"),
    path("public/plan/", public_views.plan, name="public-plan"),
    path("public/instructions/", public_views.instruction_list, name="public-instructions"),
    path("public/promises/", public_views.promise_list, name="public-promises"),
    path(
        "public/instructions/<int:pk>/",
        public_views.instruction_detail,
        name="public-instruction",
    ),
]
