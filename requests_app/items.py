"""Deputy requests as an item kind of the shared machinery (threads, attachments, history)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from maslikhat.accounts.roles import is_deputy_role
from maslikhat.core.items import ItemKind, ItemType
from maslikhat.directory.actors import actor_for

from . import permissions
from .models import DeputyRequest
from .reminders import RequestReminders


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
    reminders=RequestReminders,
    # The two sides of a request's thread: the deputies, and the departments with staff.
    thread_side=lambda user: "deputies" if is_deputy_role(user.role) else "akimat",
)
