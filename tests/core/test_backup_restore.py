"""Backups that restore: ``manage.py backup``, then ``manage.py restore`` into a fresh database.

Requests and instructions are driven through the services (numbers, histories, messages,
attachment files with real bytes), backed up from the test database, restored by a separate
``manage.py restore`` process into another database (a new SQLite file, or a new PostgreSQL
database on the same server) and an empty media directory, and read back with a raw
connection: every row of every table, and every file byte for byte.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import translation

from instructions import services as instruction_services
from instructions.models import Instruction, InstructionStatus
from maslikhat.core.backups import DATABASE_MEMBERS, MANIFEST_NAME
from maslikhat.core.threads import Attachment, AuditEvent, Message
from requests_app import services as request_services
from requests_app.models import DeputyRequest, RequestStatus
from tests.conftest import skip_or_fail
from tests.factories import DemoDirectory
from tests.instruction_helpers import make_instruction, make_world
from tests.requests_helpers import PDF_BYTES, make_request, pdf_upload

ENGINE = "sqlite" if connection.vendor == "sqlite" else "postgresql"
OTHER_ENGINE = "postgresql" if ENGINE == "sqlite" else "sqlite"
MANAGE = Path(settings.BASE_DIR) / "manage.py"


@pytest.fixture(autouse=True)
def portal_dirs(settings: Any, tmp_path: Path) -> Path:
    """The uploads and the backups of this test live in its own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    return tmp_path


# --- The restore target: another database and another media directory ----------------------


@dataclass
class Target:
    database_url: str
    media_root: Path
    var_dir: Path
    sqlite_path: Path | None = None
    pg_name: str | None = None

    def environment(self) -> dict[str, str]:
        """`manage.py` with the base settings, pointed at the target only."""
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="maslikhat.settings.base",
            DATABASE_URL=self.database_url,
            DJANGO_MEDIA_ROOT=str(self.media_root),
            MASLIKHAT_VAR_DIR=str(self.var_dir),
        )
        return env

    def restore(self, archive: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(MANAGE), "restore", str(archive), *extra],
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def pg_params(name: str) -> dict[str, Any]:
    db = connection.settings_dict
    params = {"dbname": name, "host": db["HOST"] or None, "port": db["PORT"] or None}
    params.update(user=db["USER"] or None, password=db["PASSWORD"] or None)
    return {key: value for key, value in params.items() if value is not None}


