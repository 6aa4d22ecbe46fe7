"""``manage.py send_follow_digests [--date YYYY-MM-DD]``: the daily follower digest by hand.

The twin of the beat task ``follows.send_digests``: records the digests of the day's
public changes (yesterday by default) and sends them now, in this process. Safe to run
again: an address gets at most one digest a day.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from follows.services import follow_digests_create, follow_email_send


class Command(BaseCommand):
    help = "Send followers the digest of a day's public changes (yesterday by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="The day whose changes to send, YYYY-MM-DD.")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = options.get("date")
        try:
            day = (
                datetime.date.fromisoformat(raw)
                if raw
                else timezone.localdate() - datetime.timedelta(days=1)
            )
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD, not {raw!r}") from exc
        result = follow_digests_create(day=day)
        sent = sum(follow_email_send(outgoing_id=pk) for pk in result.pending_ids)
        self.stdout.write(f"{day.isoformat()}: {result.created} digest(s) recorded, {sent} sent.")
