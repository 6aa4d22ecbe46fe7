"""Pages of the reports app. For now: the home page of every role."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from maslikhat.accounts.models import Role

from .navigation import items_for, role_of

GREETINGS = {
    Role.DEPUTY: "reports/home/deputy.html",
    Role.EXECUTOR: "reports/home/department.html",
    Role.HEAD: "reports/home/department.html",
    Role.STAFF: "reports/home/council.html",
    Role.CHAIR: "reports/home/council.html",
    Role.ADMIN: "reports/home/admin.html",
}


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: what this role can do here now, and what comes next."""
    role = role_of(request)
    available, coming = items_for(role)
    template = GREETINGS.get(role, "reports/home/anonymous.html")  # type: ignore[call-overload]
    return render(
        request,
        template,
        {
            "available": available,
            "coming": coming,
            "role_label": Role(role).label if role in Role.values else "",
        },
    )
