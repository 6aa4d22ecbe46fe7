"""Every change of meetings, protocols and protocol instructions.

The same rules as deputy requests: one service per action, one transaction,
the instruction row locked, the transition table, ``version`` checked, an
audit event, notifications after commit. The thread, attachments and history
are the shared machinery of ``maslikhat.core``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maslikhat.accounts.models import User
from maslikhat.core import services as core_services
from maslikhat.core.deadlines import compute_due_date, get_rule
from maslikhat.core.exceptions import TransitionNotAllowed, ValidationFailed
from maslikhat.core.extensions import ExtensionStatus
from maslikhat.core.notifications import NotificationKind, notify
from maslikhat.core.text import clean_text
from maslikhat.core.threads import Attachment, Message
from maslikhat.core.workflow import ExtensionSteps, Workflow, check_version, require
from maslikhat.directory.actors import Actor, actor_for
from maslikhat.directory.models import Commission, Convocation, Department, Deputy
from maslikhat.directory.recipients import department_users, staff_users

from . import permissions
from .models import (
    ExecutionReport,
    Instruction,
    InstructionStatus,
    Meeting,
    MeetingKind,
    Protocol,
    ProtocolItem,
    ReportPeriod,
    ReportStatus,
    SessionKind,
)

S = InstructionStatus
OPEN = frozenset({S.ON_CONTROL, S.RETURNED})

#: The instruction lifecycle in one table: action -> (allowed states, next state or None).
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "edit": (OPEN, None),
    "report_interim": (OPEN, None),
    "report_final": (OPEN, S.REPORTED),
    "accept": (frozenset({S.REPORTED}), S.EXECUTED),
    "return": (frozenset({S.REPORTED}), S.RETURNED),
    "ask_extension": (OPEN, None),
    # Only while the department still owes the execution: an extension granted
    # after the report came in would turn a late report into an on-time one.
    "decide_extension": (OPEN, None),
    "remove_from_control": (
        frozenset({S.ON_CONTROL, S.REPORTED, S.RETURNED, S.EXECUTED}),
        S.REMOVED_FROM_CONTROL,
    ),
}

ACTION_LABELS: dict[str, Any] = {
    "edit": _("Edit"),
    "report_interim": _("Submit an interim report"),
    "report_final": _("Submit the final report"),
    "accept": _("Accept as executed"),
    "return": _("Return the report"),
    "ask_extension": _("Ask for an extension"),
    "decide_extension": _("Decide on the extension"),
    "remove_from_control": _("Remove from control"),
}

INSTRUCTION_RULE = "instruction"


FLOW: Workflow[Instruction] = Workflow(
    model=Instruction,
    transitions=TRANSITIONS,
    labels=ACTION_LABELS,
    actor_of=actor_for,
    missing=_("This instruction does not exist."),
    not_allowed=_("“%(action)s” is not possible while the instruction is “%(status)s”."),
    lock_related=["controller_commission"],
)


def allowed(action: str, status: str) -> bool:
    return FLOW.allowed(action, status)


def _controller_users(item: Instruction) -> list[User]:
    ids = permissions.controller_deputy_ids(item)
    return [d.user for d in Deputy.objects.filter(pk__in=ids).select_related("user")]


# --- Meetings and protocols --------------------------------------------------------------


@transaction.atomic
def meeting_create(
    *,
    by: User,
    kind: str,
    date: datetime.date,
    title: str,
    commission: Commission | None = None,
    department: Department | None = None,
    session_kind: str = "",
    agenda: str = "",
    location: str = "",
    is_field_visit: bool = False,
    convocation: Convocation | None = None,
) -> Meeting:
    """Staff record a session, a commission meeting or a hearing of a department's report."""
    require(permissions.can_create(actor_for(by)))
    if kind not in MeetingKind.values:
        raise ValidationFailed(_("Choose a kind of meeting."), field="kind")
    if kind == MeetingKind.COMMISSION and commission is None:
        raise ValidationFailed(_("A commission meeting needs its commission."), field="commission")
    if kind == MeetingKind.HEARING and department is None:
        raise ValidationFailed(_("A hearing names the department heard."), field="department")
    if kind == MeetingKind.SESSION and session_kind not in SessionKind.values:
        session_kind = SessionKind.REGULAR
    convocation = convocation or Convocation.objects.filter(is_current=True).first()
    if convocation is None:
        raise ValidationFailed(_("There is no current convocation."), field="convocation")
    return Meeting.objects.create(
        convocation=convocation,
        kind=kind,
        session_kind=session_kind if kind == MeetingKind.SESSION else "",
        date=date,
        title=clean_text(title, field="title", required=True, limit=300),
        commission=commission,
        department=department,
        agenda=clean_text(agenda, field="agenda", required=False),
        location=clean_text(location, field="location", required=False, limit=300),
        is_field_visit=is_field_visit,
        created_by=by,
    )


