"""Backups of the portal and their restore: the database and the uploaded files in one archive.

An archive (``var/backups/maslikhat-<YYYYMMDD-HHMMSS>-<engine>.tar.gz``) holds:

- ``database.dump`` (PostgreSQL: ``pg_dump --format=custom``) or ``database.sqlite3``
  (SQLite: a copy made with SQLite's online backup API, safe while the portal runs);
- ``media/…``: every file under ``MEDIA_ROOT`` — the attachments
  (``attachments/YYYY/MM/<generated name>``) and the export files (``exports/``). Only
  with ``FILE_STORAGE=local``: files in an object store (``FILE_STORAGE=s3``) are backed up
  by the store itself (bucket versioning and replication, docs/deployment.md), and the
  archive then holds the database only;
- ``manifest.json``: when, which engine, the latest applied migration of every app, the
  versions of the PostgreSQL tools, and the size and SHA-256 of every other file.

The database is copied before the files. An attachment's file is stored before its row
is committed, so every file the copied database names is already on disk when the files
are read; a file uploaded meanwhile is only an unreferenced extra.

Restore checks the whole archive against its manifest before it touches anything, refuses
an archive of the other engine, and refuses to replace a database that already has tables
or a media directory that already has files unless forced. docs/operations.md tells the
operator's side.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.translation import gettext as _

from .exceptions import PortalError
from .storage import is_local

Engine = Literal["sqlite", "postgresql"]

ARCHIVE_FORMAT = "maslikhat-backup"
ARCHIVE_VERSION = 1
MANIFEST_NAME = "manifest.json"
MEDIA_PREFIX = "media/"
DATABASE_MEMBERS: dict[Engine, str] = {
    "sqlite": "database.sqlite3",
    "postgresql": "database.dump",
}
ENGINE_NAMES: dict[Engine, str] = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
CHUNK = 1024 * 1024


class BackupError(PortalError):
    """A backup or a restore that cannot go on; the message tells the operator why."""

    code = "backup_failed"


@dataclass(frozen=True)
class ArchivedFile:
    """One file of an archive, as its manifest lists it."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What an archive holds; written last into the archive as ``manifest.json``."""

    created_at: str
    engine: Engine
    database_file: str
    migrations: dict[str, str]
    files: tuple[ArchivedFile, ...]
    tools: dict[str, str] = field(default_factory=dict)

    @property
    def media_files(self) -> list[ArchivedFile]:
        return [f for f in self.files if f.path.startswith(MEDIA_PREFIX)]

    def to_json(self) -> dict[str, Any]:
        media = self.media_files
        return {
            "format": ARCHIVE_FORMAT,
            "version": ARCHIVE_VERSION,
            "created_at": self.created_at,
            "engine": self.engine,
            "database_file": self.database_file,
            "migrations": self.migrations,
            "tools": self.tools,
            "media_file_count": len(media),
            "media_bytes": sum(f.size for f in media),
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """Read a manifest; ``ValueError`` says what is wrong with it."""
        if not isinstance(data, dict) or data.get("format") != ARCHIVE_FORMAT:
            raise ValueError("not a manifest of a portal backup")
        if data.get("version") != ARCHIVE_VERSION:
            raise ValueError(f"unknown manifest version {data.get('version')!r}")
        engine = data.get("engine")
        if engine not in DATABASE_MEMBERS:
            raise ValueError(f"unknown database engine {engine!r}")
        database_file = DATABASE_MEMBERS[engine]
        if data.get("database_file") != database_file:
            raise ValueError("the database file does not match the engine")
        files = tuple(
            ArchivedFile(path=str(row["path"]), size=int(row["size"]), sha256=str(row["sha256"]))
            for row in data.get("files", [])
        )
        for entry in files:
            if not is_safe_member_name(entry.path) or entry.path == MANIFEST_NAME:
                raise ValueError(f"unexpected file name {entry.path!r}")
        if database_file not in {f.path for f in files}:
            raise ValueError("the database file is not listed")
        return cls(
            created_at=str(data.get("created_at", "")),
            engine=engine,
            database_file=database_file,
            migrations={str(k): str(v) for k, v in dict(data.get("migrations", {})).items()},
            files=files,
            tools={str(k): str(v) for k, v in dict(data.get("tools", {})).items()},
        )


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest
    archive_size: int


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    database_name: str
    media_root: Path
    media_restored: int
    #: Files that were in MEDIA_ROOT before and are not in the backup (left in place).
    media_kept: int
    #: Migrations of this code that the restored database has not applied yet.
    pending_migrations: list[str]
    #: Migrations the restored database has applied that this code does not know.
    unknown_migrations: list[str]


# --- Shared helpers ------------------------------------------------------------------------


def engine_of(using: str = DEFAULT_DB_ALIAS) -> Engine:
    vendor = connections[using].vendor
    if vendor == "sqlite":
        return "sqlite"
    if vendor == "postgresql":
        return "postgresql"
    raise BackupError(
        _("The database engine %(engine)s is not supported by backups: use PostgreSQL or SQLite.")
        % {"engine": vendor}
    )


def database_name(using: str = DEFAULT_DB_ALIAS) -> str:
    return str(connections[using].settings_dict["NAME"])


def reason(error: BaseException) -> str:
    """An exception's text as the end of a sentence (without its own full stop)."""
    return str(error).strip().rstrip(".")


def backups_dir() -> Path:
    return Path(settings.VAR_DIR) / "backups"


def is_safe_member_name(name: str) -> bool:
    """A relative path inside the archive: the manifest, the database file or a media file."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or not path.parts:
        return False
    return (
        name == MANIFEST_NAME
        or name in DATABASE_MEMBERS.values()
        or (name.startswith(MEDIA_PREFIX) and len(path.parts) > 1)
    )


def files_under(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def latest_migrations(using: str = DEFAULT_DB_ALIAS) -> dict[str, str]:
    """The latest applied migration of every app (names start with their number)."""
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connections[using]).applied_migrations():
        if name > latest.get(app, ""):
            latest[app] = name
    return dict(sorted(latest.items()))


class _HashingReader:
    """Reads a file for tarfile while hashing it, so every file is read once."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


def _add_file(tar: tarfile.TarFile, source: Path, member: str) -> ArchivedFile:
    info = tar.gettarinfo(name=str(source), arcname=member)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with open(source, "rb") as handle:
        reader = _HashingReader(handle)
        tar.addfile(info, reader)
    return ArchivedFile(path=member, size=reader.size, sha256=reader.digest.hexdigest())


# --- PostgreSQL tools ----------------------------------------------------------------------


def _libpq_environment(using: str) -> dict[str, str]:
    """The connection of the settings for pg_dump/pg_restore, passed through the environment.

    The password never appears on a command line (where `ps` would show it).
    """
    db = connections[using].settings_dict
    env = dict(os.environ)
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if db.get(key):
            env[variable] = str(db[key])
    options = db.get("OPTIONS") or {}
    if options.get("sslmode"):
        env["PGSSLMODE"] = str(options["sslmode"])
    env.setdefault("PGCONNECT_TIMEOUT", str(options.get("connect_timeout", 10)))
    return env


def tool_version(tool: str) -> str:
    """``pg_dump --version`` → ``"15.20"``."""
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(
            _("%(tool)s is not installed: install the PostgreSQL client (postgresql-client).")
            % {"tool": tool}
        )
    output = subprocess.run(
        [executable, "--version"], capture_output=True, text=True, check=False
    ).stdout
    found = re.search(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)?)", output)
    if not found:
        raise BackupError(
            _("%(tool)s is not installed: install the PostgreSQL client (postgresql-client).")
            % {"tool": tool}
        )
    return found.group(1)


