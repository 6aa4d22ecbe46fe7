"""``manage.py backup``: the database and the uploaded files in one archive (``make backup``).

The logic, and what the archive holds, is in ``maslikhat/core/backups.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from maslikhat.core import backups
from maslikhat.core.storage import is_local


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump or SQLite's online backup) and the uploaded files "
        "into one .tar.gz with a manifest of checksums, under var/backups/ by default."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help="Where to write the archive (a file, or a directory for the default name).",
        )

    def handle(self, *args: Any, output: Path | None, **options: Any) -> None:
        try:
            result = backups.backup_create(output=output)
        except backups.BackupError as error:
            raise CommandError(str(error.message)) from error
        except DatabaseError as error:
            raise CommandError(
                _("The database could not be reached: %(error)s") % {"error": error}
            ) from error
        manifest = result.manifest
        media = manifest.media_files
        database = next(f for f in manifest.files if f.path == manifest.database_file)
        self.stdout.write(
            self.style.SUCCESS(
                _("Backup written to %(path)s (%(size)s).")
                % {"path": result.path, "size": filesizeformat(result.archive_size)}
            )
        )
        self.stdout.write(
            _("Database: %(engine)s, %(size)s; the migration state of every app is recorded.")
            % {
                "engine": backups.ENGINE_NAMES[manifest.engine],
                "size": filesizeformat(database.size),
            }
        )
        if not is_local():
            self.stdout.write(
                _(
                    "Uploaded files are kept in the object store (bucket %(bucket)s) and are "
                    "not in this archive: the store backs them up (versioning, replication)."
                )
                % {"bucket": settings.AWS_STORAGE_BUCKET_NAME}
            )
            return
        self.stdout.write(
            ngettext(
                "Uploaded files: %(count)d file, %(size)s.",
                "Uploaded files: %(count)d files, %(size)s.",
                len(media),
            )
            % {"count": len(media), "size": filesizeformat(sum(f.size for f in media))}
        )
