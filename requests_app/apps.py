from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    label = "requests_app"
    verbose_name = _("Deputy requests")

    def ready(self) -> None:
        from maslikhat.core.items import register_item_kind

        from .items import REQUEST_KIND

        register_item_kind(REQUEST_KIND)