def major(version: str) -> int:
    return int(version.split(".")[0])


def server_version(using: str = DEFAULT_DB_ALIAS) -> str:
    with connections[using].cursor() as cursor:
        cursor.execute("SHOW server_version")
        row = cursor.fetchone()
    found = re.match(r"\d+(?:\.\d+)?", str(row[0] if row else ""))
    return found.group(0) if found else "0"


def _run_tool(command: list[str], *, using: str) -> None:
    result = subprocess.run(
        command, env=_libpq_environment(using), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        error = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(
            _("%(tool)s failed: %(error)s")
            % {"tool": Path(command[0]).name, "error": " ".join(error[-5:])}
        )


def _pg_dump(target: Path, *, using: str) -> dict[str, str]:
    dump_version = tool_version("pg_dump")
    server = server_version(using)
    # pg_dump reads servers of its own major version and older ones, never newer ones.
    if major(dump_version) < major(server):
        raise BackupError(
            _(
                "%(tool)s %(version)s is older than the PostgreSQL %(server)s server: "
                "install postgresql-client-%(major)s."
            )
            % {"tool": "pg_dump", "version": dump_version, "server": server, "major": major(server)}
        )
    _run_tool(
        [
            str(shutil.which("pg_dump")),
            "--format=custom",
            f"--file={target}",
            f"--dbname={database_name(using)}",
        ],
        using=using,
    )
    return {"pg_dump": dump_version, "server": server}


def _check_pg_restore(manifest: Manifest) -> str:
    """pg_restore reads archives of its own pg_dump version and older ones."""
    restore_version = tool_version("pg_restore")
    dump_version = manifest.tools.get("pg_dump", "0")
    if major(restore_version) < major(dump_version):
        raise BackupError(
            _(
                "pg_restore %(version)s cannot read a dump made by pg_dump %(dump)s: "
                "install postgresql-client-%(major)s."
            )
            % {"version": restore_version, "dump": dump_version, "major": major(dump_version)}
        )
    return restore_version


def _pg_restore(dump: Path, *, using: str) -> None:
    # --clean --if-exists drops every object of the dump before creating it again, and
    # --single-transaction makes the whole restore one transaction: a failure leaves the
    # database as it was.
    _run_tool(
        [
            str(shutil.which("pg_restore")),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={database_name(using)}",
            str(dump),
        ],
        using=using,
    )


# --- SQLite --------------------------------------------------------------------------------


def _sqlite_path(using: str) -> Path:
    name = database_name(using)
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError(_("An in-memory SQLite database cannot be backed up or restored."))
    return Path(name)


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy with SQLite's online backup API: a consistent snapshot while others write."""
    with (
        closing(sqlite3.connect(source, timeout=20)) as src,
        closing(sqlite3.connect(target, timeout=20)) as dst,
    ):
        src.backup(dst)
        # One self-contained file, without a write-ahead log beside it.
        dst.execute("PRAGMA journal_mode=DELETE")


def _sqlite_check(path: Path) -> None:
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            row = db.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as error:
        row = (str(error),)
    if not row or row[0] != "ok":
        raise BackupError(
            _("The SQLite database in the backup is damaged (%(error)s). Nothing was restored.")
            % {"error": row[0] if row else "?"}
        )


def _sqlite_table_count(path: Path) -> int:
    if not path.exists():
        return 0
    with closing(sqlite3.connect(path, timeout=20)) as db:
        row = db.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchone()
    return int(row[0])


# --- Backup --------------------------------------------------------------------------------


def default_archive_path(engine: Engine, now: datetime | None = None) -> Path:
    moment = timezone.localtime(now or timezone.now())
    return backups_dir() / f"maslikhat-{moment:%Y%m%d-%H%M%S}-{engine}.tar.gz"


def backup_create(*, output: Path | None = None, using: str = DEFAULT_DB_ALIAS) -> BackupResult:
    """Write the database and the uploaded files into one archive; return where it went.

    The archive is written under a ``.partial`` name and renamed when complete, so a
    half-written archive never looks like a backup.
    """
    engine = engine_of(using)
    now = timezone.now()
    path = output if output is not None else default_archive_path(engine, now)
    if path.is_dir():
        path = path / default_archive_path(engine, now).name
    path = path.absolute()
    partial = path.with_name(path.name + ".partial")
    media_root = Path(settings.MEDIA_ROOT)
    member = DATABASE_MEMBERS[engine]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".backup-", dir=path.parent) as work:
            database_copy = Path(work) / member
            if engine == "sqlite":
                live = _sqlite_path(using)
                if not live.is_file():
                    raise BackupError(
                        _("The database file %(path)s does not exist.") % {"path": live}
                    )
                _sqlite_copy(live, database_copy)
                tools: dict[str, str] = {"sqlite": sqlite3.sqlite_version}
            else:
                tools = _pg_dump(database_copy, using=using)
            migrations = latest_migrations(using)
            with tarfile.open(partial, "w:gz") as tar:
                files = [_add_file(tar, database_copy, member)]
                # Files in an object store (FILE_STORAGE=s3) are the store's to back up
                # (bucket versioning, replication): the archive then holds the database only.
                for source in files_under(media_root) if is_local() else []:
                    if source in (path, partial):
                        continue
                    relative = source.relative_to(media_root).as_posix()
                    files.append(_add_file(tar, source, MEDIA_PREFIX + relative))
                manifest = Manifest(
                    created_at=timezone.localtime(now).isoformat(timespec="seconds"),
                    engine=engine,
                    database_file=member,
                    migrations=migrations,
                    files=tuple(files),
                    tools=tools,
                )
                data = json.dumps(manifest.to_json(), ensure_ascii=False, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST_NAME)
                info.size = len(data)
                info.mtime = int(now.timestamp())
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
        os.replace(partial, path)
    except (OSError, sqlite3.Error) as error:
        partial.unlink(missing_ok=True)
        raise BackupError(
            _("The backup could not be written: %(error)s.") % {"error": reason(error)}
        ) from error
    return BackupResult(path=path, manifest=manifest, archive_size=path.stat().st_size)


