"""Who may do what to a protocol instruction: pure predicates over an ``Actor`` and the item.

The state question ("is it allowed now") is the transition table's in
``services``. Co-department ids and the chair of the controlling
commission must be prefetched by the selector; predicates never query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maslikhat.directory.actors import Actor

if TYPE_CHECKING:
    from .models import Instruction


def co_department_ids(item: Instruction) -> set[int]:
    cached = getattr(item, "_co_department_ids", None)
    if cached is None:
        cached = set(item.co_departments.values_list("pk", flat=True))
        item._co_department_ids = cached  # type: ignore[attr-defined]
    return cached


def controller_deputy_ids(item: Instruction) -> set[int]:
    """The deputy controller and the chair of the controlling commission."""
    ids = set()
    if item.controller_deputy_id:
        ids.add(item.controller_deputy_id)
    commission = item.controller_commission if item.controller_commission_id else None
    if commission is not None and commission.chair_id:
        ids.add(commission.chair_id)
    return ids


def is_lead_department(actor: Actor, item: Instruction) -> bool:
    return actor.in_department(item.lead_department_id)


def is_co_department(actor: Actor, item: Instruction) -> bool:
    return actor.department_id is not None and actor.department_id in co_department_ids(item)


def is_controller(actor: Actor, item: Instruction) -> bool:
    return actor.deputy_id is not None and actor.deputy_id in controller_deputy_ids(item)


def can_create(actor: Actor) -> bool:
    """Staff turn protocols into instructions."""
    return actor.is_staff


def can_report(actor: Actor, item: Instruction) -> bool:
    """The lead department reports; co-executors contribute their own (interim) reports."""
    return is_lead_department(actor, item) or is_co_department(actor, item)


def can_report_final(actor: Actor, item: Instruction) -> bool:
    return is_lead_department(actor, item)


def can_decide_report(actor: Actor, item: Instruction) -> bool:
    """The controller (deputy or commission chair) or staff accept or return a report."""
    return actor.is_staff or is_controller(actor, item)


def can_ask_extension(actor: Actor, item: Instruction) -> bool:
    return is_lead_department(actor, item)


def can_decide_extension(actor: Actor, item: Instruction) -> bool:
    """Staff or the chair decide — never the department that asks."""
    return actor.is_staff or actor.is_chair


def can_remove_from_control(actor: Actor, item: Instruction) -> bool:
    return actor.is_staff


def can_edit(actor: Actor, item: Instruction) -> bool:
    return actor.is_staff


def can_write_thread(actor: Actor, item: Instruction) -> bool:
    return (
        actor.is_staff
        or is_lead_department(actor, item)
        or is_co_department(actor, item)
        or is_controller(actor, item)
    )
