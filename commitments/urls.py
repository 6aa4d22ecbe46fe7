"""Browser pages of promises, mounted at ``/commitments/`` (namespace ``commitments``).

The list, and one address per action of the promise card (a POST calling one service).
"""

from django.urls import URLPattern, path

from . import views

app_name = "commitments"


def _action(action: str) -> URLPattern:
    return path(f"<int:pk>/{action}/", views.commitment_action, {"action": action}, name=action)


urlpatterns = [
    path("", views.commitment_list, name="list"),
    *(_action(action) for action in views.ACTIONS),
]
