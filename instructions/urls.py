"""Browser pages of protocol instructions at ``/instructions/`` (namespace ``instructions``).

Every action has its own address that takes a POST and calls exactly one
service (``views.ACTIONS``).
"""

from django.urls import URLPattern, path

from . import views

app_name = "instructions"


def _action(route: str, action: str, name: str) -> URLPattern:
    return path(route, views.instruction_action, {"action": action}, name=name)


urlpatterns = [
    path("", views.instruction_list, name="list"),
    path("discipline/", views.discipline, name="discipline"),
    path("meetings/", views.meeting_list, name="meetings"),
    path("meetings/new/", views.meeting_new, name="meeting_new"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("protocols/<int:pk>/", views.protocol_detail, name="protocol"),
    path("<int:pk>/", views.instruction_detail, name="detail"),
    _action("<int:pk>/report/", "report", "report"),
    _action("<int:pk>/accept/", "accept", "accept"),
    _action("<int:pk>/return/", "return", "return"),
    _action("<int:pk>/extensions/", "extension_ask", "extension_ask"),
    _action("<int:pk>/extensions/<int:sub_id>/decide/", "extension_decide", "extension_decide"),
    _action("<int:pk>/remove-from-control/", "remove", "remove"),
    _action("<int:pk>/reports/<int:sub_id>/publish/", "publish_report", "report_publish"),
    _action("<int:pk>/messages/", "message", "message"),
    _action("<int:pk>/attachments/", "attachment", "attachment"),
]
