"""The portal's URL map plus the benchmark's floor: a plain DRF list of deputy requests.

The floor is what a list of the same model costs on the same stack with nothing of the
portal in it: a ``ModelSerializer`` of the request's own columns (foreign keys as ids, no
many-to-many), 50 rows a page, page-number pagination with its exact ``COUNT(*)``, for
any logged-in user. It lives here, not in the portal, so no one can call it in
production.
"""

from __future__ import annotations

from django.urls import include, path
from rest_framework import generics, permissions, serializers
from rest_framework.pagination import PageNumberPagination

from requests_app.models import DeputyRequest

FLOOR_PAGE_SIZE = 50


class FloorRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeputyRequest
        fields = [f.name for f in DeputyRequest._meta.concrete_fields]


class FloorPagination(PageNumberPagination):
    page_size = FLOOR_PAGE_SIZE


class FloorRequestList(generics.ListAPIView):
    """``GET /bench/floor/requests/``: the newest 50 requests, plainly serialised."""

    queryset = DeputyRequest.objects.order_by("-id")
    serializer_class = FloorRequestSerializer
    pagination_class = FloorPagination
    permission_classes = [permissions.IsAuthenticated]


urlpatterns = [
    path("bench/floor/requests/", FloorRequestList.as_view(), name="bench-floor-requests"),
    path("", include("maslikhat.urls")),
]

# The portal's own error pages (JSON under /api/, friendly pages elsewhere).
handler400 = "maslikhat.core.api.bad_request"
handler404 = "maslikhat.core.api.page_not_found"