def pg_admin(statement: str, name: str) -> None:
    import psycopg2
    from psycopg2 import sql

    admin = psycopg2.connect(**pg_params("postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL(statement).format(sql.Identifier(name)))
    finally:
        admin.close()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Target]:
    media_root = tmp_path / "restored-media"
    var_dir = tmp_path / "restored-var"
    if ENGINE == "sqlite":
        path = tmp_path / "restored.sqlite3"
        yield Target(f"sqlite:///{path}", media_root, var_dir, sqlite_path=path)
        return
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        skip_or_fail("pg_dump and pg_restore (postgresql-client) are needed to back up PostgreSQL")
    db = connection.settings_dict
    name = f"{db['NAME']}_restore"
    pg_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
    pg_admin("CREATE DATABASE {}", name)
    credentials = quote(str(db["USER"] or ""), safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(str(db["PASSWORD"]), safe="")
    url = f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    try:
        yield Target(url, media_root, var_dir, pg_name=name)
    finally:
        pg_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


# --- Reading a database back, the same way on both sides -----------------------------------


def raw_connection(*, sqlite_path: Path | None = None, pg_name: str | None = None) -> Any:
    if sqlite_path is not None:
        return sqlite3.connect(sqlite_path)
    import psycopg2

    return psycopg2.connect(**pg_params(str(pg_name)))


def source_connection() -> Any:
    name = str(connection.settings_dict["NAME"])
    if ENGINE == "sqlite":
        return raw_connection(sqlite_path=Path(name))
    return raw_connection(pg_name=name)


def target_connection(target: Target) -> Any:
    return raw_connection(sqlite_path=target.sqlite_path, pg_name=target.pg_name)


def plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def query(db: Any, sql: str) -> list[tuple[Any, ...]]:
    cursor = db.cursor()
    cursor.execute(sql)
    return [tuple(plain(v) for v in row) for row in cursor.fetchall()]


def tables(db: Any) -> list[str]:
    if ENGINE == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    else:
        sql = (
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    return [row[0] for row in query(db, sql)]


def picture(db: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and, on PostgreSQL, where every sequence stands)."""
    rows = {table: ordered(query(db, f'SELECT * FROM "{table}"')) for table in tables(db)}
    if ENGINE == "postgresql":
        rows["<sequences>"] = query(
            db,
            "SELECT sequencename, last_value FROM pg_sequences "
            "WHERE schemaname = 'public' ORDER BY sequencename",
        )
    return rows


def ordered(rows: Any) -> list[tuple[Any, ...]]:
    return sorted((tuple(row) for row in rows), key=repr)


def file_hashes(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


# --- The portal's data ----------------------------------------------------------------------


def pdf(serial: int) -> bytes:
    """A real PDF whose bytes differ by ``serial`` (so every file has its own checksum)."""
    return PDF_BYTES.replace(b"%%EOF", f"% copy {serial}\n%%EOF".encode())


def build_portal_data(directory: DemoDirectory) -> None:
    """Requests and instructions in several states, with messages and attachment files."""
    alice = directory.alice.user
    closed = make_request(directory, status=RequestStatus.CLOSED, title="Освещение двора")
    in_work = make_request(directory, status=RequestStatus.IN_PROGRESS, title="Ремонт крыши")
    make_request(directory, status=RequestStatus.DECLINED, title="Вопрос не по адресу")
    make_request(directory, status=RequestStatus.DRAFT, title="Черновик запроса")
    request_services.deputy_request_message_post(
        pk=in_work.pk, by=alice, text="Жители ждут ответа до зимы."
    )
    request_services.deputy_request_message_post(
        pk=in_work.pk, by=directory.finance_exec, text="Смета готовится, ответим в срок."
    )
    for serial, (item, name) in enumerate(
        [(in_work, "Фото крыши.pdf"), (in_work, "Акт обследования.pdf"), (closed, "Схема.pdf")]
    ):
        request_services.deputy_request_attachment_add(
            pk=item.pk, by=alice, upload=pdf_upload(name, pdf(serial))
        )
    world = make_world(directory)
    make_instruction(world, status=InstructionStatus.EXECUTED)
    returned = make_instruction(world, status=InstructionStatus.RETURNED)
    on_control = make_instruction(world, status=InstructionStatus.ON_CONTROL)
    instruction_services.instruction_message_post(
        pk=returned.pk, by=directory.staff, text="Добавьте сроки работ по каждому адресу."
    )
    instruction_services.instruction_attachment_add(
        pk=on_control.pk,
        by=directory.finance_exec,
        upload=pdf_upload("План работ.pdf", pdf(99)),
    )
    # An export file as the background export job leaves it (reports: MEDIA_ROOT/exports/).
    export = Path(settings.MEDIA_ROOT) / "exports" / "requests-2026-01-15.csv"
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_bytes("№;Тема\nDZ-2026-00001;Ремонт крыши\n".encode())


def assert_manifest_describes(archive: Path) -> None:
    """The manifest names the engine, the migration state and every file with its checksum."""
    with tarfile.open(archive) as tar:
        contents = {
            info.name: tar.extractfile(info).read()  # type: ignore[union-attr]
            for info in tar.getmembers()
            if info.isfile()
        }
    manifest = json.loads(contents.pop(MANIFEST_NAME))
    assert manifest["engine"] == ENGINE
    assert manifest["created_at"]
    applied = MigrationRecorder(connection).applied_migrations()
    assert manifest["migrations"]["requests_app"] == max(
        name for app, name in applied if app == "requests_app"
    )
    assert set(manifest["migrations"]) == {app for app, _name in applied}
    listed = {row["path"]: row["sha256"] for row in manifest["files"]}
    assert listed == {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}
    media = file_hashes(Path(settings.MEDIA_ROOT))
    assert manifest["media_file_count"] == len(media) == 5
    assert {f"media/{name}": digest for name, digest in media.items()} == {
        name: digest for name, digest in listed.items() if name.startswith("media/")
    }


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_fresh_database_with_every_row_and_file_unchanged(
    directory: DemoDirectory, target: Target, portal_dirs: Path
) -> None:
    build_portal_data(directory)
    archive = portal_dirs / "backup.tar.gz"
    out = io.StringIO()
    with translation.override("en"):
        call_command("backup", output=archive, stdout=out)
    assert f"Backup written to {archive}" in out.getvalue()
    assert_manifest_describes(archive)

    restored = target.restore(archive)
    assert restored.returncode == 0, restored.stderr
    assert "Traceback" not in restored.stderr

    with source_connection() as source_db:
        source = picture(source_db)
    target_db = target_connection(target)
    try:
        copy = picture(target_db)
        requests_table = DeputyRequest._meta.db_table
        numbers = query(target_db, f'SELECT number, status, title FROM "{requests_table}"')
        instructions = query(
            target_db, f'SELECT number, status, text FROM "{Instruction._meta.db_table}"'
        )
        events = query(
            target_db, f'SELECT item_type, item_id, action FROM "{AuditEvent._meta.db_table}"'
        )
        messages = query(target_db, f'SELECT text FROM "{Message._meta.db_table}"')
    finally:
        target_db.close()

    # The data is really there: every item, number, history event and message.
    assert ordered(numbers) == ordered(
        DeputyRequest.objects.values_list("number", "status", "title")
    )
    assert sum(1 for number, _status, _title in numbers if number) == 3
    assert ordered(instructions) == ordered(
        Instruction.objects.values_list("number", "status", "text")
    )
    assert len(instructions) == 3
    assert ordered(events) == ordered(
        AuditEvent.objects.values_list("item_type", "item_id", "action")
    )
    assert len(events) > 20
    assert sorted(m[0] for m in messages) == sorted(Message.objects.values_list("text", flat=True))
    assert len(messages) == 3
    # ... and so is every other row of every table.
    assert set(copy) == set(source)
    for table, rows in source.items():
        assert copy[table] == rows, table

    # Every uploaded file, byte for byte, where its attachment row says it is.
    media = Path(settings.MEDIA_ROOT)
    assert file_hashes(target.media_root) == file_hashes(media)
    attachments = list(Attachment.objects.all())
    assert len(attachments) == 4
    for attachment in attachments:
        restored_file = target.media_root / str(attachment.file.name)
        assert hashlib.sha256(restored_file.read_bytes()).hexdigest() == attachment.sha256
        assert restored_file.read_bytes() == (media / str(attachment.file.name)).read_bytes()
    assert (target.media_root / "exports" / "requests-2026-01-15.csv").exists()

    # A restore over a database that has data is refused without --force (here: the
    # test database itself, with the archive that was just checked)...
    assert restore_in_english(archive) == (
        f"The database {connection.settings_dict['NAME']} is not empty. Restoring replaces its "
        "contents: run the restore again with --force if that is what you want."
    )
    # ... and with --force a second restore replaces the restored database, unchanged.
    forced = target.restore(archive, "--force")
    assert forced.returncode == 0, forced.stderr
    target_db = target_connection(target)
    try:
        assert picture(target_db) == source
    finally:
        target_db.close()


# --- Bad input: a clear message, nothing touched --------------------------------------------


def write_archive(
    path: Path, files: dict[str, bytes], *, engine: str = ENGINE, **manifest: Any
) -> Path:
    """An archive shaped like the backup command's, with the given files (checksums true)."""
    listing = [
        {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in files.items()
    ]
    document = {
        "format": "maslikhat-backup",
        "version": 1,
        "created_at": "2026-01-15T10:00:00+05:00",
        "engine": engine,
        "database_file": DATABASE_MEMBERS[engine],  # type: ignore[index]
        "migrations": {},
        "tools": {},
        "files": listing,
        **manifest,
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, data in [*files.items(), (MANIFEST_NAME, json.dumps(document).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def restore_in_english(archive: Path, *extra: str) -> str:
    """Run the restore in this process (the test database); return the refusal message."""
    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("restore", str(archive), *extra)
    return str(refused.value)


def test_restore_refuses_an_archive_whose_file_does_not_match_its_checksum_and_touches_nothing(
    db: None, portal_dirs: Path
) -> None:
    archive = write_archive(
        portal_dirs / "backup.tar.gz",
        {DATABASE_MEMBERS[ENGINE]: b"database", "media/attachments/2026/01/a.pdf": pdf(1)},  # type: ignore[index]
    )
    # The same archive with one attachment's bytes changed after the manifest was written.
    tampered = portal_dirs / "tampered.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(tampered, "w:gz") as copy:
        for info in source.getmembers():
            data = source.extractfile(info).read()  # type: ignore[union-attr]
            if info.name.endswith("a.pdf"):
                data = pdf(2)
            info.size = len(data)
            copy.addfile(info, io.BytesIO(data))
    media = Path(settings.MEDIA_ROOT)

    message = restore_in_english(tampered, "--force")

    assert message == (
        f"The backup {tampered} is damaged: media/attachments/2026/01/a.pdf does not match "
        "its checksum. Nothing was restored."
    )
    assert not media.exists()
    assert not list((portal_dirs / "var" / "backups").iterdir())  # the staging is gone


def test_restore_refuses_an_archive_made_from_the_other_database_engine(
    db: None, portal_dirs: Path
) -> None:
    archive = write_archive(
        portal_dirs / "other.tar.gz",
        {DATABASE_MEMBERS[OTHER_ENGINE]: b"database"},  # type: ignore[index]
        engine=OTHER_ENGINE,
    )
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

    message = restore_in_english(archive, "--force")

    assert message == (
        f"The backup {archive} was made from a {names[OTHER_ENGINE]} database, but this portal "
        f"uses {names[ENGINE]}. Nothing was restored."
    )


def test_restore_refuses_a_missing_file_and_files_that_are_not_backups(
    db: None, portal_dirs: Path
) -> None:
    missing = portal_dirs / "no-such-backup.tar.gz"
    assert restore_in_english(missing) == f"There is no backup file {missing}."

    no_manifest = portal_dirs / "photos.tar.gz"
    with tarfile.open(no_manifest, "w:gz") as tar:
        info = tarfile.TarInfo("media/photo.pdf")
        info.size = len(PDF_BYTES)
        tar.addfile(info, io.BytesIO(PDF_BYTES))
    assert restore_in_english(no_manifest) == (
        f"{no_manifest} is not a backup of the portal: it has no manifest."
    )

    garbage = portal_dirs / "garbage.tar.gz"
    garbage.write_bytes(gzip.compress(b"not a tar archive at all"))
    assert restore_in_english(garbage).startswith(f"{garbage} is not a readable backup archive: ")

    escaping = write_archive(portal_dirs / "escaping.tar.gz", {"../../etc/cron.d/x": b"x"})
    assert restore_in_english(escaping) == (
        f"The backup {escaping} holds an unexpected entry (../../etc/cron.d/x). "
        "Nothing was restored."
    )


def test_a_corrupt_archive_exits_non_zero_with_a_message_and_no_traceback(
    db: None, portal_dirs: Path, target: Target
) -> None:
    archive = write_archive(
        portal_dirs / "backup.tar.gz",
        {DATABASE_MEMBERS[ENGINE]: os.urandom(64 * 1024)},  # type: ignore[index]
    )
    truncated = portal_dirs / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])

    result = target.restore(truncated)

    assert result.returncode == 1
    assert str(truncated) in result.stderr
    assert "Traceback" not in result.stderr
    assert not target.media_root.exists()
    if target.sqlite_path is not None:
        assert not target.sqlite_path.exists()
