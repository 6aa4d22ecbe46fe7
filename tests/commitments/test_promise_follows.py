"""Followers learn the outcome of a published request's promise in their daily digest — the
outcome and the date only, and never of a request the public cannot see."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone, translation

from commitments import services
from commitments.models import Commitment
from follows import services as follow_services
from follows.models import Follow, FollowEmail, TargetKind
from follows.selectors import day_changes
from requests_app import services as request_services
from tests.commitments.helpers import make_commitment
from tests.factories import DemoDirectory, DistrictFactory

pytestmark = pytest.mark.django_db

REPORT = "Отремонтировано силами подрядчика Секрет-Строй"
COMMENT = "Приёмку подписал лично"


def closed_promise(directory: DemoDirectory, *, public: bool, **kwargs: Any) -> Commitment:
    """A promise of a closed request (the author accepted the planned answer)."""
    commitment = make_commitment(directory, is_public=public, **kwargs)
    request_services.deputy_request_evaluate(
        pk=commitment.request_id, by=directory.alice.user, decision="accept", rating=4
    )
    return commitment


def follow(kind: str, target_id: int, email: str, language: str = "en") -> Follow:
    return Follow.objects.create(
        email=email,
        target_kind=kind,
        target_id=target_id,
        language=language,
        confirmed_at=timezone.now() - datetime.timedelta(hours=1),
    )


def keep(directory: DemoDirectory, commitment: Commitment) -> None:
    services.commitment_report(pk=commitment.pk, by=directory.finance_exec, text=REPORT)
    services.commitment_confirm(pk=commitment.pk, by=directory.alice.user, comment=COMMENT)


def digest_of(email: str) -> str:
    return FollowEmail.objects.get(email=email, kind="digest").body


def test_followers_of_the_request_department_and_district_learn_it_was_kept(
    directory: DemoDirectory,
) -> None:
    district = DistrictFactory.create(code="medeu", name_ru="Медеуский", name_en="Medeu")
    published = closed_promise(directory, public=True, district=district)
    follow(TargetKind.REQUEST, published.request_id, "request@example.org")
    follow(TargetKind.DEPARTMENT, directory.finance.pk, "department@example.org")
    follow(TargetKind.DISTRICT, district.pk, "district@example.org")
    keep(directory, published)

    follow_services.follow_digests_create(day=timezone.localdate())
    for email in ("request@example.org", "department@example.org", "district@example.org"):
        body = digest_of(email)
        assert "the promised work was done" in body
        assert str(published.request.number) in body
        # Only what the public pages show: no report, no comment, no names of the officers.
        assert REPORT not in body
        assert COMMENT not in body
        assert directory.finance_exec.last_name not in body


def test_an_unpublished_requests_promise_reaches_no_follower(directory: DemoDirectory) -> None:
    private = closed_promise(directory, public=False)
    follow(TargetKind.DEPARTMENT, directory.finance.pk, "department@example.org")
    keep(directory, private)

    result = follow_services.follow_digests_create(day=timezone.localdate())
    assert result.created == 0
    assert not FollowEmail.objects.filter(kind="digest").exists()


def test_a_promise_of_an_answer_not_yet_public_is_not_told(directory: DemoDirectory) -> None:
    # Published, but answered only: the final answer (the promise) is public once closed.
    answered = make_commitment(directory, is_public=True)
    watcher = follow(TargetKind.REQUEST, answered.request_id, "request@example.org")
    services.commitment_reschedule(
        pk=answered.pk,
        by=directory.finance_head,
        new_due_date=answered.due_date + datetime.timedelta(days=10),
        reason="Нет подрядчика.",
    )
    changes = day_changes(watcher, timezone.localdate())
    assert [c.event for c in changes.changes] == ["published", "answered"]


def test_broken_and_moved_promises_are_told_with_the_new_date(directory: DemoDirectory) -> None:
    broken = closed_promise(directory, public=True)
    moved = closed_promise(directory, public=True)
    follow(TargetKind.DEPARTMENT, directory.finance.pk, "department@example.org")
    services.commitment_report(pk=broken.pk, by=directory.finance_exec, text=REPORT)
    services.commitment_dispute(pk=broken.pk, by=directory.alice.user, comment=COMMENT)
    services.commitment_resolve(pk=broken.pk, by=directory.staff, kept=False)
    new_date = moved.due_date + datetime.timedelta(days=20)
    services.commitment_reschedule(
        pk=moved.pk, by=directory.finance_head, new_due_date=new_date, reason="Зима."
    )

    watcher = Follow.objects.get(email="department@example.org")
    events = {(c.request.pk, c.event) for c in day_changes(watcher, timezone.localdate()).changes}
    assert (broken.request_id, "promise_broken") in events
    assert (moved.request_id, "promise_rescheduled") in events
    follow_services.follow_digests_create(day=timezone.localdate())
    body = digest_of("department@example.org")
    assert "the promise was not kept" in body
    assert f"the promised date was changed to {new_date:%d.%m.%Y}" in body
    # Yesterday's digest knows nothing of today's outcomes.
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    with translation.override("en"):
        assert not [
            c for c in day_changes(watcher, yesterday).changes if c.event.startswith("promise_")
        ]
