"""What browsers and proxies may keep: nothing private.

A deputy's correspondence, a department's queue or an API token must not stay in a
shared computer's browser cache or on a proxy after the person has left. Every answer
to a signed-in browser (it carries the session cookie, or receives one) and every API
answer is marked ``Cache-Control: no-store``. Anonymous pages of the public portal stay
cacheable, and static files never reach this middleware (WhiteNoise answers them first).

The test looks only at the request's cookies, headers and path, never at the user, so
it costs no query.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers

#: The REST API, its schema and documentation: private or token-bearing answers.
API_PREFIX = "/api/"


def is_private_exchange(request: HttpRequest, response: HttpResponseBase) -> bool:
    """Whether the answer belongs to one person (signed in, or speaking to the API)."""
    session_cookie = settings.SESSION_COOKIE_NAME
    return (
        request.path_info.startswith(API_PREFIX)
        or "HTTP_AUTHORIZATION" in request.META
        or session_cookie in request.COOKIES
        or session_cookie in response.cookies
    )


class PrivateResponsesNotStoredMiddleware:
    """Adds ``Cache-Control: no-store, private`` to private answers (pages, API, downloads)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if is_private_exchange(request, response):
            add_never_cache_headers(response)
        return response
