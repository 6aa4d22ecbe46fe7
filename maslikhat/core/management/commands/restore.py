"""``manage.py restore PATH [--force]``: the database and the uploaded files from a backup.

Everything is checked before anything is changed (``maslikhat/core/backups.py``); stop the
portal and its worker first (docs/operations.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from maslikhat.core import backups


class Command(BaseCommand):
    help = (
        "Restore the database named by the settings and MEDIA_ROOT from a backup archive. "
        "Refuses a non-empty database or media directory unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="The .tar.gz written by `manage.py backup`.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace a database that has tables and write over existing uploaded files.",
        )

    def handle(self, *args: Any, archive: Path, force: bool, **options: Any) -> None:
        try:
            result = backups.restore_archive(archive=archive, force=force)
        except backups.BackupError as error:
            raise CommandError(str(error.message)) from error
        except DatabaseError as error:
            raise CommandError(
                _("The database could not be reached: %(error)s") % {"error": error}
            ) from error
        manifest = result.manifest
        self.stdout.write(
            _("Backup %(path)s checked: made %(created)s from %(engine)s, every checksum matches.")
            % {
                "path": archive,
                "created": manifest.created_at,
                "engine": backups.ENGINE_NAMES[manifest.engine],
            }
        )
        self.stdout.write(
            self.style.SUCCESS(_("Database %(name)s restored.") % {"name": result.database_name})
        )
        self.stdout.write(
            ngettext(
                "Uploaded files: %(count)d file restored into %(path)s.",
                "Uploaded files: %(count)d files restored into %(path)s.",
                result.media_restored,
            )
            % {"count": result.media_restored, "path": result.media_root}
        )
        if result.media_kept:
            self.stdout.write(
                ngettext(
                    "%(count)d file that was already there and is not in the backup "
                    "was left in place.",
                    "%(count)d files that were already there and are not in the backup "
                    "were left in place.",
                    result.media_kept,
                )
                % {"count": result.media_kept}
            )
        if result.unknown_migrations:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "The backup has migrations this version of the portal does not know "
                        "(%(migrations)s): deploy the version that made the backup."
                    )
                    % {"migrations": ", ".join(result.unknown_migrations)}
                )
            )
        if result.pending_migrations:
            self.stdout.write(
                self.style.WARNING(
                    ngettext(
                        "%(count)d migration of this version is not applied in the backup: "
                        "run `manage.py migrate`.",
                        "%(count)d migrations of this version are not applied in the backup: "
                        "run `manage.py migrate`.",
                        len(result.pending_migrations),
                    )
                    % {"count": len(result.pending_migrations)}
                )
            )
