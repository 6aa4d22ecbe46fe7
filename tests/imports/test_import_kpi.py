"""Imported past records count in the KPI only with ``KPI_COUNT_IMPORTED``; they count in
search and the public portal either way."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from imports.models import ImportKind
from imports.services import import_path
from kpi import aggregates
from tests.factories import DemoDirectory
from tests.imports.helpers import request_row, write_csv
from tests.requests_helpers import category

pytestmark = pytest.mark.django_db

SPAN = aggregates.Span(
    start=datetime.date(2024, 1, 1),
    end=datetime.date(2024, 12, 31),
    as_of=datetime.date(2025, 1, 1),
)


@pytest.fixture
def imported(directory: DemoDirectory, tmp_path: Path, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    category()
    author = directory.alice.user.full_name
    rows = [
        request_row("Д-1", author=author, co_authors=directory.bob.user.full_name),
        request_row("Д-2", author=author, rating="2"),
    ]
    path = write_csv(tmp_path / "past.csv", ImportKind.REQUESTS, rows)
    outcome = import_path(path, kind=ImportKind.REQUESTS, by=directory.staff)
    assert outcome.batch is not None and outcome.batch.created_count == 2


def test_the_kpi_leaves_imported_requests_out_by_default(
    directory: DemoDirectory, imported: None
) -> None:
    assert directory.alice.pk not in aggregates.deputy_request_counts(SPAN)
    assert directory.bob.pk not in aggregates.deputy_coauthored_counts(SPAN)
    assert directory.finance.pk not in aggregates.department_rating_counts(SPAN)
    assert directory.finance.pk not in aggregates.department_request_counts(SPAN)
    assert directory.finance.pk not in aggregates.department_rework_counts(SPAN)


def test_with_the_setting_the_kpi_counts_imported_requests(
    directory: DemoDirectory, imported: None, settings: Any
) -> None:
    settings.KPI_COUNT_IMPORTED = True

    assert aggregates.deputy_request_counts(SPAN)[directory.alice.pk]["requests_filed"] == 2
    assert aggregates.deputy_coauthored_counts(SPAN)[directory.bob.pk] == 1
    ratings = aggregates.department_rating_counts(SPAN)[directory.finance.pk]
    assert ratings["ratings_n"] == 2 and ratings["ratings_sum"] == 7
    assert aggregates.department_rework_counts(SPAN)[directory.finance.pk]["final_answers"] == 2


def test_imported_public_requests_are_on_the_public_portal_and_found_by_search(
    directory: DemoDirectory, imported: None
) -> None:
    public = Client(HTTP_ACCEPT_LANGUAGE="en")

    page = public.get("/public/requests/", {"search": "Д-1"})

    assert page.status_code == 200
    assert "Ремонт дороги Д-1" in page.content.decode()


def test_imported_requests_appear_among_similar_earlier_requests(
    directory: DemoDirectory, imported: None
) -> None:
    from maslikhat.directory.actors import actor_for
    from requests_app.selectors import similar_requests

    found = similar_requests(actor=actor_for(directory.alice.user), title="Ремонт дороги у школы")

    assert {item.number for item in found} == {"Д-1", "Д-2"}
    assert all(getattr(item, "sent_responses", None) for item in found)  # with their answers
