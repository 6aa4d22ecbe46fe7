"""The item kinds that share threads, attachments, history and notifications.

Deputy requests and protocol instructions are both "items": they have a thread
of messages, attachments, an audit trail and notifications. The machinery lives
here once; each kind registers how to find an item *that a given user may
see* — so a download link or a thread of an unseen item is a 404 for everyone,
decided by the kind's own selector.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.functional import Promise

if TYPE_CHECKING:
    import datetime

    from .reminders import ItemReminders


class ItemType(models.TextChoices):
    """Code names of item kinds (``item_type`` in the API)."""

    REQUEST = "request", "request"
    INSTRUCTION = "instruction", "instruction"


@dataclass(frozen=True)
class ItemKind:
    """How the shared machinery reaches the items of one kind.

    ``get_visible(user, pk)`` returns the item or raises ``Http404`` when it does
    not exist *or* the user may not see it; ``can_read(user, item)`` says whether
    the user may also read its correspondence (thread, files, history) — a
    published request is visible to all, its thread is not; ``can_write(user, item)`` says
    whether the user may post in its thread and attach files; ``url(item)`` is
    its page; ``label(item)`` names it in notifications ("DZ-2026-00012 «…»");
    ``reminders(day)`` is the kind's part of the daily reminder sweep
    (``maslikhat/core/reminders.py``: an ``ItemReminders``), or ``None``;
    ``thread_side(user)`` names the side of the thread a user speaks for (read
    receipts and message notifications go to the other side; see
    ``maslikhat/core/threads.py``), or ``None`` for the default: department
    officers against everyone else.
    """

    code: str
    verbose_name: str | Promise
    get_visible: Callable[[Any, int], Any]
    can_read: Callable[[Any, Any], bool]
    can_write: Callable[[Any, Any], bool]
    url: Callable[[Any], str]
    label: Callable[[Any], str]
    post_message: Callable[..., Any]
    add_attachment: Callable[..., Any]
    reminders: Callable[[datetime.date], ItemReminders] | None = None
    thread_side: Callable[[Any], str] | None = None


_REGISTRY: dict[str, ItemKind] = {}


def register_item_kind(kind: ItemKind) -> None:
    _REGISTRY[kind.code] = kind


def item_kind(code: str) -> ItemKind:
    return _REGISTRY[code]


def item_kinds() -> list[ItemKind]:
    """Every registered kind, in the order the apps registered them."""
    return list(_REGISTRY.values())


def item_type_of(item: Any) -> str:
    """The registered code of a model instance (its model's ``ITEM_TYPE``)."""
    return str(item.ITEM_TYPE)


def get_readable_item(code: str, user: Any, pk: int) -> Any:
    """The item whose correspondence ``user`` may read; 404 otherwise (never 403)."""
    from django.http import Http404

    kind = item_kind(code)
    item = kind.get_visible(user, pk)
    if not kind.can_read(user, item):
        raise Http404
    return item
