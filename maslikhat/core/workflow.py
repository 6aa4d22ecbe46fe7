"""The steps every change of an item takes, written once for every item kind.

A service of deputy requests or of protocol instructions locks the item's row
(``select_for_update``: two people acting at once are serialised), checks that
the caller may act (a ``can_*`` predicate, else ``ActionForbidden``), that the
form they saw is still current (``version``, else ``StaleVersion`` — a 409),
and that the action is allowed in the item's state (the kind's ``TRANSITIONS``
table, else ``TransitionNotAllowed``); then it moves the state, bumps the
version and writes the audit event in the same transaction. Each kind keeps
its own table, labels and fields and hands them to one ``Workflow``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from django.db import models, transaction
from django.db.models import F
from django.utils.functional import Promise

from . import services as core_services
from .exceptions import ActionForbidden, StaleVersion, TransitionNotAllowed
from .extensions import Extension
from .notifications import NotificationKind, notify

#: action -> (the states it is allowed in, the state it leads to; ``None`` keeps the state).
Transitions = Mapping[str, tuple[frozenset[str], str | None]]


def require(entitled: bool) -> None:
    """``ActionForbidden`` (403) unless the permission predicate said yes."""
    if not entitled:
        raise ActionForbidden()


def check_version(item: Any, version: int | None) -> None:
    """``StaleVersion`` (409) when the caller acted on an older version of the item."""
    if version is not None and int(version) != item.version:
        raise StaleVersion()


ItemT = TypeVar("ItemT", bound=models.Model)


class Workflow(Generic[ItemT]):
    """One item kind's lifecycle: its model, transition table and the words of its errors.

    ``not_allowed`` is worded with ``%(action)s`` and ``%(status)s`` (the action's
    label and the item's state); ``missing`` is the 409 of a row that is gone.
    ``actor_of`` turns the acting user into what the kind's predicates take.
    ``lock_related`` are the relations read with the locked row (only the item's
    own row is locked).
    """

    def __init__(
        self,
        *,
        model: type[ItemT],
        transitions: Transitions,
        labels: Mapping[str, str | Promise],
        actor_of: Callable[[Any], Any],
        missing: str | Promise,
        not_allowed: str | Promise,
        lock_related: Iterable[str] = (),
    ) -> None:
        self.model = model
        self.transitions = transitions
        self.labels = labels
        self.actor_of = actor_of
        self.missing = missing
        self.not_allowed = not_allowed
        self.lock_related = tuple(lock_related)

    def allowed(self, action: str, status: str) -> bool:
        return status in self.transitions[action][0]

    def lock(self, pk: int) -> ItemT:
        """The item's row, locked until the end of the transaction."""
        rows = self.model._default_manager.all()
        if self.lock_related:
            rows = rows.select_for_update(of=("self",)).select_related(*self.lock_related)
        else:
            rows = rows.select_for_update()
        try:
            return rows.get(pk=pk)
        except self.model.DoesNotExist as exc:  # type: ignore[attr-defined]
            raise TransitionNotAllowed(self.missing) from exc

    def start(
        self,
        pk: int,
        *,
        by: Any,
        may: Callable[[Any, Any], bool],
        version: int | None = None,
        action: str | None = None,
    ) -> ItemT:
        """Lock the item, require ``may(actor, item)``, check the version and, when given,
        that ``action`` is allowed now: the opening of every service that changes an item."""
        item = self.lock(pk)
        require(may(self.actor_of(by), item))
        check_version(item, version)
        if action is not None:
            self.ensure_allowed(item, action)
        return item

    def ensure_allowed(self, item: Any, action: str) -> None:
        """The 409 of the transition table when ``action`` is not allowed in the item's state."""
        if not self.allowed(action, item.status):
            raise TransitionNotAllowed(
                self.not_allowed
                % {
                    "action": self.labels.get(action, action),
                    "status": item.get_status_display(),
                }
            )

    def transition(
        self,
        item: Any,
        action: str,
        *,
        by: Any,
        comment: str = "",
        changes: dict[str, Any] | None = None,
        extra_fields: Iterable[str] = (),
    ) -> None:
        """Apply ``action`` from the table: check the state, move it, bump the version,
        save ``extra_fields`` with it and write the audit event."""
        self.ensure_allowed(item, action)
        target = self.transitions[action][1]
        before = item.status
        if target is not None:
            item.status = target
        item.version = F("version") + 1
        item.save(update_fields=sorted({"status", "version", "updated_at", *extra_fields}))
        item.refresh_from_db(fields=["version"])
        core_services.audit_record(
            item=item,
            actor=by,
            action=action,
            from_status=before,
            to_status=item.status,
            changes=changes,
            comment=comment,
        )

    def ask_extension(
        self,
        pk: int,
        *,
        by: Any,
        may: Callable[[Any, Any], bool],
        new_due_date: datetime.date,
        reason: str,
        rule_code: str,
        version: int | None = None,
    ) -> tuple[ItemT, Extension]:
        """The department asks for a later due date (the ``ask_extension`` action):
        the item locked and checked, the extension recorded against ``rule_code``'s limit.
        The caller, inside the same transaction, tells whoever decides."""
        item = self.start(pk, by=by, may=may, version=version, action="ask_extension")
        extension = core_services.extension_open(
            item=item, by=by, new_due_date=new_due_date, reason=reason, rule_code=rule_code
        )
        return item, extension

    def decide_extension(
        self,
        pk: int,
        *,
        by: Any,
        may: Callable[[Any, Any], bool],
        extension_id: int,
        approve: bool,
        comment: str = "",
        version: int | None = None,
    ) -> tuple[ItemT, Extension]:
        """Approve or reject a pending extension (the ``decide_extension`` action): an
        approval moves ``due_date`` (never the original one), saved with the transition
        and its audit event. The caller, in the same transaction, tells those concerned."""
        item = self.start(pk, by=by, may=may, version=version, action="decide_extension")
        extension, changes = core_services.extension_decide(
            item=item, extension_id=extension_id, by=by, approve=approve, comment=comment
        )
        self.transition(
            item,
            "decide_extension",
            by=by,
            comment=extension.comment,
            changes=changes,
            extra_fields=["due_date"] if approve else [],
        )
        return item, extension

    def available(
        self, actor: Any, item: Any, checks: Mapping[str, Callable[[Any, Any], bool]]
    ) -> set[str]:
        """The actions of ``checks`` the actor is entitled to and the item's state allows."""
        return {
            name
            for name, check in checks.items()
            if self.allowed(name, item.status) and check(actor, item)
        }


class ExtensionSteps(Generic[ItemT]):
    """Asking for and deciding an extension of one item kind, with who is told.

    The staff are told of an extension asked; the department that asked (and its
    heads) of the decision, and ``told_of_approval(item)`` too when it is approved (the
    deputies of a request: APPC art. 76). ``may_ask``/``may_decide`` are the kind's
    predicates, ``rule_code`` its deadline rule (which caps the extensions). Who the
    staff and a department's heads are is the directory's business: the kind passes
    ``deciders()`` and ``heads_of(item)`` (core imports no app above it).
    A kind's services expose ``ask`` and ``decide`` under their own names.
    """

    def __init__(
        self,
        flow: Workflow[ItemT],
        *,
        may_ask: Callable[[Any, Any], bool],
        may_decide: Callable[[Any, Any], bool],
        rule_code: str,
        deciders: Callable[[], Iterable[Any]],
        heads_of: Callable[[ItemT], Iterable[Any]],
        told_of_approval: Callable[[ItemT], Iterable[Any]] = lambda item: (),
    ) -> None:
        self.flow = flow
        self.deciders = deciders
        self.heads_of = heads_of
        self.may_ask = may_ask
        self.may_decide = may_decide
        self.rule_code = rule_code
        self.told_of_approval = told_of_approval

    @transaction.atomic
    def ask(
        self,
        *,
        pk: int,
        by: Any,
        new_due_date: datetime.date,
        reason: str,
        version: int | None = None,
    ) -> Extension:
        """The lead department asks for a later due date with a reason; staff are told."""
        item, extension = self.flow.ask_extension(
            pk,
            by=by,
            may=self.may_ask,
            new_due_date=new_due_date,
            reason=reason,
            rule_code=self.rule_code,
            version=version,
        )
        notify(
            users=list(self.deciders()),
            kind=NotificationKind.EXTENSION_REQUESTED,
            item=item,
            exclude=by,
        )
        return extension

    @transaction.atomic
    def decide(
        self,
        *,
        pk: int,
        extension_id: int,
        by: Any,
        approve: bool,
        comment: str = "",
        version: int | None = None,
    ) -> ItemT:
        """Approve or reject a pending extension (a rejection needs a ``comment``). The
        original due date stays for statistics; those concerned are told by e-mail too."""
        item, extension = self.flow.decide_extension(
            pk,
            by=by,
            may=self.may_decide,
            extension_id=extension_id,
            approve=approve,
            comment=comment,
            version=version,
        )
        recipients = [extension.requested_by, *self.heads_of(item)]
        if approve:
            recipients += self.told_of_approval(item)
        notify(
            users=recipients,
            kind=NotificationKind.EXTENSION_DECIDED,
            item=item,
            email=True,
            exclude=by,
        )
        return item
