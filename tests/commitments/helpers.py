"""Promises reached through the services: a planned final answer approved by the head."""

from __future__ import annotations

import datetime

from django.utils import timezone

from commitments.models import Commitment
from requests_app import services
from requests_app.models import DeputyRequest, Outcome, RequestStatus
from tests.factories import DemoDirectory
from tests.requests_helpers import draft_answer, lead_officers, make_request, refresh


def planned_request(
    directory: DemoDirectory, *, planned: datetime.date | None = None, **kwargs: object
) -> DeputyRequest:
    """A request in work whose lead department answers "planned" for ``planned``."""
    item = make_request(directory, status=RequestStatus.IN_PROGRESS, **kwargs)  # type: ignore[arg-type]
    response = draft_answer(
        directory,
        item,
        outcome=Outcome.PLANNED,
        text="Ремонт включён в план на 2027 год.",
        planned_date=planned or timezone.localdate() + datetime.timedelta(days=90),
    )
    head, _executor = lead_officers(directory, refresh(item))
    services.deputy_request_response_approve(pk=item.pk, response_id=response.pk, by=head)
    return refresh(item)


def make_commitment(
    directory: DemoDirectory, *, planned: datetime.date | None = None, **kwargs: object
) -> Commitment:
    item = planned_request(directory, planned=planned, **kwargs)
    return Commitment.objects.get(request=item)
