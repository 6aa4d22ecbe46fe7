"""``manage.py build_daily_counts``: the twin of the nightly ``reports.daily_counts_build``."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports.daily_counts import build_daily_counts


class Command(BaseCommand):
    help = (
        "Rebuild the daily request and instruction counts (as of today, or --day YYYY-MM-DD); "
        "reruns replace."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", type=datetime.date.fromisoformat, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        run = build_daily_counts(options["day"])
        self.stdout.write(
            f"Daily counts as of {run.day}: {run.rows} rows, "
            f"{run.instruction_rows} instruction rows"
        )
