"""Reads of deputy requests, and who may see which — decided here, once.

Every list, detail page, export, dashboard and API endpoint scopes through
``deputy_request_visible``; an item outside it is a 404 for that user.
"""

from __future__ import annotations

import datetime
import functools
import json
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    Expression,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone

from maslikhat.core.selectors import item_pk
from maslikhat.core.threads import AuditEvent
from maslikhat.directory.actors import Actor, actor_for
from maslikhat.directory.models import Department, Deputy

from . import permissions, similarity
from .models import (
    Clarification,
    DeputyRequest,
    Evaluation,
    RequestStatus,
    Response,
    ResponseStatus,
)

CoAuthor = DeputyRequest.co_authors.through
CoDepartment = DeputyRequest.co_departments.through


def _own(deputy_id: int) -> Q:
    """Requests the deputy authored or co-authored."""
    return Q(author_id=deputy_id) | Q(
        Exists(CoAuthor.objects.filter(deputyrequest_id=OuterRef("pk"), deputy_id=deputy_id))
    )


def _involved(department_id: int) -> Q:
    """Requests addressed to the department (lead or co-executor)."""
    return Q(lead_department_id=department_id) | Q(
        Exists(
            CoDepartment.objects.filter(
                deputyrequest_id=OuterRef("pk"), department_id=department_id
            )
        )
    )


def deputy_request_visible(actor: Actor) -> QuerySet[DeputyRequest]:
    """The requests ``actor`` may see: the one visibility rule, for lists and single items.

    - a deputy: own (authored or co-authored, drafts included) and published ones;
    - a department officer: those addressed to the department (lead or co-executor);
    - staff, the chair, administrators: every registered request;
    - the public: published ones.
    Drafts are only ever visible to their authors.
    """
    qs = DeputyRequest.objects.all()
    not_draft = ~Q(status=RequestStatus.DRAFT)
    if actor.deputy_id is not None:
        return qs.filter(_own(actor.deputy_id) | (Q(is_public=True) & not_draft))
    if actor.sees_everything:
        return qs.filter(not_draft)
    if actor.department_id is not None:
        return qs.filter(not_draft & _involved(actor.department_id))
    if actor.is_anonymous:
        return qs.filter(not_draft, is_public=True)
    # Any other signed-in account (e.g. an officer without a department) sees nothing.
    return qs.none()


def deputy_request_correspondence_readable(actor: Actor) -> Q:
    """The requests whose thread and files ``actor`` may read: its participants' requests.

    The same rule as ``permissions.can_read_correspondence``: the author and co-authors,
    the departments working on it (lead or co-executor), staff, the chair and
    administrators. Another deputy and the public see a published request, never its
    correspondence.
    """
    if actor.sees_everything:
        return Q()
    readable = Q(pk__in=[])
    if actor.deputy_id is not None:
        readable |= _own(actor.deputy_id)
    if actor.department_id is not None:
        readable |= _involved(actor.department_id)
    return readable


