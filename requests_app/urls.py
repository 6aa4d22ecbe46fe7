"""Browser pages of deputy requests, mounted at ``/requests/`` (namespace ``requests``).

Every action has its own address (``requests:<action>``) that takes a POST and
calls exactly one service (``views.ACTIONS``).
"""

from django.urls import URLPattern, path

from . import views

app_name = "requests"


def _action(route: str, action: str, name: str) -> URLPattern:
    return path(route, views.request_action, {"action": action}, name=name)


urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.request_new, name="new"),
    path("similar/", views.request_similar, name="similar"),
    path("<int:pk>/", views.request_detail, name="detail"),
    path("<int:pk>/edit/", views.request_edit, name="edit"),
    _action("<int:pk>/submit/", "submit", "submit"),
    _action("<int:pk>/withdraw/", "withdraw", "withdraw"),
    _action("<int:pk>/route/", "route", "route"),
    _action("<int:pk>/decline/", "decline", "decline"),
    _action("<int:pk>/assign/", "assign", "assign"),
    _action("<int:pk>/redirect/", "redirect", "redirect"),
    _action("<int:pk>/reroute/", "reroute", "reroute"),
    _action("<int:pk>/clarification/", "clarify", "clarify"),
    _action("<int:pk>/clarification/answer/", "answer_clarification", "clarification-answer"),
    _action("<int:pk>/respond/", "respond", "respond"),
    _action("<int:pk>/responses/<int:sub_id>/approve/", "response_approve", "response-approve"),
    _action("<int:pk>/responses/<int:sub_id>/return/", "response_return", "response-return"),
    _action("<int:pk>/evaluate/", "evaluate", "evaluate"),
    _action("<int:pk>/rate-request/", "rate_request", "rate-request"),
    _action("<int:pk>/extensions/", "extension_ask", "extension-ask"),
    _action("<int:pk>/extensions/<int:sub_id>/decide/", "extension_decide", "extension-decide"),
    _action("<int:pk>/publish/", "publish", "publish"),
    _action("<int:pk>/messages/", "message", "message"),
    _action("<int:pk>/attachments/", "attach", "attach"),
]
