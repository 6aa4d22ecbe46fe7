"""``manage.py create_commitments``: the promises of planned answers no signal saw."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from commitments.services import commitments_create_missing


class Command(BaseCommand):
    help = "Create the promise of every sent final answer with the outcome 'planned' that has none."

    def handle(self, *args: Any, **options: Any) -> None:
        made = commitments_create_missing()
        self.stdout.write(f"Promises created: {made}")
