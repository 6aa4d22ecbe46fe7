"""Every step of a promise tells the right people — and only them — in their language."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone, translation

from commitments import services
from commitments.models import Commitment
from maslikhat.core.notifications import Notification, NotificationKind
from tests.commitments.helpers import make_commitment
from tests.factories import DemoDirectory

pytestmark = pytest.mark.django_db

K = NotificationKind
PROMISE_KINDS = [
    K.PROMISE_REPORTED,
    K.PROMISE_CONFIRMED,
    K.PROMISE_DISPUTED,
    K.PROMISE_KEPT,
    K.PROMISE_BROKEN,
    K.PROMISE_RESCHEDULED,
]


def told(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


@pytest.fixture
def promise(directory: DemoDirectory) -> Commitment:
    # Bob co-authors Alice's request: both hear of the department's steps.
    return make_commitment(directory, co_authors=[directory.bob])


def names(*users: object) -> set[str]:
    return {u.username for u in users}  # type: ignore[attr-defined]


def test_a_report_asks_the_author_and_co_authors_whether_it_was_done(
    directory: DemoDirectory, promise: Commitment
) -> None:
    services.commitment_report(pk=promise.pk, by=directory.finance_exec, text="Сделано.")

    assert told(K.PROMISE_REPORTED) == names(directory.alice.user, directory.bob.user)
    note = Notification.objects.get(kind=K.PROMISE_REPORTED, user=directory.alice.user)
    assert note.link == f"/requests/{promise.request_id}/"
    assert note.send_email is (bool(directory.alice.user.email))
    with translation.override("en"):
        assert "Was it done?" in note.display_text
        assert str(promise.request.number) in note.display_text
    # Nobody else: not the department that reported, not staff.
    assert set(
        Notification.objects.filter(kind__in=PROMISE_KINDS).values_list("user__username", flat=True)
    ) == names(directory.alice.user, directory.bob.user)


def test_a_confirmation_tells_the_department(directory: DemoDirectory, promise: Commitment) -> None:
    services.commitment_report(pk=promise.pk, by=directory.finance_exec, text="Сделано.")
    services.commitment_confirm(pk=promise.pk, by=directory.alice.user)

    assert told(K.PROMISE_CONFIRMED) == names(directory.finance_head, directory.finance_exec)


def test_a_dispute_tells_the_department_and_staff_and_the_resolution_tells_both_sides(
    directory: DemoDirectory, promise: Commitment
) -> None:
    services.commitment_report(pk=promise.pk, by=directory.finance_head, text="Сделано.")
    services.commitment_dispute(pk=promise.pk, by=directory.alice.user, comment="Нет ремонта.")
    assert told(K.PROMISE_DISPUTED) == names(
        directory.finance_head, directory.finance_exec, directory.staff
    )

    services.commitment_resolve(pk=promise.pk, by=directory.staff, kept=False)
    assert told(K.PROMISE_BROKEN) == names(
        directory.alice.user, directory.bob.user, directory.finance_head, directory.finance_exec
    )
    assert told(K.PROMISE_KEPT) == set()
    note = Notification.objects.get(kind=K.PROMISE_BROKEN, user=directory.bob.user)
    with translation.override("en"):
        assert "was broken" in note.display_text
    # The other department never hears of it.
    assert not Notification.objects.filter(
        user__in=[directory.mobility_head, directory.mobility_exec], kind__in=PROMISE_KINDS
    ).exists()


def test_a_dispute_resolved_as_kept_says_so(directory: DemoDirectory, promise: Commitment) -> None:
    services.commitment_report(pk=promise.pk, by=directory.finance_exec, text="Сделано.")
    services.commitment_dispute(pk=promise.pk, by=directory.alice.user, comment="Нет.")
    services.commitment_resolve(pk=promise.pk, by=directory.staff, kept=True)
    assert directory.alice.user.username in told(K.PROMISE_KEPT)
    assert told(K.PROMISE_BROKEN) == set()


def test_a_new_date_tells_the_author_the_date_in_their_language(
    directory: DemoDirectory, promise: Commitment
) -> None:
    new_date = timezone.localdate() + datetime.timedelta(days=100)
    services.commitment_reschedule(
        pk=promise.pk, by=directory.finance_head, new_due_date=new_date, reason="Нет подрядчика."
    )
    assert told(K.PROMISE_RESCHEDULED) == names(directory.alice.user, directory.bob.user)
    note = Notification.objects.get(kind=K.PROMISE_RESCHEDULED, user=directory.alice.user)
    assert note.params["due"] == new_date.strftime("%d.%m.%Y")
    with translation.override("en"):
        assert f"to {new_date:%d.%m.%Y}" in note.display_text
