"""``/api/v1/requests/``: deputy requests and their action endpoints (``api.md``).

Each action parses its body, calls one service and returns the updated item;
a transition not allowed now is a 409, a stale ``version`` too, an item the
user may not see a 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse

from maslikhat.core.item_api import ItemActionsMixin, parse
from maslikhat.core.serializers import (
    CommentSerializer,
    ReasonSerializer,
)
from maslikhat.directory.actors import actor_for

from . import selectors, services
from .filters import ORDERING_FIELDS, DeputyRequestFilter
from .models import DeputyRequest
from .serializers import (
    AssignSerializer,
    ClarificationAnswerSerializer,
    ClarifySerializer,
    DeputyRequestDetailSerializer,
    DeputyRequestListSerializer,
    DeputyRequestSerializer,
    DraftSerializer,
    EvaluateSerializer,
    EvaluationSerializer,
    RateRequestSerializer,
    RerouteSerializer,
    RespondSerializer,
    ResponseApproveSerializer,
    ResponseSerializer,
    RouteSerializer,
    SimilarQuerySerializer,
)


@extend_schema_view(decide_extension=extend_schema(responses=DeputyRequestDetailSerializer))
class DeputyRequestViewSet(
    ItemActionsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = DeputyRequestSerializer
    filterset_class = DeputyRequestFilter
    ordering_fields = ORDERING_FIELDS
    ordering = ["-submitted_at", "-id"]
    detail_serializer_class = DeputyRequestDetailSerializer
    extension_ask_service = services.deputy_request_extension_ask
    extension_decide_service = services.deputy_request_extension_decide

    def get_queryset(self) -> QuerySet[DeputyRequest]:
        return selectors.deputy_request_list(actor=actor_for(self.request.user))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        """The list: the filters and ordering over the visible requests, a page of plain
        rows with their co-authors and co-departments (two queries for the page)."""
        rows = self.filter_queryset(selectors.deputy_request_rows(actor=actor_for(request.user)))
        page = self.paginate_queryset(selectors.list_values(rows))
        assert page is not None
        co_authors, co_departments = selectors.co_ids([row["id"] for row in page])
        return self.get_paginated_response(
            DeputyRequestListSerializer.rows(page, co_authors, co_departments)
        )

    def visible_item(self, pk: Any) -> DeputyRequest:
        return selectors.deputy_request_get_visible(user=self.request.user, pk=pk)

    def detail_context(self, item: Any) -> dict[str, Any]:
        actor = actor_for(self.request.user)
        return {
            "responses": list(selectors.responses_visible(actor=actor, item=item)),
            "actions": services.available_actions(actor, item),
            "clarifications": selectors.clarifications_of(actor=actor, item=item),
        }

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

    @extend_schema(request=RerouteSerializer, responses=DeputyRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def reroute(self, request: Request, pk: str | None = None) -> ApiResponse:
        """Staff re-route a request in work: new departments, a reason, and whether the
        deadline restarts from today (``restart``) or stays (``keep``)."""
        return self._act(services.deputy_request_reroute, RerouteSerializer)

    @extend_schema(request=ClarifySerializer, responses=DeputyRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def clarification(self, request: Request, pk: str | None = None) -> ApiResponse:
        """The lead department asks the author a clarification question (one open at a
        time: a second is a 409); where the rule says so, the clock stops."""
        return self._act(services.deputy_request_clarify, ClarifySerializer)

    @extend_schema(request=ClarificationAnswerSerializer, responses=DeputyRequestDetailSerializer)
    @action(detail=True, methods=["post"], url_path="clarification/answer")
    def answer_clarification(self, request: Request, pk: str | None = None) -> ApiResponse:
        """The author answers the open clarification question; a stopped clock runs again
        and the due date moves by the paused working days."""
        return self._act(
            services.deputy_request_answer_clarification, ClarificationAnswerSerializer
        )

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

    @extend_schema(responses=EvaluationSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def evaluations(self, request: Request, pk: str | None = None) -> ApiResponse:
        """Every evaluation of the request's answers, oldest first: a return for rework
        keeps its rating and comment after the next answer is accepted."""
        item = self.get_object()
        rows = selectors.evaluations_of(item)
        return ApiResponse(EvaluationSerializer(rows, many=True).data)

    @extend_schema(
        request=ResponseApproveSerializer,
        responses=DeputyRequestDetailSerializer,
        parameters=[OpenApiParameter("rid", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path=r"responses/(?P<rid>\d+)/approve")
    def approve_response(
        self, request: Request, pk: str | None = None, rid: str | None = None
    ) -> ApiResponse:
        data = parse(ResponseApproveSerializer, request)
        return self._act(
            services.deputy_request_response_approve,
            response_id=int(rid or 0),
            version=data.get("version"),
            boilerplate_comment=data.get("boilerplate_comment", ""),
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
