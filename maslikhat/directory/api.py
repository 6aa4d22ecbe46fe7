"""Read-only directory endpoints (``/api/v1/convocations/`` … ``/api/v1/deputies/``).

The directory is public information, so reading needs no login; retired
entries are visible to council staff only (see ``selectors``). Changes are
made by administrators in the Django admin.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from maslikhat.accounts.models import User

from . import selectors
from .filters import CommissionFilter, DepartmentFilter, DeputyFilter, NameSearchFilter
from .models import Category, District
from .serializers import (
    CategorySerializer,
    CommissionSerializer,
    ConvocationSerializer,
    DepartmentSerializer,
    DeputySerializer,
    DistrictSerializer,
    MeSerializer,
)


class DirectoryViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [permissions.AllowAny]


class ConvocationViewSet(DirectoryViewSet):
    serializer_class = ConvocationSerializer
    filterset_fields = ["number", "is_current"]
    ordering_fields = ["number", "elected_on"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.convocation_list()


class CommissionViewSet(DirectoryViewSet):
    serializer_class = CommissionSerializer
    filterset_class = CommissionFilter
    ordering_fields = ["order", "code", "name_ru"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.commission_list()


class DistrictFilter(NameSearchFilter):
    class Meta:
        model = District
        fields = ["code"]


class DistrictViewSet(DirectoryViewSet):
    serializer_class = DistrictSerializer
    filterset_class = DistrictFilter
    ordering_fields = ["code", "name_ru"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.district_list()


class CategoryFilter(NameSearchFilter):
    class Meta:
        model = Category
        fields = ["code", "commission_code", "default_department", "auto_route"]


class CategoryViewSet(DirectoryViewSet):
    serializer_class = CategorySerializer
    filterset_class = CategoryFilter
    ordering_fields = ["order", "code", "name_ru"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.category_list()


class DepartmentViewSet(DirectoryViewSet):
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilter
    ordering_fields = ["code", "name_ru", "kind"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.department_list(user=self.request.user)


class DeputyViewSet(DirectoryViewSet):
    serializer_class = DeputySerializer
    filterset_class = DeputyFilter
    ordering_fields = ["user__last_name", "party__code"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.deputy_list(user=self.request.user)


class MeView(APIView):
    """``GET /api/v1/auth/me/``: the current user with their department and deputy ids."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user: User = request.user  # type: ignore[assignment]
        department = selectors.department_of(user)
        deputy = selectors.deputy_of(user)
        context = {
            "department_id": department.pk if department else None,
            "deputy_id": deputy.pk if deputy else None,
        }
        return Response(MeSerializer(user, context=context).data)
