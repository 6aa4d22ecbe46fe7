"""Requests in bulk for the dashboard, summary, export and public-portal tests.

``bulk_requests`` inserts registered requests in every state with ``bulk_create`` (states
and dates set directly, not through the services): fast enough for 1,000 rows, and the
reports only read. Rows vary deterministically by index: author, department, district,
category, published or not, overdue or not, answered on time or late.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from maslikhat.directory.models import Category, District
from requests_app.models import (
    DeputyRequest,
    Outcome,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)
from tests.factories import CategoryFactory, DemoDirectory, DistrictFactory

S = RequestStatus
STATES = (S.SUBMITTED, S.IN_PROGRESS, S.ANSWERED, S.CLOSED, S.DECLINED, S.WITHDRAWN)
_numbers = itertools.count(1)


@dataclass
class Places:
    districts: list[District]
    categories: list[Category]


def places() -> Places:
    return Places(
        districts=[
            DistrictFactory.create(code="almaly", name_ru="Алмалинский", name_en="Almaly"),
            DistrictFactory.create(code="medeu", name_ru="Медеуский", name_en="Medeu"),
        ],
        categories=[
            CategoryFactory.create(code="roads", name_ru="Дороги", name_en="Roads"),
            CategoryFactory.create(code="schools", name_ru="Школы", name_en="Schools"),
            CategoryFactory.create(code="parks", name_ru="Парки", name_en="Parks"),
        ],
    )


def bulk_requests(
    directory: DemoDirectory,
    how_many: int,
    where: Places,
    *,
    title: str = "Запрос",
    public_every: int = 3,
    drafts: int = 0,
    with_answers: bool = False,
    states: Sequence[str] = STATES,
) -> list[DeputyRequest]:
    """``how_many`` registered requests (plus ``drafts``), inserted in bulk."""
    now = timezone.now()
    today = timezone.localdate()
    rows = []
    for i in range(how_many + drafts):
        draft = i >= how_many
        status = S.DRAFT if draft else states[i % len(states)]
        routed = status in (S.IN_PROGRESS, S.ANSWERED, S.CLOSED)
        answered = status in (S.ANSWERED, S.CLOSED)
        submitted = now - datetime.timedelta(days=(i * 7) % 200, hours=i % 24)
        routed_at = submitted + datetime.timedelta(days=1) if routed else None
        due = today + datetime.timedelta(days=i % 30 - 12) if routed else None
        answered_at = (
            routed_at + datetime.timedelta(days=(i % 17) + 1) if answered and routed_at else None
        )
        rows.append(
            DeputyRequest(
                number=None if draft else f"DZ-2026-{next(_numbers):05d}",
                convocation=directory.convocation,
                author=directory.alice if i % 2 else directory.bob,
                title=f"{title} {i}",
                body=f"Текст запроса номер {i}",
                category=where.categories[i % len(where.categories)],
                district=where.districts[i % len(where.districts)] if i % 5 else None,
                status=status,
                is_public=i % public_every == 0,
                lead_department=(directory.finance if i % 4 < 2 else directory.mobility)
                if routed
                else None,
                executor=(directory.finance_exec if i % 4 < 2 else directory.mobility_exec)
                if routed and i % 3
                else None,
                submitted_at=None if draft else submitted,
                routed_at=routed_at,
                due_date=due,
                original_due_date=due,
                answered_at=answered_at,
                closed_at=answered_at + datetime.timedelta(days=2)
                if status == S.CLOSED and answered_at
                else None,
                outcome=(Outcome.RESOLVED if i % 2 else Outcome.EXPLAINED) if answered else None,
                rating=4 if status == S.CLOSED else None,
                search_document=f"{title} {i} Текст запроса номер {i}",
            )
        )
    created = DeputyRequest.objects.bulk_create(rows)
    if with_answers:
        answers = [
            Response(
                request=item,
                department=item.lead_department,
                kind=ResponseKind.FINAL,
                text=f"Ответ управления на запрос {item.title}",
                outcome=item.outcome,
                status=ResponseStatus.SENT,
                drafted_by=directory.finance_exec,
                approved_by=directory.finance_head,
                sent_at=item.answered_at,
            )
            for item in created
            if item.answered_at is not None and item.lead_department is not None
        ]
        Response.objects.bulk_create(answers)
    return created
