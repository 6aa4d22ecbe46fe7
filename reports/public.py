"""Reads of the public portal (no login): only what the public may see, and no personal data.

What a visitor sees of a request is the list of ``PUBLIC_REQUEST_FIELDS``: number, title,
text, proposed solution, category, district, the deputy author's name, status, dates and —
once the request is closed — the department's sent final answer and the outcome. Never a
draft, a private request, the thread, attachments, the address (it may be a citizen's home)
or the executor's name. Requests come from ``deputy_request_visible(ANONYMOUS)``: published
(``is_public``) and registered.

Search matches only those public fields (the published document, ``docs/search.md``): the
participants' document also holds the thread, the files and answers not yet public, and a
public search over it would tell a visitor which words they contain.

Statistics count *every registered request* by district, category and month, with the number
of published ones beside it: counts are not personal data and publishing only a share of
them would hide how many problems were raised. Every link from a statistic (a drill-down)
opens the public list, which holds published requests only.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import django_filters
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, TextChoices
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _

from instructions.models import (
    ExecutionReport,
    Instruction,
    InstructionStatus,
    Meeting,
    MeetingKind,
)
from maslikhat.core.extensions import Extension, ExtensionStatus
from maslikhat.directory.actors import ANONYMOUS
from maslikhat.directory.models import Category, Convocation, Department, Deputy, District
from requests_app.models import (
    DeputyRequest,
    Outcome,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)
from requests_app.selectors import deputy_request_visible, search_requests

from .selectors import Params, _month_key, _name, as_query_dict, own_requests

S = RequestStatus
PUBLIC_REQUEST_FIELDS = (
    "id",
    "number",
    "title",
    "body",
    "proposed_solution",
    "status",
    "outcome",
    "submitted_at",
    "answered_at",
    "closed_at",
    "category_id",
    "district_id",
    "author_id",
    "convocation_id",
)
#: Statuses a published request can be in (drafts are never public).
PUBLIC_STATUSES = [s for s in RequestStatus.choices if s[0] != S.DRAFT]
MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
#: How many meetings a page of the plan shows (the next ones a link away).
PLAN_LIMIT = 40


def answered_by_department(
    qs: QuerySet[DeputyRequest], department_id: int
) -> QuerySet[DeputyRequest]:
    """Published requests a department has answered: the public learns which department
    answered a request when its final answer is published (on closing), never earlier,
    so the list, the feed and the follow digests all narrow by department this way."""
    return qs.filter(status=RequestStatus.CLOSED, lead_department_id=department_id)


def published_requests() -> QuerySet[DeputyRequest]:
    """Every request the public may see, with only the fields it may see (and only the
    tables its pages show: each more join is more for PostgreSQL to plan)."""
    return (
        deputy_request_visible(ANONYMOUS)
        .select_related("category", "district", "author__user")
        .only(
            *PUBLIC_REQUEST_FIELDS,
            "category__name_ru",
            "category__name_kk",
            "category__name_en",
            "district__name_ru",
            "district__name_kk",
            "district__name_en",
            "author__user__first_name",
            "author__user__last_name",
            "author__user__middle_name",
            "author__user__username",
        )
    )


def public_search(qs: QuerySet[DeputyRequest], text: str) -> QuerySet[DeputyRequest]:
    """Requests whose public text matches ``text``: the staff search as the public sees it.

    It reads the published document (number, title, text, proposed solution and, once
    closed, the final answer) — never the thread, the files, answers not yet public or
    the address (``docs/search.md``).
    """
    return search_requests(qs, text, actor=ANONYMOUS)


class PublicRequestFilter(django_filters.FilterSet):
    """The public list's filters: what a visitor can narrow published requests by."""

    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    district = django_filters.ModelChoiceFilter(
        queryset=District.objects.all(), label=_("District")
    )
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), label=_("Category")
    )
    status = django_filters.ChoiceFilter(choices=PUBLIC_STATUSES, label=_("Status"))
    author = django_filters.ModelChoiceFilter(
        queryset=Deputy.objects.select_related("user"), method="filter_author", label=_("Deputy")
    )
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(),
        method="filter_department",
        label=_("Department that answered"),
    )
    convocation = django_filters.ModelChoiceFilter(
        queryset=Convocation.objects.all(), label=_("Convocation")
    )
    month = django_filters.CharFilter(method="filter_month", label=_("Month (YYYY-MM)"))

    class Meta:
        model = DeputyRequest
        fields = [
            "search",
            "district",
            "category",
            "status",
            "author",
            "department",
            "convocation",
            "month",
        ]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return public_search(queryset, value)

    def filter_department(
        self, queryset: QuerySet, name: str, value: Department | None
    ) -> QuerySet:
        return queryset if value is None else answered_by_department(queryset, value.pk)

    def filter_author(self, queryset: QuerySet, name: str, value: Deputy | None) -> QuerySet:
        # A deputy's public requests include those they co-authored.
        return queryset if value is None else own_requests(queryset, value.pk)

    def filter_month(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        match = MONTH_PATTERN.match((value or "").strip())
        if not match:
            return queryset
        year, month = int(match.group(1)), int(match.group(2))
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            return queryset.none()
        start = datetime.date(year, month, 1)
        end = datetime.date(year + month // 12, month % 12 + 1, 1)
        return queryset.filter(submitted_at__date__gte=start, submitted_at__date__lt=end)


def public_request_list(params: Params) -> PublicRequestFilter:
    return PublicRequestFilter(
        data=as_query_dict(params),
        queryset=published_requests().order_by("-submitted_at", "-id"),
    )


@dataclass
class PublicAnswer:
    department: str
    text: str
    sent_at: datetime.datetime | None
    outcome: str | None


def public_request(pk: Any) -> tuple[DeputyRequest, PublicAnswer | None]:
    """A published request and, once it is closed, its final answer; 404 otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    item = published_requests().filter(pk=pk).first()
    if item is None:
        raise Http404
    answer = None
    if item.status == S.CLOSED:
        response = (
            Response.objects.filter(
                request_id=item.pk, kind=ResponseKind.FINAL, status=ResponseStatus.SENT
            )
            .select_related("department")
            .only(
                "text",
                "sent_at",
                "outcome",
                "department__name_ru",
                "department__name_kk",
                "department__name_en",
            )
            .order_by("-sent_at", "-id")
            .first()
        )
        if response is not None:
            answer = PublicAnswer(
                department=response.department.name,
                text=response.text,
                sent_at=response.sent_at,
                outcome=response.get_outcome_display() if response.outcome else None,
            )
    return item, answer


# --- Statistics ---------------------------------------------------------------------------------


def _registered() -> QuerySet[DeputyRequest]:
    return DeputyRequest.objects.exclude(status=S.DRAFT).order_by()


def _counts() -> dict[str, Any]:
    return {
        "received": Count("pk"),
        "published": Count("pk", filter=Q(is_public=True)),
        "answered": Count("pk", filter=Q(answered_at__isnull=False)),
        "closed": Count("pk", filter=Q(status=S.CLOSED)),
        "resolved": Count(
            "pk",
            filter=Q(status=S.CLOSED, outcome__in=[Outcome.RESOLVED, Outcome.PARTIALLY_RESOLVED]),
        ),
    }


def _grouped(field: str) -> list[dict[str, Any]]:
    rows = (
        _registered()
        .values(f"{field}_id", f"{field}__name_ru", f"{field}__name_kk", f"{field}__name_en")
        .annotate(**_counts())
    )
    result = [
        {
            "id": row[f"{field}_id"],
            "name": _name(row, field) if row[f"{field}_id"] is not None else "",
            **{key: row[key] for key in _counts()},
        }
        for row in rows
    ]
    result.sort(key=lambda r: (r["id"] is None, -r["received"], r["name"]))
    return result


def public_statistics(*, months: int = 24) -> dict[str, Any]:
    """Registered requests by district, category and month (the last ``months`` months):
    from the daily counts when today's build is done (``daily_counts.public_counts``), else
    counted live — the same figures either way."""
    from .daily_counts import public_counts

    first = timezone.localdate().replace(day=1)
    index = first.year * 12 + first.month - 1 - (months - 1)
    since = datetime.date(index // 12, index % 12 + 1, 1)
    counted = public_counts(since=since)
    if counted is not None:
        return {key: counted[key] for key in ("totals", "by_district", "by_category", "by_month")}
    totals = _registered().aggregate(**_counts())
    by_month = (
        _registered()
        .filter(submitted_at__date__gte=since)
        .annotate(month=TruncMonth("submitted_at"))
        .values("month")
        .annotate(**_counts())
        .order_by("month")
    )
    return {
        "totals": totals,
        "by_district": _grouped("district"),
        "by_category": _grouped("category"),
        "by_month": [_month_row(dict(row)) for row in by_month],
    }


def _month_row(row: dict[str, Any]) -> dict[str, Any]:
    return {"month": _month_key(row["month"]), **{key: row[key] for key in _counts()}}


# --- Deputies and the plan --------------------------------------------------------------------


def public_deputies(today: datetime.date | None = None) -> list[Deputy]:
    """Active deputies, each with ``published``: the published requests they authored.

    The counts come from the stored counts when today's build is done
    (``public_counts.published_counts``: none of the whole table is read), else they are
    counted live in the deputies' query.
    """
    from .public_counts import published_counts

    counts = published_counts(today or timezone.localdate())
    deputies = (
        Deputy.objects.filter(is_active=True)
        .select_related("user", "party", "district", "convocation")
        .prefetch_related("commissions")
        .order_by("user__last_name", "user__first_name", "pk")
    )
    if counts is None:
        published = Q(authored_requests__is_public=True) & ~Q(authored_requests__status=S.DRAFT)
        return list(deputies.annotate(published=Count("authored_requests", filter=published)))
    result = list(deputies)
    for deputy in result:
        deputy.published = counts.get(deputy.pk, 0)  # type: ignore[attr-defined]
    return result


def public_deputy(pk: Any, *, requests_shown: int = 20) -> dict[str, Any]:
    """A deputy's public page: party, district, commissions, activities, published requests."""
    from kpi.models import DeputyActivity

    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    deputy = (
        Deputy.objects.select_related("user", "party", "district", "convocation")
        .prefetch_related("commissions")
        .filter(pk=pk)
        .first()
    )
    if deputy is None:
        raise Http404
    requests = own_requests(published_requests(), deputy.pk)
    if connection.features.supports_slicing_ordering_in_compound:
        # The same requests, read as the newest of each kind by its own index (the author's
        # requests by date; the co-authorships), then the newest of both: a page reads a
        # few rows, not every published request until the deputy's turn up.
        newest = deputy_request_visible(ANONYMOUS).order_by("-submitted_at", "-id").values("pk")
        co_authored = DeputyRequest.co_authors.through.objects.filter(deputy_id=deputy.pk)
        candidates = newest.filter(author_id=deputy.pk)[: requests_shown + 1].union(
            newest.filter(pk__in=co_authored.values("deputyrequest_id"))[: requests_shown + 1],
            all=True,
        )
        requests = published_requests().filter(pk__in=candidates)
    requests = requests.order_by("-submitted_at", "-id")
    activities = DeputyActivity.objects.filter(deputy_id=deputy.pk)
    activity_counts = {
        row["kind"]: row["n"]
        for row in activities.order_by().values("kind").annotate(n=Count("pk"))
    }
    recent_activities = list(
        activities.select_related("district")
        .only("kind", "date", "district__name_ru", "district__name_kk", "district__name_en")
        .order_by("-date", "-id")[:20]
    )
    shown = list(requests[: requests_shown + 1])
    return {
        "deputy": deputy,
        "requests": shown[:requests_shown],
        "more_requests": len(shown) > requests_shown,
        "activity_counts": activity_counts,
        "activities": recent_activities,
    }


def public_plan(
    today: datetime.date | None = None,
    *,
    limit: int = PLAN_LIMIT,
    after: tuple[datetime.date, int] | None = None,
) -> list[Meeting]:
    """Upcoming sessions, commission meetings, hearings and field visits (today on): the
    first ``limit`` of them, or of those after the meeting ``after`` (its date and id)."""
    today = today or timezone.localdate()
    meetings = Meeting.objects.filter(date__gte=today)
    if after is not None:
        day, pk = after
        meetings = meetings.filter(Q(date__gt=day) | Q(date=day, id__gt=pk))
    return list(meetings.select_related("commission", "department").order_by("date", "id")[:limit])


def public_plan_page(params: Params, today: datetime.date | None = None) -> dict[str, Any]:
    """The plan page: ``PLAN_LIMIT`` upcoming meetings and the query of the next ones
    (``?from=<date>&after=<id>``: after the last one shown; anything else reads as the
    first page)."""
    data = as_query_dict(params)
    after = None
    try:
        after = (datetime.date.fromisoformat(data.get("from", "")), int(data.get("after", "")))
    except ValueError:
        after = None
    rows = public_plan(today, limit=PLAN_LIMIT + 1, after=after)
    shown = rows[:PLAN_LIMIT]
    next_query = ""
    if len(rows) > PLAN_LIMIT:
        last = shown[-1]
        next_query = urlencode({"from": last.date.isoformat(), "after": last.pk})
    return {"meetings": shown, "next_query": next_query, "is_later": after is not None}


def public_home(today: datetime.date | None = None) -> dict[str, Any]:
    """The portal's front page: headline figures, the latest published requests, the plan."""
    today = today or timezone.localdate()
    from .daily_counts import public_totals

    latest = list(published_requests().order_by("-submitted_at", "-id")[:6])
    return {
        "totals": public_totals(today) or _registered().aggregate(**_counts()),
        "latest": latest,
        "upcoming": public_plan(today, limit=5),
    }


# --- Protocol instructions ----------------------------------------------------------------------
#
# What the maslikhat ordered the akimat at its sessions and commission meetings, and whether it
# was done. The public reads an instruction's number, protocol and meeting, text, the lead and
# co-executor departments, the controlling commission, the due date (and the original one), the
# public status, the approved extensions (new date and reason) and the date it was accepted as
# executed or removed from control. The execution reports, and the controller's returns written
# on them, are internal until staff publish one (``ExecutionReport.is_public``); the thread, the
# files, the officers' names and the removal reason never appear. The states of the work between
# the department and its controller (reported, returned) read "on control" here.

#: The meetings whose instructions are public: council sessions and commission meetings.
PUBLIC_MEETING_KINDS = (MeetingKind.SESSION, MeetingKind.COMMISSION)


class PublicInstructionStatus(TextChoices):
    ON_CONTROL = "on_control", _("On control")
    EXECUTED = "executed", _("Executed")
    REMOVED = "removed", _("Removed from control")


#: The states of an instruction behind each public status.
PUBLIC_INSTRUCTION_STATES: dict[str, tuple[str, ...]] = {
    PublicInstructionStatus.ON_CONTROL: (
        InstructionStatus.ON_CONTROL,
        InstructionStatus.REPORTED,
        InstructionStatus.RETURNED,
    ),
    PublicInstructionStatus.EXECUTED: (InstructionStatus.EXECUTED,),
    PublicInstructionStatus.REMOVED: (InstructionStatus.REMOVED_FROM_CONTROL,),
}


def public_instruction_status(item: Instruction) -> str:
    """The public status of an instruction (``PublicInstructionStatus``)."""
    for public_status, states in PUBLIC_INSTRUCTION_STATES.items():
        if item.status in states:
            return public_status
    return PublicInstructionStatus.ON_CONTROL


def public_meetings() -> QuerySet[Meeting]:
    """Sessions and commission meetings: the meetings whose instructions the public reads."""
    return (
        Meeting.objects.filter(kind__in=PUBLIC_MEETING_KINDS)
        .select_related("commission")
        .order_by("-date", "-id")
    )


def public_instructions() -> QuerySet[Instruction]:
    """Every instruction of a session or a commission meeting, with what its public rows
    show (the controlling commission is the page's alone: ``public_instruction``)."""
    return (
        Instruction.objects.filter(protocol__meeting__kind__in=PUBLIC_MEETING_KINDS)
        .select_related("protocol__meeting", "lead_department")
        .prefetch_related("co_departments")
    )


#: How many of the current convocation's latest meetings the list's meeting filter offers.
MEETING_CHOICES = 60


def public_meeting_choices(selected: Any = None) -> list[tuple[Any, str]]:
    """The meeting filter's options: the current convocation's latest public meetings
    (``MEETING_CHOICES`` of them, newest first) and the chosen one wherever it is — one
    query, never the whole list of meetings (any public meeting's id is still accepted)."""
    recent = (
        Meeting.objects.filter(kind__in=PUBLIC_MEETING_KINDS, convocation__is_current=True)
        .order_by("-date", "-id")
        .values("pk")[:MEETING_CHOICES]
    )
    shown = Q(pk__in=recent)
    try:
        chosen = int(selected)
    except (TypeError, ValueError):
        chosen = None
    if chosen is not None and 0 < chosen < 2**63:
        shown |= Q(pk=chosen)
    meetings = (
        Meeting.objects.filter(shown, kind__in=PUBLIC_MEETING_KINDS)
        .only("date", "title")
        .order_by("-date", "-id")
    )
    return [("", "---------"), *((m.pk, str(m)) for m in meetings)]


class MeetingChoices(BaseChoiceIterator):
    """The meeting select's options, read once when the select renders (a feed, which
    renders no form, never reads them)."""

    def __init__(self, selected: Any) -> None:
        self.selected = selected
        self.choices: list[tuple[Any, str]] | None = None

    def __iter__(self) -> Iterator[tuple[Any, str]]:
        if self.choices is None:
            self.choices = public_meeting_choices(self.selected)
        return iter(self.choices)


class PublicInstructionFilter(django_filters.FilterSet):
    """The public instruction list's filters: words or a number, department, meeting, status.

    The meeting select offers the current convocation's latest meetings and the chosen one
    (``public_meeting_choices``); the filter accepts any public meeting.
    """

    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.order_by("name_ru", "pk"),
        method="filter_department",
        label=_("Department"),
    )
    meeting = django_filters.ModelChoiceFilter(
        queryset=public_meetings(),
        field_name="protocol__meeting",
        label=_("Meeting"),
    )
    status = django_filters.ChoiceFilter(
        choices=PublicInstructionStatus.choices, method="filter_status", label=_("Status")
    )

    class Meta:
        model = Instruction
        fields = ["search", "department", "meeting", "status"]

    @property
    def form(self) -> Any:
        if not hasattr(self, "_form"):
            form = super().form
            selected = self.data.get("meeting") if self.is_bound else None
            form.fields["meeting"].widget.choices = MeetingChoices(selected)
        return self._form

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        words = (value or "").strip()
        if not words:
            return queryset
        return queryset.filter(Q(number__iexact=words) | Q(text__icontains=words))

    def filter_department(
        self, queryset: QuerySet, name: str, value: Department | None
    ) -> QuerySet:
        # The department's instructions are those it leads and those it co-executes.
        if value is None:
            return queryset
        co_executes = Instruction.co_departments.through.objects.filter(
            instruction_id=OuterRef("pk"), department_id=value.pk
        )
        return queryset.filter(Q(lead_department_id=value.pk) | Exists(co_executes))

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        states = PUBLIC_INSTRUCTION_STATES.get(value)
        return queryset if states is None else queryset.filter(status__in=states)


def public_instruction_list(params: Params) -> PublicInstructionFilter:
    """The public instruction list (and its feed): newest protocol first."""
    return PublicInstructionFilter(
        data=as_query_dict(params),
        queryset=public_instructions().order_by("-protocol__date", "-protocol_id", "-id"),
    )


def public_instruction(pk: Any) -> dict[str, Any]:
    """One public instruction: approved extensions and published reports; 404 otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    item = public_instructions().select_related("controller_commission").filter(pk=pk).first()
    if item is None:
        raise Http404
    extensions = list(
        Extension.objects.filter(
            item_type=Instruction.ITEM_TYPE, item_id=item.pk, status=ExtensionStatus.APPROVED
        )
        .only("previous_due_date", "new_due_date", "reason", "decided_at")
        .order_by("decided_at", "id")
    )
    reports = list(
        ExecutionReport.objects.filter(instruction_id=item.pk, is_public=True)
        .select_related("department")
        .only(
            "text",
            "is_final",
            "status",
            "comment",
            "submitted_at",
            "decided_at",
            "department__name_ru",
            "department__name_kk",
            "department__name_en",
        )
        .order_by("submitted_at", "id")
    )
    return {
        "item": item,
        "public_status": public_instruction_status(item),
        "co_departments": list(item.co_departments.all()),
        "extensions": extensions,
        "reports": reports,
    }
