"""``manage.py build_daily_counts``: the twin of the nightly ``reports.daily_counts_build``."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from reports.daily_counts import build_daily_counts, todays_run


class Command(BaseCommand):
    help = (
        "Rebuild the daily request and instruction counts (as of today, or --day YYYY-MM-DD); "
        "reruns replace."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", type=datetime.date.fromisoformat, default=None)
        parser.add_argument(
            "--unless-done",
            action="store_true",
            help="do nothing when today's build is already done (a catch-up after a missed night)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["unless_done"] and options["day"] is None:
            done = todays_run(timezone.localdate())
            if done is not None:
                self.stdout.write(f"Daily counts as of {done.day}: already done")
                return
        run = build_daily_counts(options["day"])
        self.stdout.write(
            f"Daily counts as of {run.day}: {run.rows} rows, "
            f"{run.instruction_rows} instruction rows"
        )
