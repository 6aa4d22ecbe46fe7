"""The promises of the answers written in bulk (``seed_demo --scale N``), set-based.

The bulk year (``demo.request_bulk``) writes its answers without the services, so no
signal made their promises: ``commitments_create_missing`` makes them in one sweep, then a
share of them moves on from "open" by a few ``UPDATE`` statements chosen by the promise's
id modulo ``bulk.modulo`` of ``promises.json`` (kept, broken, disputed, reported awaiting
the deputy's verdict, rescheduled), so dashboards at scale show kept and broken shares.
Only promises made at least ``KEEP_AGE`` days before today move on (their report and
verdict fall in the past); rescheduled ones are those whose date passed within the last
``reschedule_window_days``, moved to ``reschedule_to_days`` from today (inside the rule's
limit). The sweep's promises and their ``commitment_created`` events are dated when their
answer was sent. Not written for the later changes: their history events (the bulk year's
histories stop at the answer's promise).
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import connection
from django.db.models import (
    Case,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Mod
from django.utils.translation import gettext as _

from commitments.models import Commitment, CommitmentState, Verdict
from commitments.services import commitments_create_missing
from maslikhat.accounts.models import User
from maslikhat.core.items import ItemType
from maslikhat.core.threads import AuditEvent
from requests_app.models import (
    DeputyRequest,
    Outcome,
    Response,
    ResponseKind,
    ResponseStatus,
)

from .context import DemoContext
from .data import load

_BULK = load("promises")["bulk"]
MODULO = int(_BULK["modulo"])
BULK_SHARES: dict[str, tuple[int, ...]] = {
    fate: tuple(int(r) for r in _BULK[fate])
    for fate in ("kept", "broken", "disputed", "reported", "rescheduled")
}
REPORT_AFTER = dt.timedelta(days=int(_BULK["report_after_days"]))
VERDICT_AFTER = dt.timedelta(days=int(_BULK["verdict_after_days"]))
RESOLVED_AFTER = dt.timedelta(days=int(_BULK["resolved_after_days"]))
RESCHEDULE_WINDOW = dt.timedelta(days=int(_BULK["reschedule_window_days"]))
RESCHEDULE_TO = dt.timedelta(days=int(_BULK["reschedule_to_days"]))
#: A promise this old (days) has room for its report, the verdict and staff's decision.
KEEP_AGE = dt.timedelta(days=45)

BULK_REPORT = "Работы, указанные в ответе, выполнены; акт приёмки подписан."
BULK_DISPUTE = "По словам жителей, работы выполнены не полностью."
BULK_BROKEN = "Проверка показала, что работы не выполнены: обещание не исполнено."


def _after(delta: dt.timedelta) -> ExpressionWrapper:
    return ExpressionWrapper(F("created_at") + delta, output_field=DateTimeField())


def _date_by_answers(*, before: int, events_before: int) -> None:
    """Date the sweep's promises and their ``commitment_created`` events by their answers.

    Two ``UPDATE … FROM`` joins (PostgreSQL and SQLite alike): the planner joins the two
    sets once. A correlated subquery per row was planned as a scan of every answer for each
    promise on a freshly loaded million-request table (hours). On PostgreSQL the new
    promises and events are counted first (``ANALYZE``: without it the planner took the
    hundred thousand events past the last analysed id for one row and grouped every answer
    again for each of them), and the joins are hashed, never looped.
    """
    qn = connection.ops.quote_name
    promises, answers = qn(Commitment._meta.db_table), qn(Response._meta.db_table)
    events = qn(AuditEvent._meta.db_table)
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:
            cursor.execute(f"ANALYZE {promises}, {events}")
            cursor.execute("SET enable_nestloop = off")
        cursor.execute(
            f"UPDATE {promises} SET created_at = answer.sent_at "
            f"FROM {answers} AS answer "
            f"WHERE {promises}.id > %s AND answer.id = {promises}.response_id "
            "AND answer.sent_at IS NOT NULL",
            [before],
        )
        cursor.execute(
            f"UPDATE {events} SET created_at = latest.sent_at "
            f"FROM (SELECT request_id, MAX(sent_at) AS sent_at FROM {answers} "
            "WHERE kind = %s AND status = %s AND outcome = %s AND planned_date IS NOT NULL "
            "AND sent_at IS NOT NULL GROUP BY request_id) AS latest "
            f"WHERE {events}.id > %s AND {events}.item_type = %s AND {events}.action = %s "
            f"AND latest.request_id = {events}.item_id",
            [
                ResponseKind.FINAL.value,
                ResponseStatus.SENT.value,
                Outcome.PLANNED.value,
                events_before,
                ItemType.REQUEST.value,
                "commitment_created",
            ],
        )
        if postgresql:
            cursor.execute("RESET enable_nestloop")


def bulk_promises(context: DemoContext, *, today: dt.date, horizon: dt.datetime) -> str | None:
    """Make the missing promises of bulk answers and move a share on; a summary or None."""
    started = time.perf_counter()
    before = Commitment.objects.aggregate(last=Max("pk"))["last"] or 0
    events_before = AuditEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    made = commitments_create_missing()
    if not made:
        return None
    # The sweep runs today; the promise was made when its answer was sent.
    _date_by_answers(before=before, events_before=events_before)
    directory = context.directory
    by_department = {
        department.pk: code for code, department in directory.reference.departments.items()
    }

    def member(people: dict[str, User]) -> Case:
        return Case(
            *(
                When(department_id=pk, then=Value(people[code].pk))
                for pk, code in sorted(by_department.items())
                if code in people
            ),
            default=Value(None),
            output_field=IntegerField(),
        )

    author = Subquery(
        DeputyRequest.objects.filter(pk=OuterRef("request_id")).values("author__user_id")[:1]
    )
    fresh = Commitment.objects.filter(pk__gt=before, state=CommitmentState.OPEN).alias(
        slot=Mod("id", MODULO)
    )
    old = fresh.filter(created_at__lt=horizon - KEEP_AGE)
    reported = {
        "reported_text": Value(BULK_REPORT),
        "reported_at": _after(REPORT_AFTER),
        "reported_by_id": member(directory.executors),
    }
    verdict = {
        "verdict_at": _after(REPORT_AFTER + VERDICT_AFTER),
        "verdict_by_id": author,
    }
    moved = old.filter(slot__in=BULK_SHARES["kept"]).update(
        **reported, **verdict, verdict=Verdict.CONFIRMED, state=CommitmentState.KEPT
    )
    moved += old.filter(slot__in=BULK_SHARES["broken"]).update(
        **reported,
        **verdict,
        verdict=Verdict.DISPUTED,
        verdict_comment=BULK_DISPUTE,
        state=CommitmentState.BROKEN,
        resolution_comment=BULK_BROKEN,
        resolved_at=_after(REPORT_AFTER + VERDICT_AFTER + RESOLVED_AFTER),
        resolved_by_id=directory.staff.pk,
    )
    moved += old.filter(slot__in=BULK_SHARES["disputed"]).update(
        **reported, **verdict, verdict=Verdict.DISPUTED, verdict_comment=BULK_DISPUTE
    )
    moved += old.filter(slot__in=BULK_SHARES["reported"]).update(**reported)
    moved += fresh.filter(
        Q(due_date__gte=today - RESCHEDULE_WINDOW, due_date__lt=today),
        slot__in=BULK_SHARES["rescheduled"],
    ).update(
        due_date=today + RESCHEDULE_TO,
        state=CommitmentState.RESCHEDULED,
        reschedule_count=1,
    )
    return _(
        "Promises of the answers written in bulk: %(made)d, %(moved)d of them moved on "
        "set-based, in %(seconds).1f s."
    ) % {"made": made, "moved": moved, "seconds": time.perf_counter() - started}
