"""``/api/v1/``: every app registers its endpoints on this one router."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from maslikhat.accounts.api import TokenView
from maslikhat.core.notification_api import NotificationViewSet
from maslikhat.directory import api as directory_api
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

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("auth/me/", directory_api.MeView.as_view(), name="auth-me"),
    path("", include(router.urls)),
]
