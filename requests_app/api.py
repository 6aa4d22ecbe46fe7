"""``/api/v1/requests/``: deputy requests and their action endpoints (``api.md``).

Each action parses its body, calls one service and returns the updated item;
a transition not allowed now is a 409, a stale ``version`` too, an item the
user may not see a 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse
from rest_framework.serializers import Serializer

from maslikhat.core.item_api import ItemSubresourcesMixin, parse
from maslikhat.core.serializers import (
    CommentSerializer,
    ExtensionAskSerializer,
    ExtensionDecideSerializer,
    ExtensionSerializer,
    ReasonSerializer,
)
from maslikhat.directory.actors import actor_for

from . import selectors, services
from .filters import ORDERING_FIELDS, DeputyRequestFilter
from .models import DeputyRequest
from .serializers import (
    AssignSerializer,
    DeputyRequestDetailSerializer,
    DeputyRequestSerializer,
    DraftSerializer,
    EvaluateSerializer,
    RateRequestSerializer,
    RespondSerializer,
    ResponseSerializer,
    RouteSerializer,
    SimilarQuerySerializer,
)


class DeputyRequestViewSet(
    ItemSubresourcesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = DeputyRequestSerializer
    filterset_class = DeputyRequestFilter
    ordering_fields = ORDERING_FIELDS
    ordering = ["-submitted_at", "-id"]

    def get_queryset(self) -> QuerySet[DeputyRequest]:
        return selectors.deputy_request_list(actor=actor_for(self.request.user))

    def get_object(self) -> DeputyRequest:
        return selectors.deputy_request_get_visible(user=self.request.user, pk=self.kwargs["pk"])

    def detail_response(
        self, item: DeputyRequest, *, code: int = status.HTTP_200_OK
    ) -> ApiResponse:
        """The item as its detail page shows it, re-read so annotations are current.

        After an action that takes the item out of the caller's sight (a
        department redirecting it back to staff) the answer is the item as the
        action left it, with no actions, rather than a 404 for a done action.
        """
        try:
            item = selectors.deputy_request_get_visible(user=self.request.user, pk=item.pk)
        except Http404:
            item.refresh_from_db()
            return ApiResponse(DeputyRequestSerializer(item).data, status=code)
        actor = actor_for(self.request.user)
        context = {
            "request": self.request,
            "responses": list(selectors.responses_visible(actor=actor, item=item)),
            "actions": services.available_actions(actor, item),
        }
        return ApiResponse(DeputyRequestDetailSerializer(item, context=context).data, status=code)

    @extend_schema(responses=DeputyRequestDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        return self.detail_response(self.get_object())

    @extend_schema(request=DraftSerializer, responses={201: DeputyRequestDetailSerializer})
    def create(self, request: Request) -> ApiResponse:
        data = parse(DraftSerializer, request)
        data.pop("version", None)
        item = services.deputy_request_create(by=request.user, **data)  # type: ignore[arg-type]
        return self.detail_response(item, code=status.HTTP_201_CREATED)

    @extend_schema(request=DraftSerializer, responses=DeputyRequestDetailSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> ApiResponse:
        item = self.get_object()
        data = parse(DraftSerializer, request, partial=True)
        item = services.deputy_request_update_draft(pk=item.pk, by=request.user, **data)  # type: ignore[arg-type]
        return self.detail_response(item)

    def _act(
        self, service: Any, serializer_class: type[Serializer] | None = None, **extra: Any
    ) -> ApiResponse:
        item = self.get_object()
        data = parse(serializer_class, self.request) if serializer_class else {}
        result = service(pk=item.pk, by=self.request.user, **data, **extra)
        return self.detail_response(item if not isinstance(result, DeputyRequest) else result)

    @extend_schema(request=CommentSerializer, responses=DeputyRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> ApiResponse:
        data = parse(CommentSerializer, request)
        return self._act(services.deputy_request_submit, version=data.get("version"))

    @extend_schema(request=RouteSerializer, responses=DeputyRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def route(self, request: Request, pk: str | None = None) -> ApiResponse:
        return self._act(services.deputy_request_route, RouteSerializer)

    @extend_schema(request=ReasonSerializer, responses=DeputyRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> ApiResponse:
        return self._act(services.deputy_request_decline, ReasonSerializer)

    @extend_schema(request=AssignSerializer, responses=DeputyRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> ApiResponse:
        return self._act(services.deputy_request_assign, AssignSerializer)

    @extend_schema(request=ReasonSerializer, responses=DeputyRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def redirect(self, request: Request, pk: str | None = None) -> ApiResponse:
        return self._act(services.deputy_request_redirect, ReasonSerializer)

    @extend_schema(request=ReasonSerializer, responses=DeputyRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> ApiResponse:
        return self._act(services.deputy_request_withdraw, ReasonSerializer)

    @extend_schema(request=EvaluateSerializer, responses=DeputyRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def evaluate(self, request: Request, pk: str | None = None) -> ApiResponse:
        return self._act(services.deputy_request_evaluate, EvaluateSerializer)

    @extend_schema(request=RateRequestSerializer, responses=DeputyRequestDetailSerializer)
    @action(detail=True, methods=["post"], url_path="rate-request")
    def rate_request(self, request: Request, pk: str | None = None) -> ApiResponse:
        return self._act(services.deputy_request_rate_request, RateRequestSerializer)

    @extend_schema(methods=["GET"], responses=ResponseSerializer(many=True))
    @extend_schema(methods=["POST"], request=RespondSerializer, responses={201: ResponseSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def responses(self, request: Request, pk: str | None = None) -> ApiResponse:
        item = self.get_object()
        if request.method == "GET":
            actor = actor_for(request.user)
            rows = selectors.responses_visible(actor=actor, item=item)
            return ApiResponse(ResponseSerializer(rows, many=True).data)
        data = parse(RespondSerializer, request)
        response = services.deputy_request_respond(pk=item.pk, by=request.user, **data)  # type: ignore[arg-type]
        return ApiResponse(ResponseSerializer(response).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CommentSerializer,
        responses=DeputyRequestDetailSerializer,
        parameters=[OpenApiParameter("rid", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path=r"responses/(?P<rid>\d+)/approve")
    def approve_response(
        self, request: Request, pk: str | None = None, rid: str | None = None
    ) -> ApiResponse:
        data = parse(CommentSerializer, request)
        return self._act(
            services.deputy_request_response_approve,
            response_id=int(rid or 0),
            version=data.get("version"),
        )

    @extend_schema(
        request=CommentSerializer,
        responses=ResponseSerializer,
        parameters=[OpenApiParameter("rid", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path=r"responses/(?P<rid>\d+)/return")
    def return_response(
        self, request: Request, pk: str | None = None, rid: str | None = None
    ) -> ApiResponse:
        item = self.get_object()
        data = parse(CommentSerializer, request)
        response = services.deputy_request_response_return(
            pk=item.pk,
            response_id=int(rid or 0),
            by=request.user,  # type: ignore[arg-type]
            comment=data.get("comment", ""),
            version=data.get("version"),
        )
        return ApiResponse(ResponseSerializer(response).data)

    @extend_schema(methods=["GET"], responses=ExtensionSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=ExtensionAskSerializer, responses={201: ExtensionSerializer}
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def extensions(self, request: Request, pk: str | None = None) -> ApiResponse:
        item = self.get_object()
        if request.method == "GET":
            return ApiResponse(ExtensionSerializer(item.extensions.all(), many=True).data)
        data = parse(ExtensionAskSerializer, request)
        extension = services.deputy_request_extension_ask(pk=item.pk, by=request.user, **data)  # type: ignore[arg-type]
        return ApiResponse(ExtensionSerializer(extension).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ExtensionDecideSerializer,
        responses=DeputyRequestDetailSerializer,
        parameters=[OpenApiParameter("eid", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path=r"extensions/(?P<eid>\d+)/decide")
    def decide_extension(
        self, request: Request, pk: str | None = None, eid: str | None = None
    ) -> ApiResponse:
        return self._act(
            services.deputy_request_extension_decide,
            ExtensionDecideSerializer,
            extension_id=int(eid or 0),
        )

    @extend_schema(
        parameters=[SimilarQuerySerializer], responses=DeputyRequestSerializer(many=True)
    )
    # A short plain list (not paginated) that the filing form shows beside the title.
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def similar(self, request: Request) -> ApiResponse:
        query = SimilarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        rows = selectors.similar_requests(
            actor=actor_for(request.user),
            title=data.get("title", ""),
            address=data.get("address", ""),
            district_id=data.get("district"),
            exclude_pk=data.get("exclude"),
        )
        return ApiResponse(DeputyRequestSerializer(rows, many=True).data)
