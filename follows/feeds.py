"""Atom feeds of the public portal: published requests and protocol instructions.

Each has its public list's filters and shows only that list's public fields.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext

from instructions.models import Instruction
from reports import public
from requests_app.models import DeputyRequest

from . import selectors


class PublishedRequestsFeed(Feed):
    """``/public/feeds/requests.atom[?district=&category=&author=&department=&status=]``."""

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # Raises FeedFilterError on an unknown filter value; the view answers 400.
        return list(selectors.feed_requests(request.GET))

    def title(self) -> str:
        return gettext("Almaty city maslikhat: published deputy requests")

    def subtitle(self) -> str:
        return gettext("Requests their deputies published, with their status.")

    def link(self) -> str:
        return reverse("reports:public-requests")

    def items(self, obj: list[DeputyRequest]) -> list[DeputyRequest]:
        return obj

    def item_title(self, item: DeputyRequest) -> str:
        return f"{item.number} {item.title}"

    def item_description(self, item: DeputyRequest) -> str:
        return f"{item.get_status_display()}. {item.body}"

    def item_link(self, item: DeputyRequest) -> str:
        return reverse("reports:public-request", args=[item.pk])

    def item_guid(self, item: DeputyRequest) -> str:
        return f"{settings.PORTAL_BASE_URL.rstrip('/')}/public/requests/{item.pk}/"

    item_guid_is_permalink = True

    def item_pubdate(self, item: DeputyRequest) -> Any:
        return item.submitted_at

    def item_updateddate(self, item: DeputyRequest) -> Any:
        return item.closed_at or item.answered_at or item.submitted_at

    def item_author_name(self, item: DeputyRequest) -> str:
        return str(item.author.name)

    def item_categories(self, item: DeputyRequest) -> list[str]:
        return [str(item.category.name)]


class PublicInstructionsFeed(Feed):
    """``/public/feeds/instructions.atom[?search=&department=&meeting=&status=]``.

    The public instruction list's filters and fields: never a report staff did not publish.
    """

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        filterset = public.public_instruction_list(request.GET)
        if not filterset.is_valid():
            raise selectors.FeedFilterError(filterset.errors)
        return list(filterset.qs[: selectors.FEED_SIZE])

    def title(self) -> str:
        return gettext("Almaty city maslikhat: protocol instructions")

    def subtitle(self) -> str:
        return gettext("What the sessions and commissions instructed, by when, and whether done.")

    def link(self) -> str:
        return reverse("reports:public-instructions")

    def items(self, obj: list[Instruction]) -> list[Instruction]:
        return obj

    def item_title(self, item: Instruction) -> str:
        return gettext("Instruction %(number)s of protocol No. %(protocol)s") % {
            "number": item.number,
            "protocol": item.protocol.number,
        }

    def item_description(self, item: Instruction) -> str:
        labels = dict(public.PublicInstructionStatus.choices)
        status = labels[public.public_instruction_status(item)]
        due = gettext("due %(date)s") % {"date": item.due_date.strftime("%d.%m.%Y")}
        return f"{status}, {due}. {item.lead_department.name}. {item.text}"

    def item_link(self, item: Instruction) -> str:
        return reverse("reports:public-instruction", args=[item.pk])

    def item_guid(self, item: Instruction) -> str:
        return f"{settings.PORTAL_BASE_URL.rstrip('/')}/public/instructions/{item.pk}/"

    item_guid_is_permalink = True

    def item_pubdate(self, item: Instruction) -> Any:
        return item.created_at

    def item_updateddate(self, item: Instruction) -> Any:
        return item.executed_at or item.removed_at or item.created_at

    def item_categories(self, item: Instruction) -> list[str]:
        return [str(item.protocol.meeting.get_kind_display())]


def instructions_feed(request: HttpRequest) -> HttpResponse:
    """The Atom feed of public instructions; an unknown filter value is a 400, never a 500."""
    try:
        return PublicInstructionsFeed()(request)
    except selectors.FeedFilterError:
        return HttpResponse(
            gettext("Unknown filter value in the feed's address."),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
