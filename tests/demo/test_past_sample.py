"""The sample of past records the README imports: deterministic, and it imports whole."""

from __future__ import annotations

from typing import Any

import pytest

from demo.directory import seed_directory
from demo.past_sample import SAMPLE, sample_text
from imports.models import ImportKind
from imports.services import import_path
from requests_app.models import DeputyRequest, RequestStatus


def test_the_shipped_sample_is_what_the_generator_writes() -> None:
    assert SAMPLE.read_text(encoding="utf-8-sig") == sample_text(), (
        "regenerate: manage.py shell -c 'from demo.past_sample import write_sample; write_sample()'"
    )
    assert sample_text().count("\n") == 301  # the header and 300 requests


@pytest.mark.django_db
def test_the_sample_imports_into_the_demo_directory_whole(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    directory = seed_directory()
    staff = directory.users["staff"]

    outcome = import_path(SAMPLE, kind=ImportKind.REQUESTS, by=staff)

    check = outcome.check
    assert check.ok, (check.missing, check.issues[:5], list(check.unknown)[:5])
    assert outcome.batch is not None and outcome.batch.created_count == 300
    closed = DeputyRequest.objects.filter(status=RequestStatus.CLOSED)
    assert closed.count() > 200
    assert all(item.lead_department_id and item.answered_at for item in closed[:50])