# --- Restore -------------------------------------------------------------------------------


def _damaged(archive: Path, message: str, name: str) -> BackupError:
    return BackupError(message % {"path": archive, "file": name})


def read_archive(archive: Path, staging: Path) -> Manifest:
    """Unpack ``archive`` into ``staging`` and check every file against the manifest.

    Raises ``BackupError`` for a missing file, an archive that is not a readable
    tar.gz, one without a valid manifest, an entry that is not a plain file with a
    safe name, a file missing or not listed, or a checksum that differs.
    """
    if not archive.is_file():
        raise BackupError(_("There is no backup file %(path)s.") % {"path": archive})
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members: dict[str, tarfile.TarInfo] = {}
            for info in tar.getmembers():
                if info.isdir():
                    continue
                if not info.isfile() or not is_safe_member_name(info.name):
                    raise _damaged(
                        archive,
                        _(
                            "The backup %(path)s holds an unexpected entry (%(file)s). "
                            "Nothing was restored."
                        ),
                        info.name,
                    )
                members[info.name] = info
            if MANIFEST_NAME not in members:
                raise BackupError(
                    _("%(path)s is not a backup of the portal: it has no manifest.")
                    % {"path": archive}
                )
            manifest_file = tar.extractfile(members[MANIFEST_NAME])
            assert manifest_file is not None  # a regular file always has content
            try:
                manifest = Manifest.from_json(json.loads(manifest_file.read()))
            except (ValueError, KeyError, TypeError) as error:
                raise BackupError(
                    _("The manifest of the backup %(path)s is damaged: %(error)s.")
                    % {"path": archive, "error": reason(error)}
                ) from error
            listed = {f.path: f for f in manifest.files}
            for name in sorted(set(members) - set(listed) - {MANIFEST_NAME}):
                raise _damaged(
                    archive,
                    _(
                        "The backup %(path)s holds a file its manifest does not list "
                        "(%(file)s). Nothing was restored."
                    ),
                    name,
                )
            for name, entry in listed.items():
                if name not in members:
                    raise _damaged(
                        archive,
                        _(
                            "The backup %(path)s is damaged: %(file)s is missing. "
                            "Nothing was restored."
                        ),
                        name,
                    )
                _extract_checked(tar, members[name], staging / name, entry, archive)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise BackupError(
            _("%(path)s is not a readable backup archive: %(error)s.")
            % {"path": archive, "error": reason(error)}
        ) from error
    return manifest


