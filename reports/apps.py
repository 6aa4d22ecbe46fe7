from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    label = "reports"
    verbose_name = _("Dashboards, exports and the public portal")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from instructions.selectors import register_discipline_reader

        from .aggregates import install_sqlite_functions
        from .instruction_counts import instruction_discipline

        # SQLite has no median: give every new connection the reports' own aggregate.
        connection_created.connect(install_sqlite_functions, dispatch_uid="reports-sqlite-median")
        # The instruction pages' discipline table reads the nightly instruction counts.
        register_discipline_reader(instruction_discipline)
