"""Every URL pattern of the portal must be reached by the suite.

The test settings add ``RecordResolvedRouteMiddleware``; it records the route
of every request the suite makes (test client, API client, live server). At the
end of a full run (``URL_COVERAGE=1``, set by ``make test``) the conftest fails
the run when a pattern of the portal was never reached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver

RESOLVED_ROUTES: set[str] = set()

# Patterns that are Django's or a library's own, tested by their authors.
IGNORED_PREFIXES = ("admin/",)
IGNORED_FRAGMENTS = ("(?P<format>", "<drf_format_suffix:format>")


class RecordResolvedRouteMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None:
            RESOLVED_ROUTES.add(match.route)
        return response


def _walk(patterns: list, prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        route = URLResolver._join_route(prefix, str(pattern.pattern))  # type: ignore[attr-defined]
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def all_routes() -> set[str]:
    return {
        route
        for route in _walk(get_resolver().url_patterns)
        if not route.startswith(IGNORED_PREFIXES)
        and not any(fragment in route for fragment in IGNORED_FRAGMENTS)
    }


def unreached_routes() -> list[str]:
    return sorted(all_routes() - RESOLVED_ROUTES)