def with_overdue(
    qs: QuerySet[DeputyRequest], today: datetime.date | None = None
) -> QuerySet[DeputyRequest]:
    """Annotate ``overdue``: past due and unanswered, or answered after the due date."""
    today = today or timezone.localdate()
    late_in_work, answered_late = _overdue_conditions(today)
    return qs.annotate(
        overdue=Case(
            When(late_in_work, then=Value(True)),
            When(answered_late, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def _overdue_conditions(today: datetime.date) -> tuple[Q, Q]:
    """Overdue: in work past the due date, or answered after it.

    Both are the partial index ``request_overdue_due``'s conditions (the overdue list walks
    it by due date). A request in work has no answer (``answered_at`` is cleared when an
    answer is returned for rework); saying so keeps the to-do's own overdue groups, which
    do not, on their narrower indexes.
    """
    return (
        # A stopped clock (a clarification pause) is not overdue: the due date moves.
        Q(
            status=RequestStatus.IN_PROGRESS,
            due_date__lt=today,
            paused_since__isnull=True,
            answered_at__isnull=True,
        ),
        Q(answered_at__isnull=False, due_date__isnull=False, answered_at__date__gt=F("due_date")),
    )


def overdue(today: datetime.date | None = None) -> Q:
    """The condition of ``overdue`` over the columns themselves: a filter the database can
    answer from the due-date indexes, where the annotation's ``CASE`` reads every row."""
    late_in_work, answered_late = _overdue_conditions(today or timezone.localdate())
    return late_in_work | answered_late


def for_list(qs: QuerySet[DeputyRequest]) -> QuerySet[DeputyRequest]:
    """What every list row shows, in a constant number of queries.

    The search documents are read by the database only, never by a page: left unloaded.
    Only the tables a row shows are joined: each more table multiplies the join orders
    PostgreSQL weighs, and the author's party and the convocation, which no row shows,
    took half of the list query's planning (7 ms of 15).
    """
    return with_overdue(
        qs.defer("search_document", "published_document").select_related(
            "author__user",
            "category",
            "district",
            "lead_department",
            "executor",
        )
    ).prefetch_related("co_authors", "co_departments")


def deputy_request_list(*, actor: Actor) -> QuerySet[DeputyRequest]:
    return for_list(deputy_request_visible(actor))


#: The columns a row of the API list shows (``serializers.DeputyRequestListSerializer``,
#: the list fields of ``docs/api.md``): foreign keys as ids, no search documents.
LIST_COLUMNS = (
    "id",
    "number",
    "title",
    "body",
    "proposed_solution",
    "category_id",
    "district_id",
    "address",
    "author_id",
    "lead_department_id",
    "executor_id",
    "status",
    "outcome",
    "is_public",
    "submitted_at",
    "routed_at",
    "due_date",
    "original_due_date",
    "answered_at",
    "closed_at",
    "overdue",
    "rework_count",
    "rating",
    "request_rating",
    "version",
    "convocation_id",
    "evaluation_due_date",
    "status_reason",
    "paused_since",
    "paused_days",
)


def deputy_request_rows(*, actor: Actor) -> QuerySet[DeputyRequest]:
    """The requests of the API list: the visible ones with ``overdue`` (which the filters
    read), nothing joined; the page reads ``list_values`` of it."""
    return with_overdue(deputy_request_visible(actor))


def list_values(qs: QuerySet[DeputyRequest]) -> QuerySet[Any]:
    """The list's columns of ``qs`` as plain rows: no model instance per row."""
    return qs.values(*LIST_COLUMNS)


def co_ids(request_ids: list[int]) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """The co-authors' and co-departments' ids of the requests ``request_ids``, in the
    order of the deputies and departments themselves: two queries for a whole page."""
    authors: dict[int, list[int]] = {pk: [] for pk in request_ids}
    departments: dict[int, list[int]] = {pk: [] for pk in request_ids}
    if not request_ids:
        return authors, departments
    for request_id, deputy_id in (
        CoAuthor.objects.filter(deputyrequest_id__in=request_ids)
        .order_by(*(f"deputy__{field}" for field in Deputy._meta.ordering or ()), "deputy_id")
        .values_list("deputyrequest_id", "deputy_id")
    ):
        authors[request_id].append(deputy_id)
    for request_id, department_id in (
        CoDepartment.objects.filter(deputyrequest_id__in=request_ids)
        .order_by(
            *(f"department__{field}" for field in Department._meta.ordering or ()), "department_id"
        )
        .values_list("deputyrequest_id", "department_id")
    ):
        departments[request_id].append(department_id)
    return authors, departments


def deputy_request_get_visible(*, user: Any, pk: Any) -> DeputyRequest:
    """The request ``pk`` if ``user`` may see it; 404 for "missing" and "forbidden" alike."""
    pk = item_pk(pk)
    actor = actor_for(user)
    sent = Response.objects.filter(status=ResponseStatus.SENT).select_related(
        "drafted_by", "approved_by", "department"
    )
    qs = for_list(deputy_request_visible(actor)).prefetch_related(
        "suggested_departments",
        "co_authors__user",
        Prefetch("responses", queryset=sent, to_attr="sent_responses"),
    )
    item = qs.filter(pk=pk).first()
    if item is None:
        raise Http404
    item._co_author_ids = {d.pk for d in item.co_authors.all()}  # type: ignore[attr-defined]
    item._co_department_ids = {d.pk for d in item.co_departments.all()}  # type: ignore[attr-defined]
    return item


def _evaluations() -> QuerySet[Evaluation]:
    return Evaluation.objects.select_related("by").order_by("at", "id")


def responses_visible(*, actor: Actor, item: DeputyRequest) -> QuerySet[Response]:
    """Sent answers for everyone who sees the item; drafts only for its department and staff.

    Each answer carries its evaluations (``response.evaluations.all()``, oldest first):
    one more query for all of them, whatever their number.
    """
    qs = item.responses.select_related("drafted_by", "approved_by", "department")
    qs = qs.prefetch_related(Prefetch("evaluations", queryset=_evaluations()))
    if actor.in_department(item.lead_department_id) or actor.sees_everything:
        return qs
    return qs.filter(status=ResponseStatus.SENT)


def boilerplate_closeness(drafts: list[Response]) -> dict[int, similarity.Closeness]:
    """For each draft a head may approve: its closest earlier sent answers of its department
    (``similarity.py``). One query per department of the drafts (in practice one), whatever
    the number of earlier answers; none without drafts."""
    candidates: dict[tuple[int, int], list[similarity.Earlier]] = {}
    result = {}
    for draft in drafts:
        key = (draft.department_id, draft.request_id)
        if key not in candidates:
            candidates[key] = similarity.earlier_answers(
                draft.department_id, exclude_request_id=draft.request_id
            )
        result[draft.pk] = similarity.closest(draft.text, candidates[key])
    return result


def evaluations_of(item: DeputyRequest) -> QuerySet[Evaluation]:
    """Every evaluation of the item's answers, oldest first (seen by whoever sees the item:
    evaluations judge sent answers only)."""
    return _evaluations().filter(request=item)


def clarifications_of(*, actor: Actor, item: DeputyRequest) -> list[Clarification]:
    """The item's clarification questions and answers, oldest first, for those who read its
    correspondence (the author and co-authors, its departments, staff); nobody else."""
    if not permissions.can_read_correspondence(actor, item):
        return []
    return list(
        Clarification.objects.filter(request=item)
        .select_related("asked_by", "answered_by")
        .order_by("asked_at", "id")
    )


def clarification_state(item: DeputyRequest, events: list[AuditEvent]) -> bool:
    """Whether the item ever had a clarification question, from its history (``events``,
    already loaded by the page); remembers on the item whether one is open now, so
    ``services.available_actions`` needs no query for it."""
    asked = sum(1 for e in events if e.action == "clarify")
    ended = sum(1 for e in events if e.action in ("answer_clarification", "clarification_closed"))
    item._has_open_clarification = asked > ended  # type: ignore[attr-defined]
    return asked > 0


def reroute_summary(events: list[AuditEvent]) -> dict[str, Any] | None:
    """The latest re-routing by staff among the item's history ``events`` — when, from which
    department, the deadline policy and the reason (shown to everyone who sees the item) —
    or ``None``."""
    event = next((e for e in reversed(events) if e.action == "reroute"), None)
    if event is None:
        return None
    changes = event.changes if isinstance(event.changes, dict) else {}
    moved = changes.get("lead_department") or [None, None]
    former = Department.objects.filter(code=moved[0]).first() if moved[0] else None
    return {
        "at": event.created_at,
        "from": former.name if former is not None else (moved[0] or ""),
        "deadline": changes.get("deadline", ""),
        "reason": event.comment,
    }


# --- Search --------------------------------------------------------------------------

NUMBER_PATTERN = re.compile(r"^\s*DZ-\d{4}-\d{1,6}\s*$", re.IGNORECASE)
MAX_SEARCH_LENGTH = 200


#: What search reads, by audience (``docs/search.md``): the participants' document, and for
#: everyone else what the request's page shows them — the published document, and for a
#: signed-in reader the address too (the public never sees an address).
PARTICIPANTS_TEXT = ("search_document",)
READER_TEXT = ("published_document", "address")
PUBLIC_TEXT = ("published_document",)


#: Columns stored lower-cased (``services.search_documents``); the address is as typed.
LOWER_CASED = frozenset({"search_document", "published_document"})


def _any(conditions: list[Q]) -> Q:
    """Any of ``conditions``; none at all matches nothing."""
    return functools.reduce(operator.or_, conditions, Q(pk__in=[]))


def _contains(columns: tuple[str, ...], needle: str) -> Q:
    """``needle`` (lower-cased) occurs in one of ``columns``."""
    return _any(
        [
            Q(**{f"{column}__{'contains' if column in LOWER_CASED else 'icontains'}": needle})
            for column in columns
        ]
    )


#: The stored word vector (migration ``0013``, PostgreSQL) of each column set search reads.
VECTORS = {
    PARTICIPANTS_TEXT: "search_vector",
    READER_TEXT: "reader_vector",
    PUBLIC_TEXT: "published_vector",
}


#: How a text becomes a query: web-search syntax (the lists' search box), a phrase (an
#: address: its words in order) and the query syntax (prefixes of words, ``'word':*``).
QUERY_PARSERS = frozenset({"websearch_to_tsquery", "phraseto_tsquery", "to_tsquery"})


class StoredVector(Expression):
    """``<vector> @@ <parse>('russian', text)`` on the row's stored vector.

    The vectors are columns kept by a trigger, not fields of the model: the expression
    names the column beside the row's primary key, so it follows the table's alias.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(
        self, column: str, text: str, parse: str = "websearch_to_tsquery", pk: Any = None
    ) -> None:
        super().__init__()
        if parse not in QUERY_PARSERS:
            raise ValueError(parse)
        self.column = column
        self.text = text
        self.parse = parse
        self.pk = F("pk") if pk is None else pk

    def get_source_expressions(self) -> list[Any]:
        return [self.pk]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.pk,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        pk_sql, pk_params = compiler.compile(self.pk)
        table = pk_sql.rsplit(".", 1)[0]
        column = connection.ops.quote_name(self.column)
        sql = f"{table}.{column} @@ {self.parse}('russian'::regconfig, %s)"
        return sql, (*pk_params, self.text)


#: A query term (text, parse) of ``StoredVector``.
Term = tuple[str, str]

#: A term the planner expects in at least this share of the requests is common: a list
#: searched for it walks its order (newest first) and checks the term on each row — a page
#: of matches is found after a few dozen rows whatever the table's size. A rarer term is
#: read from the GIN indexes first (its few rows, then sorted). The planner's floor for a
#: word it has no statistics of is 0.5 % of the rows: below this share.
COMMON_SHARE = 0.02

#: The limit that keeps the subquery of a rare term's requests from being merged into the
#: list's query (PostgreSQL does not pull up a subquery with a LIMIT): larger than any table.
SEARCH_FENCE = 2**62


def _vector_match(columns: tuple[str, ...], terms: list[Term]) -> Q:
    """Any of ``terms`` in the stored vector of ``columns`` (PostgreSQL)."""
    return _any([Q(StoredVector(VECTORS[columns], text, parse)) for text, parse in terms])


def _read_by(actor: Actor) -> list[tuple[str, ...]]:
    """The column sets ``_by_audience`` reads for ``actor``."""
    if actor.sees_everything:
        return [PARTICIPANTS_TEXT]
    if actor.is_anonymous:
        return [PUBLIC_TEXT]
    return [PARTICIPANTS_TEXT, READER_TEXT]


def _common(column: str, terms: list[Term]) -> bool:
    """Whether the planner expects one of ``terms`` in ``COMMON_SHARE`` of the requests.

    One ``EXPLAIN`` (statistics only, no row is read) of the table and of each term alone
    in ``column``: the table's size and each term's estimated rows.
    """
    table = connection.ops.quote_name(DeputyRequest._meta.db_table)
    vector = connection.ops.quote_name(column)
    parts = [f"(SELECT 1 FROM {table})"] + [
        f"(SELECT 1 FROM {table} WHERE {vector} @@ {parse}('russian'::regconfig, %s))"
        for _text, parse in terms
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (FORMAT JSON) " + " UNION ALL ".join(parts), [text for text, _p in terms]
        )
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    rows = [int(child["Plan Rows"]) for child in plan[0]["Plan"].get("Plans", [])]
    if len(rows) < 2:
        return False
    return max(rows[1:]) >= COMMON_SHARE * rows[0]


def _narrowed(actor: Actor, terms: list[Term], condition: Q) -> Q:
    """``condition`` (the terms by audience), for rare terms first narrowed to the requests
    any of them matches in any text ``actor`` reads — a subquery the GIN indexes answer
    once. The narrowing only ever keeps more rows than ``condition``: who finds what is
    ``condition``'s alone."""
    columns = _read_by(actor)
    if _common(VECTORS[columns[0]], terms):
        return condition
    candidates = (
        DeputyRequest.objects.filter(_any([_vector_match(each, terms) for each in columns]))
        .order_by()
        .values("pk")
    )
    return Q(pk__in=candidates[:SEARCH_FENCE]) & condition


def _words_match(columns: tuple[str, ...], text: str) -> Q:
    """``text`` found in ``columns`` taken together.

    PostgreSQL: the Russian text-search configuration (stemming: «дорога» finds
    «дороги»), web-search syntax, over the columns' stored vector (migration ``0013``),
    never a parse of a row's document. SQLite: every word occurs in one of the columns.
    """
    if connection.vendor == "postgresql":
        return _vector_match(columns, [(text, "websearch_to_tsquery")])
    condition = Q()
    for word in text.split()[:10]:
        condition &= _contains(columns, word.lower())
    return condition


def _by_audience(actor: Actor, match: Callable[[tuple[str, ...]], Q]) -> Q:
    """``match(columns)`` over what ``actor`` may read of each row.

    Rows whose correspondence the actor reads match on the participants' document;
    every other row only on what its page shows the actor.
    """
    if actor.sees_everything:
        return match(PARTICIPANTS_TEXT)
    outside = match(PUBLIC_TEXT if actor.is_anonymous else READER_TEXT)
    if actor.is_anonymous:
        return outside
    return (deputy_request_correspondence_readable(actor) & match(PARTICIPANTS_TEXT)) | outside


def search_requests(
    qs: QuerySet[DeputyRequest], text: str, *, actor: Actor
) -> QuerySet[DeputyRequest]:
    """The requests of ``qs`` whose text that ``actor`` may read matches ``text``.

    Search sees what its caller may read (``docs/search.md``): the thread, the file
    names and answers not yet public match only for the request's participants; anyone
    else matches what the request's page shows them. A registration number matches
    exactly.
    """
    text = (text or "").strip()[:MAX_SEARCH_LENGTH]
    if not text:
        return qs
    if NUMBER_PATTERN.match(text):
        # Numbers are given in capitals (``services._next_number``): an exact match on the
        # capitalised text is one look-up in the number's unique index.
        return qs.filter(number=text.upper())
    condition = _by_audience(actor, lambda columns: _words_match(columns, text))
    if connection.vendor == "postgresql":
        condition = _narrowed(actor, [(text, "websearch_to_tsquery")], condition)
    return qs.filter(condition)


def _similar_terms(address: str, needles: list[str]) -> list[Term]:
    """The terms of "similar requests" (PostgreSQL): the address, its words in order, and
    each needle as the beginning of a word of the stored vector (its stem: «освещени»
    finds «освещение»)."""
    # Needles are word characters only (``\w``): quoted, none can break the syntax.
    terms = [(address, "phraseto_tsquery")] if address else []
    return terms + [(f"'{needle}':*", "to_tsquery") for needle in needles]


def _similar_text(columns: tuple[str, ...], text: str) -> Q:
    """``text`` (an address) occurs in ``columns`` (PostgreSQL: its words in order)."""
    if connection.vendor == "postgresql":
        return _vector_match(columns, _similar_terms(text, []))
    return _contains(columns, text)


def _similar_words(columns: tuple[str, ...], needles: list[str]) -> Q:
    """Any of ``needles`` (beginnings of words) occurs in ``columns`` (PostgreSQL: as the
    beginning of a word, elsewhere anywhere in the text)."""
    if connection.vendor == "postgresql":
        return _vector_match(columns, _similar_terms("", needles))
    return _any([_contains(columns, needle) for needle in needles])


def similar_requests(
    *,
    actor: Actor,
    title: str = "",
    address: str = "",
    district_id: int | None = None,
    exclude_pk: int | None = None,
    limit: int = 5,
) -> list[DeputyRequest]:
    """Earlier requests that may be about the same problem, with their answers.

    Same address first, then the same district with shared words in the title.
    Only requests the actor may see, and never drafts.
    """
    base = deputy_request_visible(actor).exclude(status=RequestStatus.DRAFT)
    if exclude_pk:
        base = base.exclude(pk=exclude_pk)
    words = re.findall(r"\w{4,}", title.lower())[:6]
    needles = [word[:-1] if len(word) > 5 else word for word in words]
    address = address.strip()[:100].lower()
    if not (address or needles):
        return []

    def match(columns: tuple[str, ...]) -> Q:
        conditions = [_similar_text(columns, address)] if address else []
        if needles:
            title_match = _similar_words(columns, needles)
            conditions.append(
                Q(district_id=district_id) & title_match if district_id else title_match
            )
        return _any(conditions)

    condition = _by_audience(actor, match)
    if connection.vendor == "postgresql":
        condition = _narrowed(actor, _similar_terms(address, needles), condition)
    sent = Response.objects.filter(status=ResponseStatus.SENT).order_by("-sent_at")
    return list(
        base.filter(condition)
        .select_related("category", "district", "lead_department")
        .prefetch_related(
            "co_authors",
            "co_departments",
            Prefetch("responses", queryset=sent, to_attr="sent_responses"),
        )
        .order_by("-submitted_at")[:limit]
    )
