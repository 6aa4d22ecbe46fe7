"""``manage.py sweep_export_jobs``: the twin of the every-minute export sweep task."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from reports.services import export_jobs_sweep


class Command(BaseCommand):
    help = (
        "Put export jobs whose worker stopped (their lease expired) back in the queue; "
        "fail those that ran out of attempts."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = export_jobs_sweep()
        self.stdout.write(
            f"Restarted: {len(result.requeued)} {result.requeued}; "
            f"failed: {len(result.failed)} {result.failed}"
        )
