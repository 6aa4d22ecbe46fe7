"""Files in an S3-compatible bucket (``FILE_STORAGE=s3``): private, served by the portal only.

A real S3 server on a free port of the loopback (moto's server mode, started by the
fixture) holds a fresh private bucket per test; the portal's default storage is
django-storages' ``S3Storage`` pointed at it. An attachment is uploaded through the API and
lands in the bucket (not on the disk), its download streams the same bytes to a participant
and is a 404 for an outsider; an export job's file is uploaded to the bucket and only its
owner downloads it; nothing can be read from the bucket without the credentials.
"""

from __future__ import annotations

import io
import json
import socket
import tarfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import urlopen

import boto3
import openpyxl
import pytest
from botocore.exceptions import ClientError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from moto import settings as moto_settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.server import ThreadedMotoServer

from imports import services as import_services
from imports.models import ImportBatch, ImportKind, ImportStatus
from imports.tasks import import_commit
from maslikhat.core import backups
from maslikhat.core.health import run_checks
from maslikhat.core.storage import is_local, is_safe_name
from maslikhat.core.threads import Attachment
from reports import services as export_services
from reports.models import ExportStatus
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.imports.helpers import request_row, write_csv
from tests.reports_helpers import bulk_requests, places
from tests.requests_helpers import PDF_BYTES, category, make_request, pdf_upload

pytestmark = pytest.mark.django_db

REGION = "us-east-1"
#: The running server of each endpoint (its credentials), for the helpers below.
SERVERS: dict[str, S3Server] = {}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    """A local S3 server (moto) on a free port that checks every request's credentials.

    The portal's user and its access key are made while the server still accepts anything;
    then authentication is switched on, so an unsigned or wrongly signed request is refused
    as a real store would refuse it.
    """
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    previous = moto_settings.INITIAL_NO_AUTH_ACTION_COUNT
    try:
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            aws_access_key_id="setup",
            aws_secret_access_key="setup",
            region_name=REGION,
        )
        # A name of its own: moto's accounts outlive a server within one test process.
        user = f"portal-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=user)
        iam.put_user_policy(
            UserName=user,
            PolicyName="portal-files",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                }
            ),
        )
        key = iam.create_access_key(UserName=user)["AccessKey"]
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0
        yield S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = previous
        server.stop()


@pytest.fixture
def s3_endpoint(s3_server: S3Server) -> str:
    return s3_server.endpoint


def s3_client(endpoint: str) -> Any:
    server = SERVERS[endpoint]
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name=REGION,
    )


@pytest.fixture
def bucket(s3_server: S3Server, settings: Any, tmp_path: Path) -> str:
    """A new private bucket, and the portal's files kept in it (what FILE_STORAGE=s3 sets)."""
    SERVERS[s3_server.endpoint] = s3_server
    s3_endpoint = s3_server.endpoint
    name = f"maslikhat-{uuid.uuid4().hex[:12]}"
    s3_client(s3_endpoint).create_bucket(Bucket=name)
    # The local folder must stay empty: a file on the disk would mean the bucket was bypassed.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    settings.AWS_STORAGE_BUCKET_NAME = name
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_S3_ACCESS_KEY_ID = s3_server.access_key
    settings.AWS_S3_SECRET_ACCESS_KEY = s3_server.secret_key
    settings.AWS_S3_REGION_NAME = REGION
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage"},
    }
    assert not is_local()
    return name


def objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    client = s3_client(endpoint)
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        row["Key"]: client.get_object(Bucket=bucket, Key=row["Key"])["Body"].read()
        for row in listed
    }


