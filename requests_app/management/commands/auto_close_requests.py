"""``manage.py auto_close_requests [--date YYYY-MM-DD]``: the twin of the daily auto-close task."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from requests_app.services import deputy_requests_auto_close_due


class Command(BaseCommand):
    help = "Close answered requests not evaluated by their deputies within the evaluation period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="As of this date (YYYY-MM-DD); default: today.")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        if options["date"]:
            try:
                today = datetime.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("--date must be YYYY-MM-DD") from exc
        closed = deputy_requests_auto_close_due(today=today)
        self.stdout.write(f"Closed without evaluation: {closed}")
