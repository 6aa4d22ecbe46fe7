"""Atom feed of published requests: the public list's filters, the public fields only."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext

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
