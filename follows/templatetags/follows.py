"""Template tags of following: the follow form on public pages, a user's follows in settings."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.urls import reverse

from follows.models import TargetKind
from follows.selectors import follows_of_email, target_label

register = template.Library()


@register.inclusion_tag("public/_follow.html", takes_context=True)
def follow_form(context: dict[str, Any], target: str, target_id: int) -> dict[str, Any]:
    """The small follow form for one public thing (``target`` is a ``TargetKind`` value)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    email = user.email if user is not None and user.is_authenticated else ""
    language = getattr(user, "language", "") if email else ""
    return {
        "target": target,
        "target_id": target_id,
        "target_label": TargetKind(target).label,
        "email": email,
        "language": language or getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE),
        "languages": settings.LANGUAGES,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("follows/_my_follows.html")
def my_follows(email: str) -> dict[str, Any]:
    """What an account's address follows, each with a button to stop it."""
    rows = [
        {"follow": f, "label": target_label(f.target_kind, f.target_id)}
        for f in follows_of_email(email)
    ]
    return {"rows": rows, "email": email}


#: The list's filters that name a thing one can follow, in the order the form picks them.
LIST_TARGETS = (("author", "deputy"), ("district", "district"), ("department", "department"))
#: The list's filters the feed understands.
FEED_FILTERS = ("district", "category", "author", "department", "status")


def _positive_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 0 < int(value) < 2**62 else None


@register.inclusion_tag("public/_follow.html", takes_context=True)
def list_follow_form(context: dict[str, Any]) -> dict[str, Any]:
    """The follow form of the deputy, district or department the public list is filtered by."""
    request = context.get("request")
    params = request.GET if request is not None else {}
    for param, target in LIST_TARGETS:
        pk = _positive_int(params.get(param))
        if pk is not None:
            return follow_form(context, target, pk)
    return {"target": None}


@register.simple_tag(takes_context=True)
def feed_url(context: dict[str, Any]) -> str:
    """The Atom feed's address with the public list's current filters."""
    request = context.get("request")
    params = request.GET if request is not None else {}
    query = urlencode([(k, params[k]) for k in FEED_FILTERS if params.get(k)])
    url = reverse("follows:feed-requests")
    return f"{url}?{query}" if query else url
