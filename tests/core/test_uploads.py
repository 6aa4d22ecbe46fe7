"""maslikhat.core.uploads: which files may be attached, how they are named and stored."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from datetime import UTC, datetime

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.utils import translation

from maslikhat.core.exceptions import ValidationFailed
from maslikhat.core.uploads import (
    ALLOWED_EXTENSIONS,
    CONTENT_TYPES,
    MAX_NAME_LENGTH,
    InspectedFile,
    generated_storage_name,
    inspect_upload,
    safe_original_name,
)

# --- real minimal files -----------------------------------------------------------------

PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PNG = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
    + _png_chunk(b"IEND", b"")
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
HTML = b"<html><script>alert(document.cookie)</script></html>"


def _zip(members: dict[str, bytes], *, stored_first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first is not None:
            archive.writestr(stored_first, members[stored_first], zipfile.ZIP_STORED)
        for name, data in members.items():
            if name != stored_first:
                archive.writestr(name, data)
    return buffer.getvalue()


DOCX = _zip(
    {
        "[Content_Types].xml": b"<Types/>",
        "_rels/.rels": b"<Relationships/>",
        "word/document.xml": b"<w:document/>",
    }
)
XLSX = _zip(
    {
        "[Content_Types].xml": b"<Types/>",
        "_rels/.rels": b"<Relationships/>",
        "xl/workbook.xml": b"<workbook/>",
    }
)
ODT = _zip(
    {
        "mimetype": b"application/vnd.oasis.opendocument.text",
        "content.xml": b"<office:document-content/>",
        "META-INF/manifest.xml": b"<manifest:manifest/>",
    },
    stored_first="mimetype",
)
ODS = _zip(
    {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"},
    stored_first="mimetype",
)

GENUINE = {
    "pdf": PDF,
    "png": PNG,
    "jpg": JPEG,
    "jpeg": JPEG,
    "doc": OLE2,
    "xls": OLE2,
    "docx": DOCX,
    "xlsx": XLSX,
    "odt": ODT,
}


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def rejection(name: str, content: bytes) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        inspect_upload(upload(name, content))
    assert caught.value.field == "file"
    assert isinstance(caught.value.message, str)
    assert caught.value.message
    return caught.value


# --- accepted ---------------------------------------------------------------------------


def test_every_allowed_extension_has_a_genuine_sample() -> None:
    assert set(GENUINE) == set(ALLOWED_EXTENSIONS) == set(CONTENT_TYPES)


@pytest.mark.parametrize("extension", sorted(GENUINE))
def test_a_genuine_file_of_each_type_is_accepted(extension: str) -> None:
    content = GENUINE[extension]
    file = upload(f"Документ.{extension}", content)
    inspected = inspect_upload(file)
    assert inspected == InspectedFile(
        original_name=f"Документ.{extension}",
        extension=extension,
        content_type=CONTENT_TYPES[extension],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    assert file.tell() == 0


def test_the_extension_is_case_insensitive_and_the_name_keeps_its_case() -> None:
    inspected = inspect_upload(upload("SCAN.PDF", PDF))
    assert inspected.extension == "pdf"
    assert inspected.original_name == "SCAN.PDF"
    assert inspected.content_type == "application/pdf"


def test_the_client_content_type_is_ignored() -> None:
    inspected = inspect_upload(upload("scan.png", PNG, content_type="text/html"))
    assert inspected.content_type == "image/png"
    with pytest.raises(ValidationFailed):
        inspect_upload(upload("page.pdf", HTML, content_type="application/pdf"))


def test_the_inspected_file_is_frozen() -> None:
    inspected = inspect_upload(upload("a.pdf", PDF))
    with pytest.raises(AttributeError):
        inspected.size = 1  # type: ignore[misc]


def test_size_and_hash_are_streamed_from_a_temporary_file(settings) -> None:
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    content = PDF + b"%" + b"x" * (300 * 1024) + b"\n"
    file = TemporaryUploadedFile("big.pdf", "application/pdf", len(content), None)
    try:
        file.write(content)
        file.seek(0)
        inspected = inspect_upload(file)
        assert inspected.size == len(content)
        assert inspected.sha256 == hashlib.sha256(content).hexdigest()
        assert file.tell() == 0
    finally:
        file.close()


def test_the_position_is_left_at_zero_even_when_rejected() -> None:
    file = upload("x.pdf", HTML)
    file.read(3)
    with pytest.raises(ValidationFailed):
        inspect_upload(file)
    assert file.tell() == 0


# --- rejected ---------------------------------------------------------------------------


def test_an_empty_file_is_rejected() -> None:
    with translation.override("en"):
        assert rejection("empty.pdf", b"").message == "The file is empty."


def test_an_oversize_file_is_rejected_with_the_limit_in_mb(settings) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = PDF + b"%" + b"x" * (1024 * 1024) + b"\n"
    with translation.override("en"):
        error = rejection("big.pdf", big)
    assert error.message == "The file is too large. The maximum size is 1 MB."
    # The setting is read at call time: exactly at the limit is fine.
    settings.ATTACHMENT_MAX_BYTES = len(big)
    assert inspect_upload(upload("big.pdf", big)).size == len(big)


def test_a_fractional_limit_is_shown_in_mb(settings) -> None:
    settings.ATTACHMENT_MAX_BYTES = 512 * 1024
    with translation.override("en"):
        error = rejection("big.pdf", PDF + b"x" * (600 * 1024))
    assert "0.5 MB" in str(error.message)


@pytest.mark.parametrize(
    "name", ["virus.exe", "page.html", "script.js", "archive.zip", "noextension", "x.svg"]
)
def test_a_disallowed_extension_is_rejected_listing_the_allowed_ones(name: str) -> None:
    with translation.override("en"):
        error = rejection(name, PDF)
    assert "cannot be attached" in str(error.message)
    for extension in ("PDF", "DOC", "DOCX", "XLS", "XLSX", "ODT", "JPG", "JPEG", "PNG"):
        assert extension in str(error.message)


def test_html_disguised_as_a_pdf_is_rejected() -> None:
    with translation.override("en"):
        error = rejection("x.pdf", HTML)
    assert "does not match its extension .pdf" in str(error.message)


def test_html_with_a_pdf_header_later_on_is_rejected() -> None:
    rejection("x.pdf", b"<html><body>%PDF-1.4</body></html>")


def test_an_exe_renamed_png_is_rejected() -> None:
    rejection("photo.png", EXE)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.jpg", PNG),
        ("photo.png", JPEG),
        ("scan.pdf", PNG),
        ("letter.doc", PDF),
        ("table.xls", DOCX),
        ("letter.docx", OLE2),
        ("letter.docx", XLSX),
        ("table.xlsx", DOCX),
        ("letter.odt", DOCX),
        ("letter.odt", ODS),
        ("letter.docx", b"PK\x03\x04"),
    ],
)
def test_content_of_another_type_is_rejected(name: str, content: bytes) -> None:
    rejection(name, content)


def test_a_plain_zip_renamed_docx_is_rejected() -> None:
    with translation.override("en"):
        error = rejection("letter.docx", _zip({"readme.txt": b"hello"}))
    assert "does not match" in str(error.message)


def test_an_odt_without_a_mimetype_member_is_rejected() -> None:
    rejection("letter.odt", _zip({"content.xml": b"<x/>"}))


def test_a_corrupt_zip_is_rejected() -> None:
    corrupt = DOCX[: len(DOCX) // 2] + b"\x00" * 40 + DOCX[-10:]
    with translation.override("en"):
        error = rejection("letter.docx", corrupt)
    assert "damaged" in str(error.message)


def test_a_zip_with_junk_prepended_is_rejected() -> None:
    rejection("letter.docx", HTML + DOCX)


def test_a_zip_bomb_is_rejected_by_its_declared_sizes() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
        for index in range(3):
            with archive.open(f"word/media/zeros{index}.bin", "w") as member:
                chunk = b"\x00" * (1024 * 1024)
                for _ in range(70):
                    member.write(chunk)
    bomb = buffer.getvalue()
    assert len(bomb) < 2 * 1024 * 1024  # ~210 MB declared, a few hundred KB on disk
    with translation.override("en"):
        error = rejection("letter.docx", bomb)
    assert "too large" in str(error.message)


def test_a_zip_with_too_many_members_is_rejected() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
        for index in range(10_001):
            archive.writestr(f"{index}", b"")
    rejection("letter.docx", buffer.getvalue())


def test_error_messages_are_translatable() -> None:
    with translation.override("ru"):
        for name, content in [("x.pdf", b""), ("x.exe", PDF), ("x.pdf", HTML)]:
            error = rejection(name, content)
            assert isinstance(error.message, str)
            assert error.message.strip()
    with translation.override("en"):
        assert rejection("x.pdf", b"").message == "The file is empty."


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\Windows\\system.ini.pdf", "system.ini.pdf"),
        ("C:\\Users\\Айгуль\\Documents\\Письмо.docx", "Письмо.docx"),
        ("/var/www/../x.png", "x.png"),
        ("Ответ управления.pdf", "Ответ управления.pdf"),
        ("Жауап   \t басқарма\n.pdf", "Жауап басқарма.pdf"),
        ('a<b>c:d"e|f?g*h.pdf', "abcdefgh.pdf"),
        ("bad\x00name\x1f\x7f.pdf", "badname.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        (".hidden.pdf", "hidden.pdf"),
        ("...pdf", "file.pdf"),
        (".pdf", "file.pdf"),
        ("<>?.pdf", "file.pdf"),
        ("   .docx", "file.docx"),
        ("", "file"),
        ("..", "file"),
        ("../", "file"),
        ("report.final.xlsx", "report.final.xlsx"),
    ],
)
def test_safe_original_name(given: str, expected: str) -> None:
    assert safe_original_name(given) == expected


def test_a_long_name_is_trimmed_keeping_the_extension() -> None:
    name = safe_original_name("Протокол " + "очень длинный " * 30 + ".docx")
    assert len(name) == MAX_NAME_LENGTH
    assert name.endswith(".docx")
    assert name.startswith("Протокол очень")


def test_the_name_is_normalised_to_nfc() -> None:
    decomposed = "Отчёт.pdf".replace("ё", "е\u0308")
    assert safe_original_name(decomposed) == "Отчёт.pdf"


def test_inspected_names_are_sanitised() -> None:
    inspected = inspect_upload(upload("..\\..\\secret/Ответ управления.pdf", PDF))
    assert inspected.original_name == "Ответ управления.pdf"


# --- storage ----------------------------------------------------------------------------


def test_the_storage_name_is_generated() -> None:
    moment = datetime(2025, 3, 9, 12, 0, tzinfo=UTC)
    name = generated_storage_name("pdf", now=moment)
    prefix, _, rest = name.rpartition("/")
    assert prefix == "attachments/2025/03"
    stem, _, extension = rest.partition(".")
    assert extension == "pdf"
    assert len(stem) == 32
    assert int(stem, 16) >= 0
    assert generated_storage_name("pdf", now=moment) != name


def test_the_storage_month_is_local_time(settings) -> None:
    # 20:00 UTC on 31 March is already 1 April in Almaty (UTC+5).
    settings.TIME_ZONE = "Asia/Almaty"
    name = generated_storage_name("png", now=datetime(2025, 3, 31, 20, 0, tzinfo=UTC))
    assert name.startswith("attachments/2025/04/")


def test_the_storage_name_never_contains_the_original_name() -> None:
    original = "Ответ управления ../../etc/passwd.pdf"
    inspected = inspect_upload(upload(original, PDF))
    stored = generated_storage_name(inspected.extension)
    assert stored.startswith("attachments/")
    assert stored.endswith(".pdf")
    for part in ("Ответ", "управления", "passwd", "..", "etc"):
        assert part not in stored


@pytest.mark.parametrize("extension", ["PDF", ".docx", "jpeg"])
def test_the_storage_extension_is_normalised(extension: str) -> None:
    assert generated_storage_name(extension).endswith("." + extension.lower().lstrip("."))


@pytest.mark.parametrize("extension", ["exe", "pdf/../../x", "", "html"])
def test_the_storage_name_refuses_other_extensions(extension: str) -> None:
    with pytest.raises(ValueError):
        generated_storage_name(extension)


def test_a_workbook_written_by_openpyxl_is_accepted() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Депутат", "Запрос"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    inspected = inspect_upload(upload("Отчёт.xlsx", buffer.getvalue()))
    assert inspected.extension == "xlsx"