@transaction.atomic
def protocol_create(
    *, by: User, meeting: Meeting, number: str, date: datetime.date, items: Iterable[str] = ()
) -> Protocol:
    """Staff record a meeting's protocol with its numbered items (questions)."""
    require(permissions.can_create(actor_for(by)))
    number = clean_text(number, field="number", required=True, limit=40)
    # Lock the meeting so two staff members cannot record the same protocol twice.
    Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
    if Protocol.objects.filter(meeting=meeting, number=number).exists():
        raise ValidationFailed(
            _("This meeting already has a protocol with this number."), field="number"
        )
    protocol = Protocol.objects.create(meeting=meeting, number=number, date=date, created_by=by)
    ProtocolItem.objects.bulk_create(
        ProtocolItem(protocol=protocol, number=n, title=title.strip())
        for n, title in enumerate((t for t in items if t and t.strip()), start=1)
    )
    return protocol


def _next_instruction_number(protocol: Protocol) -> str:
    numbers = [
        int(n) for n in protocol.instructions.values_list("number", flat=True) if str(n).isdigit()
    ]
    return str(max(numbers, default=0) + 1)


@transaction.atomic
def instruction_create(
    *,
    by: User,
    protocol: Protocol,
    text: str,
    lead_department: Department,
    co_departments: Iterable[Department] = (),
    controller_commission: Commission | None = None,
    controller_deputy: Deputy | None = None,
    due_date: datetime.date | None = None,
    report_period: str = ReportPeriod.NONE,
    number: str = "",
    item: ProtocolItem | None = None,
) -> Instruction:
    """Staff put an instruction of a protocol on control.

    Without ``due_date`` the deadline rule "instruction" gives it (counted from
    the protocol's date on the working-day calendar).
    """
    require(permissions.can_create(actor_for(by)))
    text = clean_text(text, field="text", required=True)
    if controller_commission is None and controller_deputy is None:
        raise ValidationFailed(
            _("Name the controller: a commission or a deputy."), field="controller_commission"
        )
    if not lead_department.is_active:
        raise ValidationFailed(_("This department is no longer active."), field="lead_department")
    if report_period not in ReportPeriod.values:
        raise ValidationFailed(_("Choose how often the department reports."), field="report_period")
    if item is not None and item.protocol_id != protocol.pk:
        raise ValidationFailed(_("This item belongs to another protocol."), field="item")
    # The protocol row is locked while its next instruction number is chosen:
    # two staff members adding instructions at once get consecutive numbers.
    protocol = Protocol.objects.select_for_update().select_related("meeting").get(pk=protocol.pk)
    today = timezone.localdate()
    if due_date is None:
        computed = compute_due_date(
            rule=get_rule(INSTRUCTION_RULE), start=max(protocol.date, today)
        )
        due_date, basis = computed.due, computed.as_dict()
    else:
        if due_date < protocol.date:
            raise ValidationFailed(
                _("The due date cannot be before the protocol."), field="due_date"
            )
        basis = {"due": due_date.isoformat(), "set_by_staff": True}
    number = clean_text(
        number, field="number", required=False, limit=20
    ) or _next_instruction_number(protocol)
    if protocol.instructions.filter(number=number).exists():
        raise ValidationFailed(
            _("This protocol already has an instruction with this number."), field="number"
        )
    instruction = Instruction.objects.create(
        protocol=protocol,
        item=item,
        number=number,
        convocation=protocol.meeting.convocation,
        text=text,
        lead_department=lead_department,
        controller_commission=controller_commission,
        controller_deputy=controller_deputy,
        due_date=due_date,
        original_due_date=due_date,
        due_date_basis=basis,
        report_period=report_period,
        created_by=by,
    )
    co = [d for d in co_departments if d.pk != lead_department.pk]
    instruction.co_departments.set(co)
    instruction._co_department_ids = {d.pk for d in co}  # type: ignore[attr-defined]
    core_services.audit_record(
        item=instruction,
        actor=by,
        action="create",
        to_status=instruction.status,
        changes={
            "lead_department": lead_department.code,
            "co_departments": [d.code for d in co],
            "due_date": due_date.isoformat(),
        },
    )
    notify(
        users=department_users([lead_department.pk, *(d.pk for d in co)]),
        kind=NotificationKind.ROUTED,
        item=instruction,
        email=True,
        exclude=by,
    )
    return instruction


