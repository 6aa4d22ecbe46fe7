"""``/api/v1/kpi/…``: rankings, history, weights, methodology, rater flags, activities, survey.

Rankings, history, the methodology, the weights in force and the survey report are public
(docs/domain.md: the public sees KPI rankings and the methodology). Each endpoint parses its
input, calls one selector or service and returns the result; a period the API cannot read
is a 400 that says which forms are accepted, a period never computed a 404 that says to
run ``compute_kpi`` (rankings are never computed on demand by a public request).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from maslikhat.directory.actors import actor_for

from . import permissions as kpi_permissions
from . import selectors, services
from .calculators import DEPARTMENT, DEPUTY
from .models import DeputyActivity, RaterFlag
from .serializers import (
    DeputyActivityInSerializer,
    DeputyActivitySerializer,
    EntityHistorySerializer,
    FlagReviewSerializer,
    HistoryQuerySerializer,
    PeriodQuerySerializer,
    RankingsSerializer,
    RaterFlagSerializer,
    SurveyAnswerInSerializer,
    SurveyAnswerSerializer,
    SurveyReportSerializer,
    SurveyRoundOpenSerializer,
    SurveyRoundSerializer,
    WeightsInForceSerializer,
    WeightsSetSerializer,
    WeightsVersionSerializer,
)


def _parse(serializer_class: type[Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class _ReadPublicly(permissions.BasePermission):
    """Reads (GET, HEAD, OPTIONS) for everyone; writes for signed-in users (services check
    who may do what)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated)


# --- Rankings and history ---------------------------------------------------------------------


