"""``/api/v1/``: every app registers its endpoints on this one router."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from commitments.api import CommitmentViewSet
from instructions.api import InstructionViewSet, MeetingViewSet, ProtocolViewSet
from kpi import api as kpi_api
from maslikhat.accounts.api import TokenView
from maslikhat.core.notification_api import NotificationViewSet
from maslikhat.directory import api as directory_api
from reports import api as reports_api
from requests_app.api import DeputyRequestViewSet

router = DefaultRouter()
router.register("convocations", directory_api.ConvocationViewSet, basename="convocation")
router.register("commissions", directory_api.CommissionViewSet, basename="commission")
router.register("districts", directory_api.DistrictViewSet, basename="district")
router.register("departments", directory_api.DepartmentViewSet, basename="department")
router.register("deputies", directory_api.DeputyViewSet, basename="deputy")
router.register("categories", directory_api.CategoryViewSet, basename="category")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("requests", DeputyRequestViewSet, basename="request")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("protocols", ProtocolViewSet, basename="protocol")
router.register("instructions", InstructionViewSet, basename="instruction")
router.register("commitments", CommitmentViewSet, basename="commitment")

# KPI (kpi/api.py): rankings and history, weights, methodology, flags, activities, survey.
router.register("kpi/departments", kpi_api.DepartmentKpiViewSet, basename="kpi-department")
router.register("kpi/deputies", kpi_api.DeputyKpiViewSet, basename="kpi-deputy")
router.register("kpi/weights", kpi_api.KpiWeightsViewSet, basename="kpi-weights")
router.register("kpi/methodology", kpi_api.KpiMethodologyViewSet, basename="kpi-methodology")
router.register("kpi/flags", kpi_api.RaterFlagViewSet, basename="kpi-flag")
router.register("kpi/activities", kpi_api.DeputyActivityViewSet, basename="kpi-activity")
router.register("kpi/survey", kpi_api.SurveyViewSet, basename="kpi-survey")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("auth/me/", directory_api.MeView.as_view(), name="auth-me"),
    # Reports (reports/api.py); the exports route before the router's "requests/{pk}/".
    path("reports/summary/", reports_api.ReportSummaryView.as_view(), name="reports-summary"),
    path("me/todo/", reports_api.MyTodoView.as_view(), name="me-todo"),
    path("requests/export/", reports_api.RequestExportView.as_view(), name="requests-export"),
    path(
        "instructions/export/",
        reports_api.InstructionExportView.as_view(),
        name="instructions-export",
    ),
    path("", include(router.urls)),
]
