"""Protocol instructions as an item kind of the shared machinery (threads, attachments, history)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from maslikhat.core.items import ItemKind, ItemType
from maslikhat.directory.actors import actor_for

from .models import Instruction
from .reminders import InstructionReminders


def _get_visible(user: Any, pk: int) -> Instruction:
    from .selectors import instruction_get_visible

    return instruction_get_visible(user=user, pk=pk)


def _can_write(user: Any, item: Instruction) -> bool:
    from . import permissions

    return permissions.can_write_thread(actor_for(user), item)


def _services() -> Any:
    from . import services

    return services


def _url(item: Instruction) -> str:
    try:
        return reverse("instructions:detail", args=[item.pk])
    except Exception:  # the pages are not mounted (e.g. a worker without URLconf)
        return f"/instructions/{item.pk}/"


INSTRUCTION_KIND = ItemKind(
    code=ItemType.INSTRUCTION,
    verbose_name=_("protocol instruction"),
    get_visible=_get_visible,
    # Whoever may see an instruction is one of its participants.
    can_read=lambda user, item: True,
    can_write=_can_write,
    url=_url,
    label=lambda item: str(item),
    post_message=lambda **kwargs: _services().instruction_message_post(**kwargs),
    add_attachment=lambda **kwargs: _services().instruction_attachment_add(**kwargs),
    reminders=InstructionReminders,
)
