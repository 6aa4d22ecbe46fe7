"""``manage.py compute_kpi [--date YYYY-MM-DD] [--period P]``: the twin of the nightly task.

``--date`` is the snapshot date (as of; default yesterday, as the nightly run at 02:00).
Without ``--period`` it computes what the nightly run computes: that date's month,
quarter and year, rolling90 and the sitting convocation, then the rater flags. With
``--period`` (repeatable) it computes those periods, each as of ``--date`` or as of the
period's last day when that is earlier — so ``compute_kpi --period 2026-Q1`` backfills a
past quarter, and running it again replaces the same rows.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kpi import services
from kpi.periods import Period
from maslikhat.core.exceptions import ValidationFailed
from maslikhat.core.resources import cost_line


class Command(BaseCommand):
    help = "Compute the KPI snapshots as of a date (default yesterday), for the given periods."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="The snapshot date, YYYY-MM-DD (default: yesterday).")
        parser.add_argument(
            "--period",
            action="append",
            default=[],
            help="2026-07, 2026-Q3, 2026, rolling90 or conv-8; may be repeated. Default: the "
            "date's month, quarter and year, rolling90 and the sitting convocation.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = timezone.localdate() - datetime.timedelta(days=1)
        if options["date"]:
            try:
                as_of = datetime.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("--date must be YYYY-MM-DD") from exc
        started = time.monotonic()
        try:
            if options["period"]:
                runs = []
                for key in options["period"]:
                    period = Period.parse(key)
                    # A convocation's end is read by the service; other periods end here.
                    _start, end = period.natural_bounds(as_of, (datetime.date.min, None))
                    runs.append(services.kpi_compute(as_of=min(end, as_of), period=period.key))
                services.rater_flags_detect(as_of=as_of)
            else:
                runs = services.kpi_compute_current(as_of=as_of)
        except ValidationFailed as exc:
            raise CommandError(str(exc.message)) from exc
        for run in runs:
            self.stdout.write(f"{run.period} as of {run.as_of:%Y-%m-%d}: {run.status}")
        # Time and peak memory: the nightly run's cost, watched as the data grows.
        self.stdout.write(f"{len(runs)} period(s) {cost_line(time.monotonic() - started)}")
