"""The demo year of meetings, protocols and protocol instructions: ``seed_instructions``.

A step of ``manage.py seed_demo`` (after the requests). Over the year before today it
records the council's sessions (``figures_2023``: 13 open sessions, 4 regular and 9
extraordinary), about 40 meetings of the six standing commissions (some of them field
visits in a district) and about 8 hearings of a department's report, each with its protocol
and numbered agenda items; about 150 protocol instructions come out of those protocols.
Then the departments report, the controllers accept or return, extensions are asked and
decided, and a few instructions are removed from control — every step through the same
service functions the pages and the API call, so histories, notifications and due dates are
the real ones. The meetings of the coming month (the plan the public portal shows) are
recorded too, without a protocol yet.

How the year is replayed: the plans (``demo.instruction_plans``) give every instruction a
fate and a timeline of dated actions; the actions of all instructions, meetings and
protocols then run in chronological order while ``django.utils.timezone.now`` returns the
simulated moment — the clock and the in-app-only ``notify`` of ``demo.clock``, as for the
requests. Every action falls before today's midnight, so two runs on the same day give the
same year.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any
from unittest import mock

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from instructions import services
from instructions.models import Instruction, InstructionStatus, Meeting, MeetingKind
from maslikhat.core import workflow
from maslikhat.core.items import ItemType
from maslikhat.core.notifications import Notification

from .clock import NOTIFICATIONS_UNREAD_DAYS, in_app_only
from .context import DemoContext
from .instruction_bulk import copy_instruction_year
from .instruction_plans import (
    UPCOMING_COMMISSION_MEETINGS,
    UPCOMING_DAYS,
    UPCOMING_SESSIONS,
    Action,
    InstructionPlan,
    InstructionPlanner,
    MeetingPlan,
)


class InstructionYear(InstructionPlanner):
    """Replays the planned demo year of meetings and instructions through the services."""

    # --- Replay ---------------------------------------------------------------------------

    def replay(self, meetings: Sequence[MeetingPlan], plans: Sequence[InstructionPlan]) -> None:
        """Run every step — meetings, protocols, instructions, actions — in time order."""
        rng = self.rng
        steps: list[tuple[dt.datetime, int, Callable[[], object]]] = []

        def add(moment: dt.datetime, action: Callable[[], object]) -> None:
            steps.append((moment, len(steps), action))

        for meeting in meetings:
            entered = self.pick(
                rng, meeting.date - dt.timedelta(days=20), meeting.date - dt.timedelta(days=5)
            )
            add(
                self.at(entered, rng.randint(9, 17), rng.randint(0, 59)),
                _bind(self.create_meeting, meeting),
            )
            assert meeting.protocol_day is not None
            recorded = self.at(meeting.protocol_day, rng.randint(10, 12), rng.randint(0, 59))
            add(recorded, _bind(self.create_protocol, meeting, recorded))
            # The instructions are put on control one minute apart after the protocol.
            cursor = recorded + dt.timedelta(minutes=len(meeting.instructions) + 1)
            for plan in meeting.instructions:
                for moment, action in self.moments(plan, cursor):
                    add(moment, _bind(self.perform, plan, action))

        steps.sort(key=lambda step: (step[0], step[1]))
        # The requests step's clock and in-app-only ``notify`` (see ``demo.clock``):
        # every timestamp is the simulated moment, and no e-mail task is registered for the
        # command's commit — the services import ``notify`` by name, so it is patched where
        # they call it: the instruction services and the shared workflow (extensions).
        with (
            mock.patch("django.utils.timezone.now", self.clock),
            mock.patch.object(services, "notify", in_app_only(services.notify)),
            mock.patch.object(workflow, "notify", in_app_only(workflow.notify)),
        ):
            for moment, _order, step in steps:
                assert moment < self.horizon, "the demo year must stay in the past"
                self.clock.set(moment)
                step()

    def moments(
        self, plan: InstructionPlan, cursor: dt.datetime
    ) -> list[tuple[dt.datetime, Action]]:
        """Office-hour moments for the plan's actions, strictly increasing from ``cursor``."""
        rng = random.Random(plan.seed ^ 0x5EED)
        result = []
        for action in sorted(plan.actions, key=lambda a: a.day):
            end_of_day = self.at(action.day, 23, 50)
            if action.day <= cursor.date():
                moment = min(cursor + dt.timedelta(minutes=rng.randint(10, 90)), end_of_day)
            else:
                moment = self.at(action.day, rng.randint(9, 17), rng.randint(0, 59))
            moment = max(moment, cursor + dt.timedelta(seconds=30))
            result.append((moment, action))
            cursor = moment
        return result

    def create_meeting(self, plan: MeetingPlan) -> None:
        plan.meeting = services.meeting_create(
            by=self.staff,
            kind=plan.kind,
            date=plan.date,
            title=plan.title,
            commission=plan.commission,
            department=plan.department,
            session_kind=plan.session_kind,
            agenda="\n".join(f"{n}. {title}" for n, (title, _t) in enumerate(plan.items, start=1)),
            location=plan.location,
            is_field_visit=plan.is_field_visit,
            convocation=self.convocation,
        )

    def create_protocol(self, plan: MeetingPlan, recorded: dt.datetime) -> None:
        assert plan.meeting is not None
        protocol = services.protocol_create(
            by=self.staff,
            meeting=plan.meeting,
            number=plan.protocol_number,
            date=plan.date,
            items=[title for title, _topic in plan.items],
        )
        items = {item.number: item for item in protocol.items.all()}
        for offset, instruction in enumerate(plan.instructions, start=1):
            self.clock.set(recorded + dt.timedelta(minutes=offset))
            created = services.instruction_create(
                by=self.staff,
                protocol=protocol,
                text=instruction.text,
                lead_department=instruction.lead,
                co_departments=instruction.co,
                controller_commission=instruction.commission,
                controller_deputy=instruction.deputy,
                due_date=instruction.due,
                report_period=instruction.period,
                number=instruction.number,
                item=items.get(instruction.item_number),
            )
            instruction.pk = created.pk

    def perform(self, plan: InstructionPlan, action: Action) -> None:
        pk = plan.pk
        assert pk is not None
        by = action.user
        if action.kind in ("interim", "final"):
            services.instruction_report(
                pk=pk, by=by, text=action.text, final=action.kind == "final"
            )
        elif action.kind == "accept":
            services.instruction_accept(pk=pk, by=by, comment=action.text)
        elif action.kind == "return":
            services.instruction_return(pk=pk, by=by, comment=action.text)
        elif action.kind == "ask":
            assert action.new_due is not None
            plan.extension = services.instruction_extension_ask(
                pk=pk, by=by, new_due_date=action.new_due, reason=action.text
            )
        elif action.kind == "decide":
            assert plan.extension is not None
            services.instruction_extension_decide(
                pk=pk,
                extension_id=plan.extension.pk,
                by=by,
                approve=action.approve,
                comment=action.text,
            )
        elif action.kind == "remove":
            services.instruction_remove_from_control(pk=pk, by=by, reason=action.text)
        elif action.kind == "message":
            services.instruction_message_post(pk=pk, by=by, text=action.text)
        else:  # pragma: no cover
            raise ValueError(action.kind)

    def settle_notifications(self) -> None:
        """As the requests step does: never e-mailed, read unless recent."""
        notifications = Notification.objects.filter(item_type=ItemType.INSTRUCTION)
        notifications.filter(send_email=True, emailed_at__isnull=True).update(send_email=False)
        recent = self.horizon - dt.timedelta(days=NOTIFICATIONS_UNREAD_DAYS)
        notifications.filter(read_at__isnull=True, created_at__lt=recent).update(
            read_at=F("created_at")
        )

    # --- The coming month -----------------------------------------------------------------

    def plan_upcoming(self, last_session_number: int) -> list[MeetingPlan]:
        """Sessions and commission meetings (some on site) of the next month: no protocol yet."""
        rng = self.rng
        lo = self.today + dt.timedelta(days=3)
        hi = self.today + dt.timedelta(days=UPCOMING_DAYS)
        plans = []
        session_days = sorted(
            self.pick(rng, lo + (hi - lo) * i // 3, lo + (hi - lo) * (i + 1) // 3)
            for i in range(rng.randint(*UPCOMING_SESSIONS))
        )
        for i, day in enumerate(session_days):
            session_topics = [t for t in self.topics_on(day) if t.session]
            topics = rng.sample(session_topics, min(rng.randint(2, 4), len(session_topics)))
            plans.append(self.session(last_session_number + i + 1, day, rng.random() < 0.4, topics))
        commissions = list(self.commissions.values())
        if commissions:
            for _i in range(rng.randint(*UPCOMING_COMMISSION_MEETINGS)):
                plans.append(
                    self.commission_meeting(
                        rng.choice(commissions),
                        self.pick(rng, lo, hi),
                        field_visit=rng.random() < 0.5,
                    )
                )
        return sorted(plans, key=lambda p: p.date)

    # --- The summary ------------------------------------------------------------------------

    def summary(self, meetings: Sequence[MeetingPlan], upcoming: int, seconds: float) -> str:
        kinds = Counter(m.kind for m in meetings)
        field_visits = sum(1 for m in meetings if m.is_field_visit)
        rows = list(Instruction.objects.values_list("status", "due_date", "reported_at"))
        by_status = Counter(status for status, _due, _reported in rows)
        overdue = sum(
            1
            for status, due, _reported in rows
            if status in (InstructionStatus.ON_CONTROL, InstructionStatus.RETURNED)
            and due < self.today
        )
        late = sum(
            1
            for status, due, reported in rows
            if status == InstructionStatus.EXECUTED
            and reported is not None
            and timezone.localdate(reported) > due
        )
        return _(
            "Meetings: %(meetings)d (sessions %(sessions)d, commission meetings %(commission)d "
            "of which %(field)d field visits, hearings %(hearings)d; upcoming %(upcoming)d); "
            "instructions: %(instructions)d (executed %(executed)d of which %(late)d late, "
            "on control %(on_control)d, overdue %(overdue)d, reported %(reported)d, "
            "returned %(returned)d, removed from control %(removed)d) in %(seconds).1f s."
        ) % {
            "meetings": len(meetings) + upcoming,
            "sessions": kinds[MeetingKind.SESSION],
            "commission": kinds[MeetingKind.COMMISSION],
            "field": field_visits,
            "hearings": kinds[MeetingKind.HEARING],
            "upcoming": upcoming,
            "instructions": len(rows),
            "executed": by_status[InstructionStatus.EXECUTED],
            "late": late,
            "on_control": by_status[InstructionStatus.ON_CONTROL],
            "overdue": overdue,
            "reported": by_status[InstructionStatus.REPORTED],
            "returned": by_status[InstructionStatus.RETURNED],
            "removed": by_status[InstructionStatus.REMOVED_FROM_CONTROL],
            "seconds": seconds,
        }


def _bind(function: Callable[..., object], *args: Any) -> Callable[[], object]:
    return lambda: function(*args)


def seed_instructions(context: DemoContext) -> str:
    """The demo year of meetings and protocol instructions (a ``seed_demo`` step).

    Skipped when the database already has meetings, so running ``seed_demo`` twice adds
    nothing.
    """
    existing = Meeting.objects.count()
    if existing:
        return _(
            "Meetings: %(count)d already in the database, the demo meetings and instructions "
            "were not added."
        ) % {"count": existing}
    started = time.perf_counter()
    year = InstructionYear(context)
    meetings = year.plan_meetings()
    plans = year.plan_instructions(meetings)
    year.assign_fates(plans)
    year.replay(meetings, plans)
    year.settle_notifications()
    sessions = [m for m in meetings if m.kind == MeetingKind.SESSION]
    last_number = max((int(m.protocol_number) for m in sessions), default=0)
    upcoming = year.plan_upcoming(last_number)
    for plan in upcoming:
        year.create_meeting(plan)
    line = year.summary(meetings, len(upcoming), time.perf_counter() - started)
    # The services wrote ``year.scale`` years (at most a few); copies make up the rest.
    copies = round(context.scale / year.scale) - 1
    if copies > 0:
        rows, seconds = copy_instruction_year(copies)
        line += " " + _(
            "Benchmark volume: the meetings and instructions copied %(copies)d times, "
            "%(rows)d rows in %(seconds).1f s."
        ) % {"copies": copies, "rows": rows, "seconds": seconds}
    return line
