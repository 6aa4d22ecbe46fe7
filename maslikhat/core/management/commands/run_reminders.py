"""``manage.py run_reminders [--date YYYY-MM-DD] [--force] [--send]``: the daily sweep by hand.

The twin of the beat task ``requests.reminders_sweep``: the same service, for any
day. Safe to repeat — a second run for the same day finds everything recorded and
prints zero new.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from maslikhat.core.digests import digest_send
from maslikhat.core.reminders import RULES, reminders_sweep
from maslikhat.core.resources import cost_line


class Command(BaseCommand):
    help = (
        "Record the deadline reminders and escalations due on a day (in-app notifications) "
        "and create each recipient's e-mail digest. Without --send the digests are handed "
        "to the Celery broker after the run (a running worker sends them; with the broker "
        "down they stay pending for the next catch-up); with --send this command sends them "
        "itself through the configured e-mail backend. Repeating a run adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date", help="The day to remind of (YYYY-MM-DD); default: today in Asia/Almaty."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even if the day is not a working day (normally nothing is sent then).",
        )
        parser.add_argument(
            "--send",
            action="store_true",
            help="Send the day's unsent digests from this process instead of via the broker.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day = timezone.localdate()
        if options["date"]:
            try:
                day = datetime.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("--date must be YYYY-MM-DD") from exc
        started = time.monotonic()
        result = reminders_sweep(day=day, force=options["force"], enqueue=not options["send"])
        seconds = time.monotonic() - started
        label = day.strftime("%d.%m.%Y")
        if not result.ran:
            self.stdout.write(f"{label} is not a working day: nothing to do (--force runs anyway).")
            self.stdout.write(f"Done {cost_line(seconds)}")
            return
        items = ", ".join(f"{rule} {result.items[rule]}" for rule in RULES if result.items[rule])
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(result.by_kind.items()))
        self.stdout.write(f"Reminders for {label}")
        self.stdout.write(f"  matching items: {items or 'none'}")
        self.stdout.write(
            f"  new notifications: {result.notifications}" + (f" ({kinds})" if kinds else "")
        )
        self.stdout.write(f"  new digest e-mails: {result.digests}")
        if options["send"]:
            sent = failed = 0
            for pk in result.digest_ids:
                try:
                    sent += digest_send(outgoing_id=pk)
                except Exception as exc:  # recorded on the row; the catch-up retries it
                    failed += 1
                    self.stderr.write(f"  digest {pk} failed: {exc!r}")
            self.stdout.write(
                f"  digests sent now: {sent}" + (f", failed: {failed}" if failed else "")
            )
        elif result.digest_ids:
            self.stdout.write(f"  digests handed to the broker: {len(result.digest_ids)}")
        rate = result.notifications / seconds if seconds > 0 else 0.0
        # The sweep's time (sending excluded) and the process's peak memory.
        self.stdout.write(f"  swept {cost_line(seconds)} ({rate:.0f} notifications/s)")
