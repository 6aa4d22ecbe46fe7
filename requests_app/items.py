"""Deputy requests as an item kind of the shared machinery (threads, attachments, history)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from maslikhat.core.items import ItemKind, ItemType
from maslikhat.directory.actors import actor_for

from . import permissions
from .models import DeputyRequest, Instruction


def _get_visible(user: Any, pk: int) -> DeputyRequest:
    from .selectors import deputy_request_get_visible

    return deputy_request_get_visible(user=user, pk=pk)


def _can_read(user: Any, item: DeputyRequest) -> bool:
    return permissions.can_read_correspondence(actor_for(user), item)


def _can_write(user: Any, item: DeputyRequest) -> bool:
    return permissions.can_attach(actor_for(user), item)


def _services() -> Any:
    from . import services

    return services


def _url(item: DeputyRequest) -> str:
    try:
        return reverse("requests:detail", args=[item.pk])
    except Exception:  # the pages are not mounted (e.g. a worker without URLconf)
        return f"/requests/{item.pk}/"


REQUEST_KIND = ItemKind(
    code=ItemType.REQUEST,
    verbose_name=_("deputy request"),
    get_visible=_get_visible,
    can_read=_can_read,
    can_write=_can_write,
    url=_url,
    label=lambda item: str(item),
    post_message=lambda **kwargs: _services().deputy_request_message_post(**kwargs),
    add_attachment=lambda **kwargs: _services().deputy_request_attachment_add(**kwargs),
)


def _instruction_get_visible(user: Any, pk: int) -> Instruction:
    from .instruction_selectors import instruction_get_visible

    return instruction_get_visible(user=user, pk=pk)


def _instruction_can_write(user: Any, item: Instruction) -> bool:
    from . import instruction_permissions

    return instruction_permissions.can_write_thread(actor_for(user), item)


def _instruction_services() -> Any:
    from . import instruction_services

    return instruction_services


def _instruction_url(item: Instruction) -> str:
    try:
        return reverse("instructions:detail", args=[item.pk])
    except Exception:  # the pages are not mounted (e.g. a worker without URLconf)
        return f"/instructions/{item.pk}/"


INSTRUCTION_KIND = ItemKind(
    code=ItemType.INSTRUCTION,
    verbose_name=_("protocol instruction"),
    get_visible=_instruction_get_visible,
    # Whoever may see an instruction is one of its participants.
    can_read=lambda user, item: True,
    can_write=_instruction_can_write,
    url=_instruction_url,
    label=lambda item: str(item),
    post_message=lambda **kwargs: _instruction_services().instruction_message_post(**kwargs),
    add_attachment=lambda **kwargs: _instruction_services().instruction_attachment_add(**kwargs),
)
