from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommitmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "commitments"
    verbose_name = _("Promises")

    def ready(self) -> None:
        # requests_app sends ``final_answer_sent``; it never imports this app (the layers).
        from requests_app.signals import final_answer_sent

        from .services import commitment_on_final_answer

        final_answer_sent.connect(commitment_on_final_answer, dispatch_uid="commitments-create")

        # The promise card on the request's page (requests_app shows the cards registered).
        from requests_app.panels import register_request_panel

        from .views import promise_card

        register_request_panel("promise", promise_card)