def _extract_checked(
    tar: tarfile.TarFile, info: tarfile.TarInfo, target: Path, entry: ArchivedFile, archive: Path
) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    source = tar.extractfile(info)
    assert source is not None  # checked: a regular file
    with source, open(target, "wb") as handle:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            handle.write(chunk)
    if size != entry.size or digest.hexdigest() != entry.sha256:
        raise _damaged(
            archive,
            _(
                "The backup %(path)s is damaged: %(file)s does not match its checksum. "
                "Nothing was restored."
            ),
            info.name,
        )


@contextmanager
def _staging_dir() -> Iterator[Path]:
    parent = backups_dir()
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=parent) as work:
        yield Path(work)


def _table_count(using: str, engine: Engine) -> int:
    if engine == "sqlite":
        return _sqlite_table_count(_sqlite_path(using))
    connection = connections[using]
    with connection.cursor() as cursor:
        return len(connection.introspection.table_names(cursor))


def _restore_media(source: Path, media_root: Path) -> int:
    """Move the backup's files into MEDIA_ROOT, each replaced in one rename."""
    media_root.mkdir(parents=True, exist_ok=True)
    count = 0
    for file in files_under(source):
        target = media_root / file.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.restoring")
        shutil.move(file, temporary)
        os.replace(temporary, target)
        count += 1
    return count


