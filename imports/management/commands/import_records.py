"""``manage.py import_records FILE --kind requests|instructions [--dry-run]``.

The page's check and write without the page: a file with any error, or any name that
matches nothing exactly, imports nothing and the command lists the rows and the close
matches. Names are matched by hand with ``--names FILE.json``
(``{"department": {"name in the file": "name or code in the directory"}, …}``) and
columns with ``--columns FILE.json`` (``{"header in the file": "field code"}``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imports.models import ImportKind
from imports.services import import_path
from maslikhat.accounts.models import Role, User
from maslikhat.core.exceptions import ValidationFailed


class Command(BaseCommand):
    help = "Import past deputy requests or protocol instructions from an Excel or CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--kind", required=True, choices=ImportKind.values)
        parser.add_argument("--dry-run", action="store_true", help="Check only; write nothing.")
        parser.add_argument(
            "--user", help="The importer's user name (default: the first staff user)."
        )
        parser.add_argument("--names", type=Path, help="JSON: names matched by hand.")
        parser.add_argument("--columns", type=Path, help="JSON: headers mapped to fields.")

    def _json(self, path: Path | None) -> Any:
        if path is None:
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"{path}: {exc}") from exc

    def _user(self, username: str | None) -> User:
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user {username!r}.")
            return user
        user = (
            User.objects.filter(role=Role.STAFF, is_active=True).order_by("id").first()
            or User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
        )
        if user is None:
            raise CommandError("No staff user to record as the importer: pass --user.")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        user = self._user(options.get("user"))
        started = time.monotonic()
        try:
            outcome = import_path(
                path,
                kind=options["kind"],
                by=user,
                columns=self._json(options.get("columns")),
                names=self._json(options.get("names")),
                dry_run=options["dry_run"],
            )
        except ValidationFailed as exc:
            raise CommandError(str(exc.message)) from exc
        check = outcome.check
        seconds = time.monotonic() - started
        if check.missing:
            raise CommandError("Columns missing: " + ", ".join(check.missing))
        for issue in check.issues[:200]:
            self.stdout.write(f"row {issue.row}: {issue.column}: {issue.message}")
        for unknown in check.unknown.values():
            offered = ", ".join(f"{s['label']} ({s['score']})" for s in unknown.suggestions[:5])
            rows = ", ".join(str(r) for r in unknown.rows[:10])
            self.stdout.write(
                f"unknown {unknown.group} “{unknown.name}” (rows {rows}); "
                f"close matches: {offered or 'none'}"
            )
        summary = (
            f"{check.total} rows: {len(check.records)} new, {check.skipped} already imported, "
            f"{len(check.error_rows)} with errors, {len(check.unknown)} unknown names "
            f"({seconds:.1f} s)."
        )
        if not check.ok:
            raise CommandError(summary + " Nothing was imported.")
        if outcome.batch is None:
            self.stdout.write(summary + " Dry run: nothing was written.")
            return
        self.stdout.write(
            self.style.SUCCESS(f"{summary} Imported {outcome.batch.created_count} items.")
        )