# --- Reports ------------------------------------------------------------------------------


@transaction.atomic
def instruction_report(
    *, pk: int, by: User, text: str, final: bool = False, version: int | None = None
) -> ExecutionReport:
    """A department reports on the instruction.

    The lead department's final report puts it to the controller (``reported``);
    interim reports (periodic ones, co-executors' parts) leave the state as it is.
    """
    item = FLOW.lock(pk)
    actor = actor_for(by)
    require(permissions.can_report(actor, item))
    if final:
        require(permissions.can_report_final(actor, item))
    check_version(item, version)
    action = "report_final" if final else "report_interim"
    FLOW.ensure_allowed(item, action)
    assert actor.department_id is not None  # can_report implies a department
    report = ExecutionReport.objects.create(
        instruction=item,
        department_id=actor.department_id,
        text=clean_text(text, field="text", required=True),
        is_final=final,
        submitted_by=by,
    )
    fields: list[str] = []
    if final:
        item.reported_at = report.submitted_at
        fields.append("reported_at")
    FLOW.transition(item, action, by=by, changes={"report": report.pk}, extra_fields=fields)
    notify(
        users=[*_controller_users(item), *staff_users()],
        kind=NotificationKind.REPORTED,
        item=item,
        email=final,
        exclude=by,
    )
    return report


def _close_pending_extensions(item: Instruction, *, by: User) -> None:
    """An instruction that leaves control takes its undecided extension with it."""
    core_services.close_pending_extensions(
        item, by=by, comment=_("Closed together with the instruction.")
    )


def _pending_final_report(item: Instruction) -> ExecutionReport:
    report = (
        item.reports.select_for_update()
        .filter(is_final=True, status=ReportStatus.SUBMITTED)
        .order_by("-submitted_at", "-id")
        .first()
    )
    if report is None:
        raise TransitionNotAllowed(_("There is no final report awaiting a decision."))
    return report


@transaction.atomic
def instruction_accept(
    *, pk: int, by: User, comment: str = "", version: int | None = None
) -> Instruction:
    """The controller or staff accept the final report: the instruction is executed."""
    item = FLOW.start(
        pk, by=by, may=permissions.can_decide_report, version=version, action="accept"
    )
    report = _pending_final_report(item)
    now = timezone.now()
    report.status = ReportStatus.ACCEPTED
    report.decided_by = by
    report.decided_at = now
    report.comment = clean_text(comment, field="comment", required=False)
    report.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    item.executed_at = now
    _close_pending_extensions(item, by=by)
    FLOW.transition(
        item,
        "accept",
        by=by,
        comment=report.comment,
        changes={"report": report.pk},
        extra_fields=["executed_at"],
    )
    notify(
        users=department_users([item.lead_department_id]),
        kind=NotificationKind.EXECUTED,
        item=item,
        exclude=by,
    )
    return item


@transaction.atomic
def instruction_return(
    *, pk: int, by: User, comment: str, version: int | None = None
) -> Instruction:
    """The controller or staff return the final report; the department reports again."""
    item = FLOW.start(
        pk, by=by, may=permissions.can_decide_report, version=version, action="return"
    )
    comment = clean_text(comment, field="comment", required=True)
    report = _pending_final_report(item)
    report.status = ReportStatus.RETURNED
    report.decided_by = by
    report.decided_at = timezone.now()
    report.comment = comment
    report.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    # A returned report does not count as the report: timeliness is measured by
    # the final report that will be accepted.
    item.reported_at = None
    FLOW.transition(
        item,
        "return",
        by=by,
        comment=comment,
        changes={"report": report.pk},
        extra_fields=["reported_at"],
    )
    notify(
        users=department_users([item.lead_department_id]),
        kind=NotificationKind.REPORT_RETURNED,
        item=item,
        email=True,
        exclude=by,
    )
    return item


# --- Extensions and removal ------------------------------------------------------------------