def _migration_state(using: str) -> tuple[list[str], list[str]]:
    """(migrations of this code not applied yet, applied migrations this code does not know)."""
    connection = connections[using]
    executor = MigrationExecutor(connection)
    loader = executor.loader
    pending = [
        f"{migration.app_label}.{migration.name}"
        for migration, _backwards in executor.migration_plan(loader.graph.leaf_nodes())
    ]
    unknown = sorted(
        f"{app}.{name}"
        for app, name in loader.applied_migrations
        if app in loader.migrated_apps and (app, name) not in loader.disk_migrations
    )
    return pending, unknown


def restore_archive(
    *, archive: Path, force: bool = False, using: str = DEFAULT_DB_ALIAS
) -> RestoreResult:
    """Restore the database named by the settings and MEDIA_ROOT from ``archive``.

    Preconditions, all checked before anything is changed: every file of the archive
    matches its manifest, the archive's engine is this portal's, the database has no
    tables and MEDIA_ROOT no files (or ``force``). The portal and its worker are stopped.
    """
    engine = engine_of(using)
    media_root = Path(settings.MEDIA_ROOT)
    archive = archive.absolute()
    with _staging_dir() as staging:
        manifest = read_archive(archive, staging)
        if manifest.engine != engine:
            raise BackupError(
                _(
                    "The backup %(path)s was made from a %(archive_engine)s database, but this "
                    "portal uses %(engine)s. Nothing was restored."
                )
                % {
                    "path": archive,
                    "archive_engine": ENGINE_NAMES[manifest.engine],
                    "engine": ENGINE_NAMES[engine],
                }
            )
        database_file = staging / manifest.database_file
        if engine == "sqlite":
            _sqlite_check(database_file)
        else:
            _check_pg_restore(manifest)
        name = database_name(using)
        if _table_count(using, engine) and not force:
            raise BackupError(
                _(
                    "The database %(name)s is not empty. Restoring replaces its contents: "
                    "run the restore again with --force if that is what you want."
                )
                % {"name": name}
            )
        if manifest.media_files and not is_local():
            raise BackupError(
                _(
                    "The backup %(path)s holds uploaded files, but this portal keeps its files "
                    "in an object store (FILE_STORAGE=s3). Restore it with FILE_STORAGE=local, "
                    "then copy the files into the bucket. Nothing was restored."
                )
                % {"path": archive}
            )
        local = is_local()
        existing = (
            {p.relative_to(media_root).as_posix() for p in files_under(media_root)}
            if local
            else set()
        )
        if existing and not force:
            raise BackupError(
                _(
                    "%(path)s already holds uploaded files. Restoring writes the backup's files "
                    "over them: run the restore again with --force if that is what you want."
                )
                % {"path": media_root}
            )

        connections[using].close()
        if engine == "sqlite":
            target = _sqlite_path(using)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                _sqlite_copy(database_file, target)
            except sqlite3.OperationalError as error:
                raise BackupError(
                    _(
                        "The database file %(path)s is in use (%(error)s): stop the portal and "
                        "its worker, then run the restore again."
                    )
                    % {"path": target, "error": error}
                ) from error
        else:
            _pg_restore(database_file, using=using)
        restored = _restore_media(staging / MEDIA_PREFIX.rstrip("/"), media_root) if local else 0
    archived = {f.path.removeprefix(MEDIA_PREFIX) for f in manifest.media_files}
    connections[using].close()
    pending, unknown = _migration_state(using)
    return RestoreResult(
        manifest=manifest,
        database_name=name,
        media_root=media_root,
        media_restored=restored,
        media_kept=len(existing - archived),
        pending_migrations=pending,
        unknown_migrations=unknown,
    )
