"""Attachments of deputy requests: upload through the API, download through /attachments/<id>/.

Type by content, a size limit, a generated storage name, ``Content-Disposition:
attachment`` with ``nosniff``, and downloads only for those who see the request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from maslikhat.accounts.models import User
from maslikhat.core.exceptions import ValidationFailed
from maslikhat.core.threads import Attachment, AuditEvent
from requests_app import services
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory
from tests.requests_helpers import PDF_BYTES, make_request, pdf_upload

pytestmark = pytest.mark.django_db

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def item(directory: DemoDirectory) -> DeputyRequest:
    return make_request(directory, status=RequestStatus.IN_PROGRESS)


def upload(client: Any, item: DeputyRequest, file: SimpleUploadedFile) -> Any:
    return client.post(
        f"/api/v1/requests/{item.pk}/attachments/", {"file": file}, format="multipart"
    )


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def browser_as(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_the_author_attaches_a_real_pdf_and_it_is_listed(
    directory: DemoDirectory, api_as: Any, item: DeputyRequest, media: Path
) -> None:
    client = api_as(directory.alice.user)
    result = upload(client, item, pdf_upload("Фото ямы.pdf"))
    assert result.status_code == 201, result.content
    body = result.json()
    assert body["original_name"] == "Фото ямы.pdf"
    assert body["size"] == len(PDF_BYTES)
    assert body["content_type"] == "application/pdf"
    assert body["download_url"] == f"/attachments/{body['id']}/"
    listed = client.get(f"/api/v1/requests/{item.pk}/attachments/").json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert len(stored_files(media)) == 1
    event = AuditEvent.objects.for_item(item).get(action="attachment_added")
    assert event.changes["file"] == "Фото ямы.pdf"


def test_an_oversized_file_is_refused_with_a_file_message_and_nothing_is_stored(
    directory: DemoDirectory, api_as: Any, item: DeputyRequest, media: Path, settings: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = len(PDF_BYTES) - 1
    result = upload(api_as(directory.alice.user), item, pdf_upload())
    assert result.status_code == 400
    assert list(result.json()) == ["file"]
    assert result.json()["file"][0]
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_html_disguised_as_pdf_is_refused(
    directory: DemoDirectory, api_as: Any, item: DeputyRequest, media: Path
) -> None:
    disguised = SimpleUploadedFile("report.pdf", HTML, content_type="application/pdf")
    result = upload(api_as(directory.finance_exec), item, disguised)
    assert result.status_code == 400
    assert "file" in result.json()
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [("script.html", HTML), ("virus.exe", b"MZ\x90\x00"), ("empty.pdf", b"")],
)
def test_other_types_and_empty_files_are_refused(
    directory: DemoDirectory, api_as: Any, item: DeputyRequest, name: str, content: bytes
) -> None:
    result = upload(api_as(directory.alice.user), item, SimpleUploadedFile(name, content))
    assert result.status_code == 400
    assert "file" in result.json()
    assert not Attachment.objects.exists()


def test_a_missing_file_field_is_a_400_not_a_500(
    directory: DemoDirectory, api_as: Any, item: DeputyRequest
) -> None:
    client = api_as(directory.alice.user)
    result = client.post(f"/api/v1/requests/{item.pk}/attachments/", {}, format="multipart")
    assert result.status_code == 400
    assert "file" in result.json()


def test_a_path_in_the_name_is_never_used_for_storage(
    directory: DemoDirectory, api_as: Any, item: DeputyRequest, media: Path
) -> None:
    result = upload(api_as(directory.alice.user), item, pdf_upload("../../etc/passwd.pdf"))
    assert result.status_code == 201, result.content
    attachment = Attachment.objects.get(pk=result.json()["id"])
    stored_name = str(attachment.file.name)
    assert stored_name.startswith("attachments/")
    assert ".." not in stored_name and "passwd" not in stored_name
    assert attachment.original_name == "passwd.pdf"
    assert result.json()["original_name"] == "passwd.pdf"
    (stored,) = stored_files(media)
    assert stored.resolve().is_relative_to(media.resolve())
    assert stored.read_bytes() == PDF_BYTES


def test_the_service_strips_a_path_the_http_layer_did_not(
    directory: DemoDirectory, item: DeputyRequest, media: Path
) -> None:
    """Django's multipart parser already drops directories; the service must not rely on it."""
    attachment = services.deputy_request_attachment_add(
        pk=item.pk, by=directory.alice.user, upload=pdf_upload("..\\..\\etc/passwd.pdf")
    )
    assert attachment.original_name == "passwd.pdf"
    stored_name = str(attachment.file.name)
    assert stored_name.startswith("attachments/")
    assert ".." not in stored_name and "passwd" not in stored_name


def test_the_author_downloads_the_exact_bytes_as_an_attachment(
    directory: DemoDirectory, api_as: Any, item: DeputyRequest
) -> None:
    result = upload(api_as(directory.alice.user), item, pdf_upload("Ответ.pdf"))
    url = result.json()["download_url"]
    download = browser_as(directory.alice.user).get(url)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert "filename" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/pdf"
    assert download.getvalue() == PDF_BYTES


@pytest.mark.parametrize("persona", ["finance_exec", "finance_head", "staff", "chair"])
def test_those_who_see_the_request_may_download(
    directory: DemoDirectory, api_as: Any, item: DeputyRequest, persona: str
) -> None:
    result = upload(api_as(directory.alice.user), item, pdf_upload())
    download = browser_as(getattr(directory, persona)).get(result.json()["download_url"])
    assert download.status_code == 200
    assert download.getvalue() == PDF_BYTES


@pytest.mark.parametrize("persona", ["bob", "mobility_exec", "mobility_head", "anonymous"])
def test_others_get_404_for_the_download(
    directory: DemoDirectory, api_as: Any, item: DeputyRequest, persona: str
) -> None:
    result = upload(api_as(directory.alice.user), item, pdf_upload())
    user = None
    if persona != "anonymous":
        value = getattr(directory, persona)
        user = value if isinstance(value, User) else value.user
    download = browser_as(user).get(result.json()["download_url"])
    assert download.status_code == 404
    assert PDF_BYTES not in download.content


def test_an_unknown_attachment_is_404(directory: DemoDirectory) -> None:
    assert browser_as(directory.staff).get("/attachments/999999/").status_code == 404


def test_a_draft_takes_attachments_from_its_author_only(
    directory: DemoDirectory, api_as: Any
) -> None:
    draft = make_request(directory, status=RequestStatus.DRAFT)
    assert upload(api_as(directory.alice.user), draft, pdf_upload()).status_code == 201
    assert upload(api_as(directory.staff), draft, pdf_upload()).status_code == 404
    with pytest.raises(ValidationFailed):
        services.deputy_request_attachment_add(
            pk=draft.pk, by=directory.alice.user, upload=SimpleUploadedFile("x.pdf", HTML)
        )
    assert Attachment.objects.for_item(draft).count() == 1


def test_files_of_a_published_request_stay_with_its_participants(
    directory: DemoDirectory, api_as: Any
) -> None:
    public = make_request(directory, status=RequestStatus.IN_PROGRESS, is_public=True)
    result = upload(api_as(directory.alice.user), public, pdf_upload())
    url = result.json()["download_url"]
    assert api_as(directory.bob.user).get(f"/api/v1/requests/{public.pk}/").status_code == 200
    assert browser_as(directory.bob.user).get(url).status_code == 404
    assert browser_as(directory.finance_exec).get(url).status_code == 200