EXTENSIONS: ExtensionSteps[Instruction] = ExtensionSteps(
    FLOW,
    may_ask=permissions.can_ask_extension,
    may_decide=permissions.can_decide_extension,
    rule_code=INSTRUCTION_RULE,
    deciders=staff_users,
    heads_of=lambda item: department_users([item.lead_department_id], heads_only=True),
)
#: The lead department asks for a later due date; staff or the chair decide.
instruction_extension_ask = EXTENSIONS.ask
#: Staff or the chair approve or reject; the original due date stays for statistics.
instruction_extension_decide = EXTENSIONS.decide


@transaction.atomic
def instruction_remove_from_control(
    *, pk: int, by: User, reason: str, version: int | None = None
) -> Instruction:
    """Staff close the instruction as no longer relevant (or executed otherwise), with a reason."""
    item = FLOW.start(pk, by=by, may=permissions.can_remove_from_control, version=version)
    reason = clean_text(reason, field="reason", required=True)
    FLOW.ensure_allowed(item, "remove_from_control")
    item.removal_reason = reason
    item.removed_at = timezone.now()
    _close_pending_extensions(item, by=by)
    FLOW.transition(
        item,
        "remove_from_control",
        by=by,
        comment=reason,
        extra_fields=["removal_reason", "removed_at"],
    )
    notify(
        users=[
            *department_users([item.lead_department_id, *permissions.co_department_ids(item)]),
            *_controller_users(item),
        ],
        kind=NotificationKind.REMOVED_FROM_CONTROL,
        item=item,
        exclude=by,
    )
    return item


# --- Thread and attachments ---------------------------------------------------------------


@transaction.atomic
def instruction_message_post(*, pk: int, by: User, text: str) -> Message:
    item = FLOW.lock(pk)
    actor = actor_for(by)
    require(permissions.can_write_thread(actor, item))
    # The thread's participants of both sides; core tells only the poster's other side
    # (the controllers, or the lead department's heads).
    participants = [
        *_controller_users(item),
        *department_users([item.lead_department_id], heads_only=True),
    ]
    return core_services.message_post(item=item, by=by, text=text, participants=participants)


@transaction.atomic
def instruction_attachment_add(*, pk: int, by: User, upload: UploadedFile) -> Attachment:
    item = FLOW.lock(pk)
    require(permissions.can_write_thread(actor_for(by), item))
    return core_services.attachment_add(item=item, by=by, upload=upload)


def available_actions(actor: Actor, item: Instruction) -> set[str]:
    """The actions ``actor`` may take on ``item`` now: entitled by role and allowed by state."""
    checks = {
        "report_interim": permissions.can_report,
        "report_final": permissions.can_report_final,
        "accept": permissions.can_decide_report,
        "return": permissions.can_decide_report,
        "ask_extension": permissions.can_ask_extension,
        "decide_extension": permissions.can_decide_extension,
        "remove_from_control": permissions.can_remove_from_control,
    }
    actions = FLOW.available(actor, item, checks)
    if "decide_extension" in actions and not any(
        e.status == ExtensionStatus.PENDING for e in item.extensions.all()
    ):
        actions.discard("decide_extension")
    return actions


# --- Publication of reports on the public portal ---------------------------------------------

#: Publishing a report changes no state: staff may do it in every state of the instruction.
TRANSITIONS["publish_report"] = (frozenset(InstructionStatus.values), None)
TRANSITIONS["unpublish_report"] = (frozenset(InstructionStatus.values), None)
ACTION_LABELS["publish_report"] = _("Publish the report")
ACTION_LABELS["unpublish_report"] = _("Take the report off the public portal")


@transaction.atomic
def instruction_report_publish(
    *, pk: int, report_id: int, by: User, public: bool = True, version: int | None = None
) -> ExecutionReport:
    """Staff show (or hide again) one execution report on the public instruction page.

    Reports, and the controller's returns written on them, are internal until then.
    The instruction's history records who published or withdrew which report.
    """
    item = FLOW.start(pk, by=by, may=permissions.can_edit, version=version)
    missing = ValidationFailed(_("Choose a report of this instruction."), field="report_id")
    if not str(report_id).isdigit():
        raise missing
    report = item.reports.select_for_update().filter(pk=int(report_id)).first()
    if report is None:
        raise missing
    public = bool(public)
    if report.is_public != public:
        report.is_public = public
        report.save(update_fields=["is_public"])
    FLOW.transition(
        item,
        "publish_report" if public else "unpublish_report",
        by=by,
        changes={"report": report.pk, "is_public": public},
    )
    return report