class _RankingViewSet(viewsets.ViewSet):
    kind = DEPARTMENT
    permission_classes = [permissions.AllowAny]

    @extend_schema(parameters=[PeriodQuerySerializer], responses=RankingsSerializer)
    def list(self, request: Request) -> Response:
        """The ranking for ``?period=`` from its latest finished snapshot."""
        query = _parse(PeriodQuerySerializer, request.query_params)
        rankings = selectors.kpi_rankings(self.kind, query["period"])
        return Response(RankingsSerializer(rankings).data)

    @extend_schema(
        parameters=[HistoryQuerySerializer, OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses=EntityHistorySerializer,
    )
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        """One entity's composite, rank and components period after period (trend chart)."""
        try:
            entity_id = int(pk or "")
        except ValueError as exc:
            raise Http404 from exc
        query = _parse(HistoryQuerySerializer, request.query_params)
        history = selectors.kpi_entity_history(self.kind, entity_id, periods=query["periods"])
        return Response(EntityHistorySerializer(history).data)


class DepartmentKpiViewSet(_RankingViewSet):
    kind = DEPARTMENT


class DeputyKpiViewSet(_RankingViewSet):
    kind = DEPUTY


# --- Weights and methodology ------------------------------------------------------------------


class KpiWeightsViewSet(viewsets.ViewSet):
    permission_classes = [_ReadPublicly]

    @extend_schema(responses=WeightsInForceSerializer)
    def list(self, request: Request) -> Response:
        """The weights in force for departments and for deputies."""
        data = {kind: selectors.weights_in_force(kind) for kind in (DEPARTMENT, DEPUTY)}
        return Response(WeightsInForceSerializer(data).data)

    @extend_schema(request=WeightsSetSerializer, responses={201: WeightsVersionSerializer})
    def create(self, request: Request) -> Response:
        """Staff: a new version of one kind's weights (known keys, ≥ 0, adding up to 1)."""
        data = _parse(WeightsSetSerializer, request.data)
        row = services.kpi_weights_set(by=request.user, **data)  # type: ignore[arg-type]
        version = selectors.weights_in_force(row.kind)
        return Response(WeightsVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class KpiMethodologyViewSet(viewsets.ViewSet):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def list(self, request: Request) -> Response:
        """Components, formulas, constants, the weights in force and the safeguards."""
        return Response(selectors.methodology())


# --- Rater flags ------------------------------------------------------------------------------


class RaterFlagViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = RaterFlagSerializer
    filterset_fields = ["status", "rater_kind"]
    ordering_fields = ["detected_at", "run_length"]
    ordering = ["-detected_at", "-id"]

    def get_queryset(self) -> QuerySet[RaterFlag]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator asks for the model
            return RaterFlag.objects.none()
        if not kpi_permissions.can_see_flags(actor_for(self.request.user)):
            raise PermissionDenied
        return selectors.rater_flag_list()

    @extend_schema(request=FlagReviewSerializer, responses=RaterFlagSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        """Staff: the ratings stand (dismissed) or were formal (confirmed)."""
        flag = self.get_object()
        data = _parse(FlagReviewSerializer, request.data)
        flag = services.rater_flag_review(by=request.user, flag_id=flag.pk, **data)  # type: ignore[arg-type]
        return Response(RaterFlagSerializer(flag).data)


# --- Deputies' activities ---------------------------------------------------------------------


class DeputyActivityViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """A deputy's own activities (staff: everyone's); POST records one."""

    serializer_class = DeputyActivitySerializer
    filterset_fields = ["deputy", "kind", "date"]
    ordering_fields = ["date", "created_at"]
    ordering = ["-date", "-id"]

    def get_queryset(self) -> QuerySet[DeputyActivity]:
        return selectors.activity_list(actor=actor_for(self.request.user))

    @extend_schema(request=DeputyActivityInSerializer, responses={201: DeputyActivitySerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _parse(DeputyActivityInSerializer, request.data)
        deputy = data.pop("deputy", None) or actor_for(request.user).deputy_id
        if deputy is None:
            return Response(
                {"deputy": [str(_("Choose the deputy."))]}, status=status.HTTP_400_BAD_REQUEST
            )
        activity = services.deputy_activity_record(by=request.user, deputy=deputy, **data)  # type: ignore[arg-type]
        return Response(DeputyActivitySerializer(activity).data, status=status.HTTP_201_CREATED)


# --- Perception survey ------------------------------------------------------------------------


class SurveyViewSet(viewsets.ViewSet):
    permission_classes = [_ReadPublicly]

    @extend_schema(responses=SurveyReportSerializer)
    def list(self, request: Request) -> Response:
        """The report: each round's pool means side by side and the gap (public).

        Means appear only for closed rounds and for groups with at least
        ``min_group_answers`` answers; a smaller group is ``suppressed`` (means null).
        """
        data = {
            "questions": selectors.survey_questions(),
            "min_group_answers": selectors.survey_min_group_answers(),
            "rounds": selectors.survey_report(),
        }
        return Response(SurveyReportSerializer(data).data)

    @extend_schema(request=SurveyAnswerInSerializer, responses={201: SurveyAnswerSerializer})
    def create(self, request: Request) -> Response:
        """A deputy or a civil servant answers the open round (once)."""
        data = _parse(SurveyAnswerInSerializer, request.data)
        answer = services.survey_answer_submit(by=request.user, **data)  # type: ignore[arg-type]
        return Response(SurveyAnswerSerializer(answer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SurveyRoundOpenSerializer, responses={201: SurveyRoundSerializer})
    @action(detail=False, methods=["post"])
    def rounds(self, request: Request) -> Response:
        """Staff: open the year's round."""
        data = _parse(SurveyRoundOpenSerializer, request.data)
        survey = services.survey_round_open(by=request.user, year=data["year"])  # type: ignore[arg-type]
        return Response(SurveyRoundSerializer(survey).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses=SurveyRoundSerializer,
        parameters=[OpenApiParameter("round_id", int, OpenApiParameter.PATH)],
    )
    @action(detail=False, methods=["post"], url_path=r"rounds/(?P<round_id>\d+)/close")
    def close_round(self, request: Request, round_id: str | None = None) -> Response:
        """Staff: close a round."""
        survey = services.survey_round_close(by=request.user, round_id=int(round_id or 0))  # type: ignore[arg-type]
        return Response(SurveyRoundSerializer(survey).data)
