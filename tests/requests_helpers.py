"""Deputy requests in every state, reached through the services (never by setting fields).

``make_request(directory, status=...)`` files a request as a deputy and drives it
with the personas of ``tests.factories.make_directory`` through the same service
functions the API and the pages call:

- ``draft``: alice files it;
- ``submitted``: alice submits it (a registration number is given);
- ``in_progress``: staff route it to finance (co-executors optional);
- ``answered``: finance-exec drafts a final answer, finance-head approves it;
- ``closed``: alice accepts the answer with a rating of 4;
- ``declined``: staff decline the submitted request;
- ``withdrawn``: alice withdraws the submitted request.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from maslikhat.accounts.models import User
from maslikhat.directory.models import Category, Department, Deputy, District
from requests_app import services
from requests_app.models import DeputyRequest, Outcome, RequestStatus, Response, ResponseKind
from tests.factories import CategoryFactory, DemoDirectory

S = RequestStatus

#: Every state, in lifecycle order.
ALL_STATUSES: tuple[str, ...] = tuple(RequestStatus.values)

#: A real (tiny) PDF document: accepted by the content check.
PDF_BYTES = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def pdf_upload(name: str = "answer.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def category(code: str = "roads", **kwargs: Any) -> Category:
    """A category that is never auto-routed (staff route by hand in these tests)."""
    kwargs.setdefault("name_ru", "Дороги")
    kwargs.setdefault("auto_route", False)
    return CategoryFactory.create(code=code, **kwargs)


def create_draft(
    directory: DemoDirectory,
    *,
    author: Deputy | None = None,
    title: str = "Ремонт дороги на улице Абая",
    body: str = "Жители просят отремонтировать проезжую часть.",
    proposed_solution: str = "Включить ремонт в план 2027 года.",
    category_obj: Category | None = None,
    district: District | None = None,
    address: str = "",
    is_public: bool = False,
    co_authors: Iterable[Deputy] = (),
) -> DeputyRequest:
    author = author or directory.alice
    return services.deputy_request_create(
        by=author.user,
        title=title,
        body=body,
        proposed_solution=proposed_solution,
        category=category_obj or category(),
        district=district,
        address=address,
        is_public=is_public,
        co_authors=co_authors,
    )


def make_request(
    directory: DemoDirectory,
    *,
    status: str = S.DRAFT,
    author: Deputy | None = None,
    lead: Department | None = None,
    co_departments: Sequence[Department] = (),
    outcome: str = Outcome.RESOLVED,
    **draft_fields: Any,
) -> DeputyRequest:
    """A request in ``status``, reached by the services (see the module docstring)."""
    if status not in ALL_STATUSES:
        raise ValueError(f"unknown status {status!r}")
    author = author or directory.alice
    by_author: User = author.user
    item = create_draft(directory, author=author, **draft_fields)
    if status == S.DRAFT:
        return refresh(item)
    services.deputy_request_submit(pk=item.pk, by=by_author)
    if status == S.SUBMITTED:
        return refresh(item)
    if status == S.DECLINED:
        services.deputy_request_decline(
            pk=item.pk, by=directory.staff, reason="Не относится к компетенции маслихата."
        )
        return refresh(item)
    if status == S.WITHDRAWN:
        services.deputy_request_withdraw(pk=item.pk, by=by_author, reason="Вопрос решён.")
        return refresh(item)
    route(directory, item, lead=lead, co_departments=co_departments)
    if status == S.IN_PROGRESS:
        return refresh(item)
    answer(directory, item, outcome=outcome)
    if status == S.ANSWERED:
        return refresh(item)
    services.deputy_request_evaluate(pk=item.pk, by=by_author, decision="accept", rating=4)
    return refresh(item)


def refresh(item: DeputyRequest) -> DeputyRequest:
    return DeputyRequest.objects.get(pk=item.pk)


def route(
    directory: DemoDirectory,
    item: DeputyRequest,
    *,
    lead: Department | None = None,
    co_departments: Sequence[Department] = (),
) -> DeputyRequest:
    return services.deputy_request_route(
        pk=item.pk,
        by=directory.staff,
        lead_department=lead or directory.finance,
        co_departments=co_departments,
    )


def lead_officers(directory: DemoDirectory, item: DeputyRequest) -> tuple[User, User]:
    """(head, executor) of the item's lead department."""
    if item.lead_department_id == directory.mobility.pk:
        return directory.mobility_head, directory.mobility_exec
    return directory.finance_head, directory.finance_exec


def draft_answer(
    directory: DemoDirectory,
    item: DeputyRequest,
    *,
    kind: str = ResponseKind.FINAL,
    outcome: str | None = Outcome.RESOLVED,
    text: str = "Ремонт выполнен в октябре.",
    planned_date: datetime.date | None = None,
) -> Response:
    """The lead department's executor drafts an answer (in_progress only)."""
    _head, executor = lead_officers(directory, refresh(item))
    return services.deputy_request_respond(
        pk=item.pk,
        by=executor,
        kind=kind,
        text=text,
        outcome=outcome if kind == ResponseKind.FINAL else None,
        planned_date=planned_date,
    )


def answer(
    directory: DemoDirectory, item: DeputyRequest, *, outcome: str = Outcome.RESOLVED
) -> DeputyRequest:
    """Draft a final answer and have the head approve it: the request becomes answered."""
    response = draft_answer(directory, item, outcome=outcome)
    head, _executor = lead_officers(directory, refresh(item))
    return services.deputy_request_response_approve(pk=item.pk, response_id=response.pk, by=head)
