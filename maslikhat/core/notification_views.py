"""The notification pages: the bell's list, "open" (marks read) and "mark all read".

A person only ever reaches their own notifications: anyone else's is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from .notifications import (
    UNREAD_SHOWN,
    Notification,
    notification_mark_all_read,
    notification_mark_read,
    notifications_of,
    unread_count,
)
from .pagination import BoundedCountPaginator

PAGE_SIZE = 25


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first; unread ones are highlighted."""
    user: Any = request.user
    unread = unread_count(user)
    page = BoundedCountPaginator(notifications_of(user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "core/notifications.html",
        {
            "page": page,
            "rows": list(page.object_list),
            "unread": min(unread, UNREAD_SHOWN),
            "unread_more": unread > UNREAD_SHOWN,
        },
    )


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read and open what it is about."""
    try:
        notification = notification_mark_read(user=request.user, notification_id=pk)  # type: ignore[arg-type]
    except Notification.DoesNotExist as exc:
        raise Http404 from exc
    link = notification.link
    # The link is written by the portal itself; still, never redirect off the site.
    if link and url_has_allowed_host_and_scheme(
        link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(link)
    return redirect(reverse("core:notifications"))


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = notification_mark_all_read(user=request.user)  # type: ignore[arg-type]
    messages.success(
        request,
        ngettext(
            "%(count)d notification was marked as read.",
            "%(count)d notifications were marked as read.",
            count,
        )
        % {"count": count},
    )
    return redirect(reverse("core:notifications"))
