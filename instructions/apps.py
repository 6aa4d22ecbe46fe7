from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstructionsConfig(AppConfig):
    name = "instructions"
    label = "instructions"
    verbose_name = _("Protocol instructions")

    def ready(self) -> None:
        from maslikhat.core.items import register_item_kind

        from .items import INSTRUCTION_KIND

        register_item_kind(INSTRUCTION_KIND)
