"""Filters of the request lists: one FilterSet shared by the HTML lists, the API and exports."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from maslikhat.directory.actors import ANONYMOUS, Actor, actor_for
from maslikhat.directory.filters import IdFilter
from maslikhat.directory.models import Category, Convocation, Department, Deputy, District

from .models import DeputyRequest, Outcome, RequestStatus
from .selectors import overdue, search_requests


class DeputyRequestFilter(django_filters.FilterSet):
    # A column of the request itself: no join, so no ``DISTINCT`` (django-filter's default
    # for a multiple choice), which would make the database sort whole rows to drop nothing.
    status = django_filters.MultipleChoiceFilter(
        choices=RequestStatus.choices, label=_("Status"), distinct=False
    )
    lead_department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), label=_("Lead department")
    )
    author = django_filters.ModelChoiceFilter(
        queryset=Deputy.objects.select_related("user"), label=_("Author")
    )
    district = django_filters.ModelChoiceFilter(
        queryset=District.objects.all(), label=_("District")
    )
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), label=_("Category")
    )
    convocation = django_filters.ModelChoiceFilter(
        queryset=Convocation.objects.all(), label=_("Convocation")
    )
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices, label=_("Outcome"))
    executor = IdFilter(field_name="executor_id", label=_("Executor"))
    is_public = django_filters.BooleanFilter(label=_("Published"))
    is_overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))
    due_before = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lte", label=_("Due by")
    )
    due_after = django_filters.DateFilter(
        field_name="due_date", lookup_expr="gte", label=_("Due from")
    )
    submitted_after = django_filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__gte", label=_("Submitted from")
    )
    submitted_before = django_filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__lte", label=_("Submitted by")
    )
    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    scope = django_filters.ChoiceFilter(
        choices=[("mine", _("My requests")), ("all", _("Also published requests of others"))],
        method="filter_scope",
        label=_("Show"),
    )

    class Meta:
        model = DeputyRequest
        fields = [
            "status",
            "lead_department",
            "author",
            "district",
            "category",
            "convocation",
            "outcome",
            "executor",
            "is_public",
            "is_overdue",
        ]

    def __init__(self, *args: Any, actor: Actor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor

    def search_actor(self) -> Actor:
        """Whose search this is: the given actor, else the request's user, else the public.

        Search reads only what its caller may read (``docs/search.md``); a filter built
        without a caller searches as the public does.
        """
        if self.actor is not None:
            return self.actor
        if self.request is not None:
            return actor_for(getattr(self.request, "user", None))
        return ANONYMOUS

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return search_requests(queryset, value, actor=self.search_actor())

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Overdue ones over the columns (the indexes answer it); not overdue ones by the
        list's ``overdue`` annotation."""
        if value is None:
            return queryset
        if value:
            return queryset.filter(overdue())
        return queryset.filter(overdue=False)

    def filter_scope(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """``scope=mine``: a deputy's own requests (authored or co-authored) only; the list,
        the summary and the exports read it alike. Without it a deputy sees every request
        visible to them (own and others' published ones)."""
        deputy_id = self.search_actor().deputy_id
        if value != "mine" or deputy_id is None:
            return queryset
        co_authored = DeputyRequest.co_authors.through.objects.filter(
            deputyrequest_id=OuterRef("pk"), deputy_id=deputy_id
        )
        return queryset.filter(Q(author_id=deputy_id) | Exists(co_authored))


#: ``?ordering=`` values of the lists (API and HTML).
ORDERING_FIELDS = ["submitted_at", "due_date", "number", "status", "updated_at", "title"]
