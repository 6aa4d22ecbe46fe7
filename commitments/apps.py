from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommitmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "commitments"
    verbose_name = _("Promises")

    def ready(self) -> None:
        # requests_app sends ``final_answer_sent`` and ``final_answer_returned``; it never
        # imports this app (the layers).
        from requests_app.signals import final_answer_returned, final_answer_sent

        from .services import commitment_on_answer_returned, commitment_on_final_answer

        final_answer_sent.connect(commitment_on_final_answer, dispatch_uid="commitments-create")
        final_answer_returned.connect(
            commitment_on_answer_returned, dispatch_uid="commitments-withdraw"
        )

        # The promises' part of the daily reminder sweep (core knows no promise).
        from maslikhat.core.reminders import register_reminders_part

        from .reminders import REASONS, CommitmentReminders

        register_reminders_part(CommitmentReminders, REASONS)

        # The promise card on the request's page (requests_app shows the cards registered).
        from requests_app.panels import register_history_labels, register_request_panel

        from .views import HISTORY_LABELS, promise_card

        register_request_panel("promise", promise_card)
        register_history_labels(HISTORY_LABELS)