def files_on_disk(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def browser_as(user: Any) -> Client:
    """The download is a page of the portal: a logged-in browser session."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def downloaded(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_an_attachment_is_stored_in_the_bucket_and_streamed_to_participants_only(
    directory: DemoDirectory, api_as: Any, s3_endpoint: str, bucket: str, settings: Any
) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    result = api_as(directory.alice.user).post(
        f"/api/v1/requests/{item.pk}/attachments/",
        {"file": pdf_upload("Фото ямы.pdf")},
        format="multipart",
    )
    assert result.status_code == 201, result.content
    attachment = Attachment.objects.get(pk=result.json()["id"])
    stored = objects(s3_endpoint, bucket)
    assert stored == {attachment.file.name: PDF_BYTES}
    assert str(attachment.file.name).startswith("attachments/")
    assert files_on_disk(Path(settings.MEDIA_ROOT)) == []

    # The author and the department routed to it download the same bytes, streamed.
    url = result.json()["download_url"]
    for user in (directory.alice.user, directory.finance_exec):
        response = browser_as(user).get(url)
        assert response.status_code == 200, user
        assert response.streaming
        assert downloaded(response) == PDF_BYTES
        assert response["Content-Length"] == str(len(PDF_BYTES))
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"].startswith("private, no-store")
        # Never a redirect to (or a mention of) the bucket.
        assert "Location" not in response and bucket not in str(response.headers)

    # Someone who may not see the request: 404, no bytes.
    outsider = browser_as(directory.bob.user).get(url)
    assert outsider.status_code == 404
    assert PDF_BYTES not in outsider.content


def test_an_attachment_missing_from_the_bucket_is_a_404(
    directory: DemoDirectory, api_as: Any, s3_endpoint: str, bucket: str
) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    result = api_as(directory.alice.user).post(
        f"/api/v1/requests/{item.pk}/attachments/", {"file": pdf_upload()}, format="multipart"
    )
    name = Attachment.objects.get(pk=result.json()["id"]).file.name
    s3_client(s3_endpoint).delete_object(Bucket=bucket, Key=name)
    assert browser_as(directory.alice.user).get(result.json()["download_url"]).status_code == 404


def test_an_export_jobs_file_is_uploaded_to_the_bucket_for_its_owner_only(
    directory: DemoDirectory, api_as: Any, s3_endpoint: str, bucket: str, settings: Any
) -> None:
    settings.EXPORT_SYNC_LIMIT = 5
    bulk_requests(directory, 12, places())
    job = export_services.export_job_create(
        by=directory.staff, kind="requests", params=QueryDict(""), fmt="xlsx", language="en"
    )
    assert export_services.export_job_file(job) is None  # not built yet
    built = export_services.export_job_build(job_id=job.pk)
    assert built is not None and built.status == ExportStatus.DONE, built and built.error
    stored = objects(s3_endpoint, bucket)
    assert list(stored) == [built.file_path]
    assert built.file_path.startswith("exports/")
    # Nothing left on this machine: no file in MEDIA_ROOT, no partial in the staging folder.
    assert files_on_disk(Path(settings.MEDIA_ROOT)) == []
    assert files_on_disk(Path(settings.VAR_DIR)) == []

    owner = api_as(directory.staff)
    status = owner.get(reverse("reports:export-job-status", args=[job.pk])).json()
    assert status["status"] == ExportStatus.DONE
    response = owner.get(status["download_url"])
    assert response.status_code == 200
    content = downloaded(response)
    assert content == stored[built.file_path]
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    expected = DeputyRequest.objects.exclude(status=RequestStatus.DRAFT).count()
    assert sum(1 for _row in sheet.iter_rows(min_row=2)) == expected

    for other in (directory.chair, directory.alice.user):
        assert api_as(other).get(status["download_url"]).status_code == 404
    # Built again (a redelivered task): the finished job and its one object stay.
    export_services.export_job_build(job_id=job.pk)
    assert list(objects(s3_endpoint, bucket)) == [built.file_path]
    # The object gone from the bucket: "not ready", not a 500.
    s3_client(s3_endpoint).delete_object(Bucket=bucket, Key=built.file_path)
    assert owner.get(status["download_url"]).status_code == 404


def test_an_import_file_is_kept_in_the_bucket_and_read_back_from_it_by_the_worker(
    directory: DemoDirectory, s3_endpoint: str, bucket: str, settings: Any, tmp_path: Path
) -> None:
    category()
    author = directory.alice.user.full_name
    source = write_csv(
        tmp_path / "past.csv",
        ImportKind.REQUESTS,
        [request_row("Д-1", author=author), request_row("Д-2", author=author)],
    )
    upload = SimpleUploadedFile(source.name, source.read_bytes(), content_type="text/csv")
    batch = import_services.batch_upload(by=directory.staff, kind="requests", upload=upload)
    stored = objects(s3_endpoint, bucket)
    assert stored == {batch.file_path: source.read_bytes()}
    assert files_on_disk(Path(settings.MEDIA_ROOT)) == []
    # Another node's worker: nothing of the file on its disk, it reads it from the bucket.
    for leftover in files_on_disk(Path(settings.VAR_DIR)):
        leftover.unlink()
    import_services.batch_commit_start(pk=batch.pk, by=directory.staff)
    import_commit(batch.pk)
    batch = ImportBatch.objects.get(pk=batch.pk)
    assert batch.status == ImportStatus.DONE and batch.created_count == 2
    assert set(DeputyRequest.objects.values_list("number", flat=True)) == {"Д-1", "Д-2"}


def test_nothing_is_readable_from_the_bucket_without_the_credentials(
    directory: DemoDirectory, api_as: Any, s3_endpoint: str, bucket: str
) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    api_as(directory.alice.user).post(
        f"/api/v1/requests/{item.pk}/attachments/", {"file": pdf_upload()}, format="multipart"
    )
    (key,) = objects(s3_endpoint, bucket)
    # A plain, unsigned GET of the object, and of the bucket's listing.
    with pytest.raises(HTTPError) as refused:
        urlopen(f"{s3_endpoint}/{bucket}/{key}", timeout=10)
    assert refused.value.code == 403
    assert PDF_BYTES not in refused.value.read()
    with pytest.raises(HTTPError) as refused:
        urlopen(f"{s3_endpoint}/{bucket}?list-type=2", timeout=10)
    assert refused.value.code >= 400  # moto answers 403 or (a bug of its own) 500
    assert key.encode() not in refused.value.read()
    # Wrong credentials: refused too.
    stranger = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="someone-else",
        aws_secret_access_key="wrong",
        region_name=REGION,
    )
    with pytest.raises(ClientError) as denied:
        stranger.get_object(Bucket=bucket, Key=key)
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # The objects carry no ACL that would open them to everyone.
    grants = s3_client(s3_endpoint).get_object_acl(Bucket=bucket, Key=key)["Grants"]
    assert not [g for g in grants if "AllUsers" in str(g.get("Grantee", {}).get("URI", ""))]


def test_healthz_checks_the_bucket(s3_endpoint: str, bucket: str, settings: Any) -> None:
    results = {r.name: r for r in run_checks()}
    assert results["storage"].ok, results["storage"].error
    settings.AWS_STORAGE_BUCKET_NAME = "no-such-bucket"
    settings.STORAGES = {**settings.STORAGES}  # a new storage object with the new bucket
    results = {r.name: r for r in run_checks()}
    assert not results["storage"].ok


def test_a_backup_with_files_in_the_bucket_holds_the_database_only(
    directory: DemoDirectory,
    api_as: Any,
    s3_endpoint: str,
    bucket: str,
    tmp_path: Path,
    settings: Any,
) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    api_as(directory.alice.user).post(
        f"/api/v1/requests/{item.pk}/attachments/", {"file": pdf_upload()}, format="multipart"
    )
    # A stray file in the unused local folder is not backed up either.
    stray = Path(settings.MEDIA_ROOT) / "attachments" / "stray.pdf"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(PDF_BYTES)
    output = io.StringIO()
    (tmp_path / "backups").mkdir()
    call_command("backup", output=tmp_path / "backups", stdout=output)
    (archive,) = (tmp_path / "backups").glob("*.tar.gz")
    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
    assert backups.MANIFEST_NAME in names
    assert not [n for n in names if n.startswith(backups.MEDIA_PREFIX)]
    assert bucket in output.getvalue()


def test_the_settings_choose_the_storage_from_the_environment() -> None:
    import os
    import subprocess
    import sys

    probe = (
        "import importlib, os;"
        "s = importlib.import_module('maslikhat.settings.' + os.environ['PROBE_MODULE']);"
        "print(s.STORAGES['default']['BACKEND'], s.AWS_STORAGE_BUCKET_NAME,"
        " s.AWS_S3_ENDPOINT_URL, s.AWS_S3_ADDRESSING_STYLE)"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "FILE_STORAGE"))}
    clean["DJANGO_ENV_FILE"] = "/nonexistent/.env"

    def run(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", probe],
            env={**clean, "PROBE_MODULE": "base", **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    local = run()
    assert local.stdout.split()[0] == "django.core.files.storage.FileSystemStorage"
    s3 = run(FILE_STORAGE="s3", S3_BUCKET="files", S3_ENDPOINT_URL="http://minio:9000")
    assert s3.stdout.split() == [
        "storages.backends.s3.S3Storage",
        "files",
        "http://minio:9000",
        "path",
    ]
    # The production settings keep the choice (their own STORAGES only changes static files).
    production = run(
        FILE_STORAGE="s3",
        S3_BUCKET="files",
        DJANGO_SECRET_KEY="p" * 30 + "0123456789abcdefghijklmnopqrstuvwxyz",
        PROBE_MODULE="production",
    )
    assert production.stdout.split()[0] == "storages.backends.s3.S3Storage", production.stderr
    missing_bucket = run(FILE_STORAGE="s3")
    assert missing_bucket.returncode != 0 and "S3_BUCKET" in missing_bucket.stderr
    unknown = run(FILE_STORAGE="ftp")
    assert unknown.returncode != 0 and "local or s3" in unknown.stderr


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("exports/12-0a1b2c3d4e5f6a7b.xlsx", True),
        ("exports/../secret_key", False),
        ("exports/./12.csv", False),
        ("/etc/passwd", False),
        ("exports", False),
        ("exports/", False),
        ("attachments/2026/03/x.pdf", False),
        ("exports\\..\\secret_key", False),
        ("", False),
    ],
)
def test_an_export_file_is_served_only_from_a_plain_name_under_exports(
    name: str, safe: bool
) -> None:
    assert is_safe_name(name, under="exports") is safe
