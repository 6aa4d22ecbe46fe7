"""Items that need each role's action, and items that need someone else: the to-do's scene.

``todo_scene(world)`` (a ``tests.instruction_helpers.World``) drives requests and instructions
through the services so that every to-do group of every role holds one item for its person
and one for another deputy, department or executor.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from instructions.models import InstructionStatus
from maslikhat.accounts.models import User
from maslikhat.core.extensions import Extension, ExtensionStatus
from requests_app import responses as request_responses
from requests_app import services as request_services
from requests_app.models import Clarification, DeputyRequest, RequestStatus
from tests.instruction_helpers import World, make_instruction
from tests.requests_helpers import draft_answer, make_request

S = RequestStatus
IS = InstructionStatus


def past_due(item: Any, days: int = 30) -> None:
    """Move an item's due date into the past (the deadline's arithmetic is tested elsewhere)."""
    type(item).objects.filter(pk=item.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=days)
    )


def extension(item: Any, status: str, by: User, decided_by: User | None = None) -> Extension:
    return Extension.objects.create(
        item_type=item.ITEM_TYPE,
        item_id=item.pk,
        requested_by=by,
        previous_due_date=item.due_date,
        new_due_date=item.due_date + datetime.timedelta(days=10),
        reason="Нужно больше времени.",
        status=status,
        decided_by=decided_by,
        decided_at=timezone.now() if decided_by else None,
    )


def clarification(item: DeputyRequest, asked_by: User) -> Clarification:
    assert item.lead_department is not None
    return Clarification.objects.create(
        request=item,
        department=item.lead_department,
        question="Уточните адрес.",
        asked_by=asked_by,
        asked_at=timezone.now(),
    )


def todo_scene(world: World) -> dict[str, Any]:
    """For every role, items that need that person and items that need someone else."""
    d = world.d
    s: dict[str, Any] = {}
    # Deputies: alice's and bob's answers to evaluate, drafts, questions, overdue requests.
    s["alice_answered"] = make_request(d, status=S.ANSWERED, title="Ответ Алисе")
    s["bob_answered"] = make_request(d, status=S.ANSWERED, author=d.bob, title="Ответ Бобу")
    s["alice_draft"] = make_request(d, status=S.DRAFT, title="Черновик Алисы")
    s["bob_draft"] = make_request(d, status=S.DRAFT, author=d.bob)
    s["alice_asked"] = make_request(d, status=S.IN_PROGRESS, title="Вопрос Алисе")
    clarification(s["alice_asked"], d.finance_exec)
    s["bob_asked"] = make_request(d, status=S.IN_PROGRESS, author=d.bob)
    clarification(s["bob_asked"], d.finance_exec)
    s["alice_late"] = make_request(d, status=S.IN_PROGRESS, title="Просрочен у Алисы")
    past_due(s["alice_late"])
    s["bob_late"] = make_request(d, status=S.IN_PROGRESS, author=d.bob, lead=d.mobility)
    past_due(s["bob_late"])
    # Executors: assigned requests of finance-exec and mobility-exec; a returned draft.
    s["finance_assigned"] = make_request(d, status=S.IN_PROGRESS, author=d.bob)
    request_services.deputy_request_assign(
        pk=s["finance_assigned"].pk, by=d.finance_head, executor=d.finance_exec
    )
    s["mobility_assigned"] = make_request(d, status=S.IN_PROGRESS, lead=d.mobility)
    request_services.deputy_request_assign(
        pk=s["mobility_assigned"].pk, by=d.mobility_head, executor=d.mobility_exec
    )
    s["returned"] = make_request(d, status=S.IN_PROGRESS, author=d.bob, title="Вернули")
    returned = draft_answer(d, s["returned"])
    request_responses.deputy_request_response_return(
        pk=s["returned"].pk, response_id=returned.pk, by=d.finance_head, comment="Дополните."
    )
    # Heads: drafts awaiting approval in finance and mobility; decided extensions.
    s["finance_draft_answer"] = make_request(d, status=S.IN_PROGRESS, author=d.bob)
    draft_answer(d, s["finance_draft_answer"])
    s["mobility_draft_answer"] = make_request(d, status=S.IN_PROGRESS, lead=d.mobility)
    draft_answer(d, s["mobility_draft_answer"])
    s["finance_extended"] = make_request(d, status=S.IN_PROGRESS, author=d.bob)
    extension(s["finance_extended"], ExtensionStatus.APPROVED, d.finance_head, d.staff)
    s["mobility_extended"] = make_request(d, status=S.IN_PROGRESS, lead=d.mobility)
    extension(s["mobility_extended"], ExtensionStatus.REJECTED, d.mobility_head, d.staff)
    # Staff: a request to route and one with an extension to decide.
    s["submitted"] = make_request(d, status=S.SUBMITTED, author=d.bob)
    s["pending_extension"] = make_request(d, status=S.IN_PROGRESS, author=d.bob)
    extension(s["pending_extension"], ExtensionStatus.PENDING, d.finance_head)
    # Instructions: on control at finance (mobility co-executes), at energy; reported;
    # returned; overdue at finance; one with a pending extension.
    s["ins_finance"] = make_instruction(world)
    s["ins_energy"] = make_instruction(
        world, lead=world.energy, co_departments=(), controller_deputy=None
    )
    s["ins_reported"] = make_instruction(world, status=IS.REPORTED)
    s["ins_returned"] = make_instruction(world, status=IS.RETURNED)
    s["ins_late"] = make_instruction(world, lead=world.energy, co_departments=())
    past_due(s["ins_late"])
    s["ins_pending"] = make_instruction(world, lead=world.energy, co_departments=())
    extension(s["ins_pending"], ExtensionStatus.PENDING, world.energy_head)
    return s
