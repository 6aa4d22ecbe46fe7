"""The promises awaiting a deputy's verdict on the deputy dashboard
(``commitments.selectors.commitments_awaiting_verdict``): reported, without a verdict, still
to be kept (open or rescheduled), of requests the deputy authored — not those they only
co-author, not another deputy's — the longest waiting first, in two queries whatever the
number of promises."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments.models import Commitment
from commitments.selectors import commitments_awaiting_verdict
from maslikhat.directory.actors import actor_for
from reports.promise_dashboards import deputy_promises
from requests_app.selectors import CoAuthor
from tests.factories import DemoDirectory
from tests.reports.promise_data import dispute, keep, promised, report, reschedule

pytestmark = pytest.mark.django_db


def test_only_the_authors_reported_promises_without_a_verdict_await_it(
    directory: DemoDirectory,
) -> None:
    alice, bob = directory.alice, directory.bob
    finance = directory.finance
    waiting = report(directory, promised(directory, lead=finance, author=alice))
    rescheduled = report(
        directory, reschedule(directory, promised(directory, lead=finance, author=alice))
    )
    # Not awaiting: not reported yet, kept, disputed (a verdict), bob's reported one even
    # though alice co-authors it.
    promised(directory, lead=finance, author=alice)
    keep(directory, promised(directory, lead=finance, author=alice))
    dispute(directory, promised(directory, lead=finance, author=alice))
    bobs = report(directory, promised(directory, lead=finance, author=bob))
    CoAuthor.objects.create(deputyrequest_id=bobs.request_id, deputy_id=alice.pk)
    # The longest waiting first.
    Commitment.objects.filter(pk=rescheduled.pk).update(
        reported_at=timezone.now() - datetime.timedelta(days=3)
    )
    mine = commitments_awaiting_verdict(actor_for(alice.user))
    assert [c.pk for c in mine] == [rescheduled.pk, waiting.pk]
    assert [c.pk for c in commitments_awaiting_verdict(actor_for(bob.user))] == [bobs.pk]
    assert not commitments_awaiting_verdict(actor_for(directory.staff)).exists()
    with CaptureQueriesContext(connection) as captured:
        figures = deputy_promises(actor_for(alice.user))
    assert figures["awaiting_count"] == 2
    assert [c.pk for c in figures["awaiting"]] == [rescheduled.pk, waiting.pk]
    assert len(captured.captured_queries) == 2
