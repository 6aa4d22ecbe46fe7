"""Pages of following by e-mail: the sign-up form, the confirmation and unsubscribe links, feeds."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from maslikhat.core.exceptions import PortalError, ValidationFailed

from . import services, throttles
from .feeds import PublishedRequestsFeed
from .forms import FollowForm
from .selectors import FeedFilterError


def _page(
    request: HttpRequest,
    *,
    title: str,
    message: str = "",
    form: FollowForm | None = None,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    context = {"title": title, "message": message, "form": form, "error": error}
    return render(request, "follows/page.html", context, status=status)


@require_http_methods(["GET", "POST"])
def follow(request: HttpRequest) -> HttpResponse:
    """Sign up to follow a public thing by e-mail (double opt-in: a confirmation link first)."""
    title = gettext("Follow by e-mail")
    if request.method == "GET":
        initial = {k: request.GET[k] for k in ("target", "id", "language") if k in request.GET}
        if request.user.is_authenticated:
            initial["email"] = request.user.email
        return _page(request, title=title, form=FollowForm(initial=initial))
    form = FollowForm(request.POST)
    if not form.is_valid():
        return _page(request, title=title, form=form, status=400)
    data = form.cleaned_data
    email = services.normalise_email(data["email"])
    if not throttles.sign_up_allowed(request, email):
        error = gettext("Too many sign-ups from here or for this address. Try again in an hour.")
        return _page(request, title=title, form=form, status=429, error=error)
    try:
        services.follow_subscribe(
            email=email,
            target_kind=data["target"],
            target_id=data["id"],
            language=data["language"],
        )
    except PortalError as exc:
        return _page(request, title=title, form=form, status=400, error=str(exc))
    message = gettext(
        "Almost done: we sent a link to %(email)s. Open it to confirm; until then nothing "
        "else is sent."
    ) % {"email": email}
    return _page(request, title=title, message=message)


@require_GET
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation e-mail: from now on the address gets the daily digest."""
    try:
        follow = services.follow_confirm(token=token)
    except ValidationFailed as exc:
        raise Http404 from exc
    if follow.unsubscribed_at is not None:
        message = gettext("You unsubscribed from this earlier; sign up again to follow it.")
    else:
        message = gettext(
            "Confirmed. You will receive at most one e-mail a day, only when something changes."
        )
    return _page(request, title=gettext("Following confirmed"), message=message)


# Mail programs send the one-click unsubscribe (RFC 8058) as a POST without a CSRF token;
# the unguessable token in the address is what authorises it.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Stop the e-mail: the link in every message, or a one-click POST to the same address."""
    try:
        services.follow_unsubscribe(token=token)
    except ValidationFailed as exc:
        raise Http404 from exc
    return _page(
        request,
        title=gettext("Unsubscribed"),
        message=gettext("You will receive no more e-mail about this."),
    )


@require_GET
def requests_feed(request: HttpRequest) -> HttpResponse:
    """The Atom feed of published requests, with the public list's filters."""
    try:
        return PublishedRequestsFeed()(request)
    except FeedFilterError:
        return HttpResponse(
            gettext("Unknown filter value in the feed's address."),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
