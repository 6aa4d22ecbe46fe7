"""The one place that decides whether an uploaded file may be attached.

Deputy requests and protocol instructions accept the same attachments: PDF, Word
(DOC, DOCX), Excel (XLS, XLSX), OpenDocument text (ODT) and JPEG/PNG images, up to
``settings.ATTACHMENT_MAX_BYTES``. The type is decided by the file's CONTENT — never
by the client's ``Content-Type`` or by the name alone: the extension says what the
file claims to be and the first bytes (and, for ZIP-based formats, the archive's
directory) must agree.

The name the user gave is only *displayed* (after :func:`safe_original_name`); the
bytes are stored under :func:`generated_storage_name`, never under the user's name.
Downloads use :data:`CONTENT_TYPES`, with ``Content-Disposition: attachment`` and
``X-Content-Type-Options: nosniff`` set by the view.
"""

from __future__ import annotations

import hashlib
import struct
import unicodedata
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import formats, timezone
from django.utils.translation import gettext

from maslikhat.core.exceptions import ValidationFailed

__all__ = [
    "ALLOWED_EXTENSIONS",
    "CONTENT_TYPES",
    "MAX_NAME_LENGTH",
    "MAX_ZIP_MEMBERS",
    "MAX_ZIP_UNCOMPRESSED_BYTES",
    "InspectedFile",
    "generated_storage_name",
    "inspect_upload",
    "safe_original_name",
]

MIB = 1024 * 1024

#: Extension (lower case, no dot) -> MIME type sent with downloads.
CONTENT_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "pdf": "application/pdf",
        "doc": "application/msword",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls": "application/vnd.ms-excel",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt": "application/vnd.oasis.opendocument.text",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "png": "image/png",
    }
)

#: The extensions that may be attached, in the order they are listed to users.
ALLOWED_EXTENSIONS: tuple[str, ...] = tuple(CONTENT_TYPES)

#: ZIP-based formats (DOCX, XLSX, ODT): refuse archives that would expand beyond this
#: (sum of the uncompressed sizes declared in the central directory) ...
MAX_ZIP_UNCOMPRESSED_BYTES = 200 * MIB
#: ... or that hold more members than this.
MAX_ZIP_MEMBERS = 10_000
#: A central directory of MAX_ZIP_MEMBERS entries with generous names fits in this;
#: checked before :mod:`zipfile` parses (and keeps in memory) every entry.
_MAX_CENTRAL_DIRECTORY_BYTES = MAX_ZIP_MEMBERS * 1024

#: Longest displayed file name, in characters, extension included.
MAX_NAME_LENGTH = 150

_CHUNK_SIZE = 64 * 1024
_HEAD_SIZE = 8

_PDF_MAGIC = b"%PDF-"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"

_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
#: The member a genuine OOXML document of each kind must contain.
_OOXML_MAIN_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}

#: Characters that may not appear in a file name on Windows (plus both separators).
_ILLEGAL_NAME_CHARS = frozenset('<>:"/\\|?*')
#: Unicode categories removed from names: controls, format characters (e.g. the
#: right-to-left override used to disguise "gpj.exe"), surrogates, private use.
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
_MAX_EXTENSION_LENGTH = 10

#: Anything :mod:`zipfile` may raise on a damaged or hostile archive.
_ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    IndexError,
    NotImplementedError,
    RuntimeError,
    UnicodeDecodeError,
)


@dataclass(frozen=True, slots=True)
class InspectedFile:
    """An upload that may be attached: what to display, store and serve."""

    original_name: str  # sanitised, for display only (see safe_original_name)
    extension: str  # lower case, no dot, a key of CONTENT_TYPES
    content_type: str  # CONTENT_TYPES[extension], decided by us, not by the client
    size: int  # bytes, counted while hashing
    sha256: str  # hex digest of the content


def inspect_upload(upload: UploadedFile) -> InspectedFile:
    """Check ``upload`` and describe it, or raise :class:`ValidationFailed` (field "file").

    Checks, in order: the extension is allowed; the file is not empty and not larger
    than ``settings.ATTACHMENT_MAX_BYTES``; the content matches the extension. The
    content is streamed in chunks (never read whole into memory) and the file
    position is left at 0, whatever the outcome.
    """
    original_name = safe_original_name(upload.name or "")
    extension = _extension_of(original_name)
    if extension not in CONTENT_TYPES:
        raise ValidationFailed(
            gettext("Files of this type cannot be attached. Allowed types: %(allowed)s.")
            % {"allowed": ", ".join(ext.upper() for ext in ALLOWED_EXTENSIONS)},
            field="file",
        )
    limit = int(settings.ATTACHMENT_MAX_BYTES)
    try:
        size, sha256 = _measure(upload, limit)
        if size == 0:
            raise ValidationFailed(gettext("The file is empty."), field="file")
        if size > limit:
            raise ValidationFailed(
                gettext("The file is too large. The maximum size is %(limit)s MB.")
                % {"limit": _megabytes(limit)},
                field="file",
            )
        _check_content(upload, extension, size)
    finally:
        upload.seek(0)
    return InspectedFile(
        original_name=original_name,
        extension=extension,
        content_type=CONTENT_TYPES[extension],
        size=size,
        sha256=sha256,
    )


def safe_original_name(name: str) -> str:
    """A file name that is safe to display and to offer in ``Content-Disposition``.

    Keeps only the base name (both ``/`` and ``\\`` count as separators), removes
    control characters and the characters Windows forbids (``<>:"/\\|?*``), collapses
    whitespace, strips leading dots, trims to :data:`MAX_NAME_LENGTH` characters
    keeping the extension, and falls back to ``file.<ext>`` (or ``file``) when nothing
    is left. Unicode (Cyrillic, Kazakh) letters are kept, normalised to NFC.
    """
    name = unicodedata.normalize("NFC", name)
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = " ".join(base.split())  # every run of whitespace (incl. tabs, newlines) -> " "
    base = "".join(
        char
        for char in base
        if char not in _ILLEGAL_NAME_CHARS and unicodedata.category(char) not in _REMOVED_CATEGORIES
    )
    base = " ".join(base.split())  # removals may have left doubled spaces
    stem, extension = _split_extension(base)
    stem = stem.lstrip(". ").rstrip(". ")
    suffix = f".{extension}" if extension else ""
    if not stem:
        stem = "file"
    stem = stem[: MAX_NAME_LENGTH - len(suffix)].rstrip(". ") or "file"
    return f"{stem}{suffix}"


def generated_storage_name(extension: str, *, now: datetime | None = None) -> str:
    """Where to store an attachment: ``attachments/YYYY/MM/<uuid4 hex>.<ext>``.

    ``extension`` is one of :data:`CONTENT_TYPES` (case and a leading dot are
    ignored); the month is the local (``TIME_ZONE``) month of ``now``, default now.
    Never derived from the user's file name.
    """
    ext = extension.lower().removeprefix(".")
    if ext not in CONTENT_TYPES:
        raise ValueError(f"not an attachment extension: {extension!r}")
    moment = now if now is not None else timezone.now()
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return f"attachments/{moment:%Y}/{moment:%m}/{uuid.uuid4().hex}.{ext}"


# --- helpers ---------------------------------------------------------------------------


def _split_extension(base: str) -> tuple[str, str]:
    """("report.final", "pdf") for "report.final.pdf"; ("notes", "") when there is none.

    Only a short run of letters and digits after the last dot counts as an extension,
    so ".pdf" is ("", "pdf") and "Ответ от 1.03 управления" has none.
    """
    stem, dot, extension = base.rpartition(".")
    if dot and extension.isalnum() and len(extension) <= _MAX_EXTENSION_LENGTH:
        return stem, extension
    return base, ""


def _extension_of(display_name: str) -> str:
    return _split_extension(display_name)[1].lower()


def _measure(upload: UploadedFile, limit: int) -> tuple[int, str]:
    """Size and SHA-256 of the content, streamed; stops counting just past ``limit``."""
    digest = hashlib.sha256()
    size = 0
    upload.seek(0)
    while chunk := upload.read(_CHUNK_SIZE):
        size += len(chunk)
        if size > limit:
            break
        digest.update(chunk)
    return size, digest.hexdigest()


def _megabytes(limit: int) -> str:
    """The limit in MB as users read it: "20", "0.5" (with the locale's decimal mark)."""
    megabytes = limit / MIB
    if megabytes.is_integer():
        return str(int(megabytes))
    text = f"{megabytes:.3f}" if megabytes < 1 else f"{megabytes:.1f}"
    text = text.rstrip("0").rstrip(".") or "0"
    return text.replace(".", str(formats.get_format("DECIMAL_SEPARATOR")))


def _mismatch(extension: str) -> ValidationFailed:
    return ValidationFailed(
        gettext(
            "The file's content does not match its extension .%(extension)s. "
            "Attach the original document, not a renamed file."
        )
        % {"extension": extension},
        field="file",
    )


def _check_content(upload: UploadedFile, extension: str, size: int) -> None:
    upload.seek(0)
    head = upload.read(_HEAD_SIZE)
    if extension == "pdf":
        ok = head.startswith(_PDF_MAGIC)
    elif extension == "png":
        ok = head.startswith(_PNG_MAGIC)
    elif extension in ("jpg", "jpeg"):
        ok = head.startswith(_JPEG_MAGIC)
    elif extension in ("doc", "xls"):
        # OLE2 compound file; Word vs Excel would need the directory walked: not worth it.
        ok = head.startswith(_OLE2_MAGIC)
    else:  # docx, xlsx, odt
        if not head.startswith(_ZIP_MAGIC):
            raise _mismatch(extension)
        _check_zip(upload, extension, size)
        return
    if not ok:
        raise _mismatch(extension)


def _check_zip(upload: UploadedFile, extension: str, size: int) -> None:
    damaged = ValidationFailed(
        gettext("The file is damaged and cannot be opened as a .%(extension)s document.")
        % {"extension": extension},
        field="file",
    )
    too_big = ValidationFailed(
        gettext(
            "The file cannot be accepted: its compressed contents are too large "
            "or consist of too many parts."
        ),
        field="file",
    )
    try:
        entries, directory_bytes = _central_directory_summary(upload, size)
        if entries > MAX_ZIP_MEMBERS or directory_bytes > _MAX_CENTRAL_DIRECTORY_BYTES:
            raise too_big
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise too_big
            if sum(member.file_size for member in members) > MAX_ZIP_UNCOMPRESSED_BYTES:
                raise too_big
            names = {member.filename for member in members}
            if extension == "odt":
                if "mimetype" not in names:
                    raise _mismatch(extension)
                with archive.open("mimetype") as member_file:
                    declared = member_file.read(len(_ODT_MIMETYPE) + 1)
                if declared != _ODT_MIMETYPE:
                    raise _mismatch(extension)
            elif _OOXML_MAIN_PART[extension] not in names:
                raise _mismatch(extension)
    except ValidationFailed:
        raise
    except _ZIP_ERRORS as error:
        raise damaged from error


def _central_directory_summary(fp: IO[Any], size: int) -> tuple[int, int]:
    """(declared entry count, central directory size in bytes) from the end records.

    Read before :mod:`zipfile` parses the directory, so that a 20 MB upload cannot
    make it build hundreds of thousands of entries in memory.
    """
    eocd = struct.Struct("<4s4H2LH")  # end of central directory record
    locator = struct.Struct("<4sLQL")  # ZIP64 end of central directory locator
    zip64_eocd = struct.Struct("<4sQ2H2L4Q")  # ZIP64 end of central directory record
    tail_size = min(size, eocd.size + 0xFFFF)
    fp.seek(size - tail_size)
    tail = fp.read(tail_size)
    position = tail.rfind(b"PK\x05\x06")
    if position < 0 or position + eocd.size > len(tail):
        raise zipfile.BadZipFile("no end of central directory record")
    record = eocd.unpack_from(tail, position)
    entries, directory_bytes = int(record[4]), int(record[5])
    if entries != 0xFFFF and directory_bytes != 0xFFFFFFFF:
        return entries, directory_bytes
    # ZIP64: the real numbers are in the ZIP64 record the locator points at.
    locator_position = position - locator.size
    if locator_position < 0:
        raise zipfile.BadZipFile("ZIP64 locator missing")
    signature, _disk, zip64_offset, _disks = locator.unpack_from(tail, locator_position)
    if signature != b"PK\x06\x07" or not 0 <= zip64_offset <= size - zip64_eocd.size:
        raise zipfile.BadZipFile("ZIP64 locator damaged")
    fp.seek(zip64_offset)
    data = fp.read(zip64_eocd.size)
    if len(data) != zip64_eocd.size:
        raise zipfile.BadZipFile("ZIP64 record truncated")
    fields = zip64_eocd.unpack(data)
    if fields[0] != b"PK\x06\x06":
        raise zipfile.BadZipFile("ZIP64 record damaged")
    return int(fields[7]), int(fields[8])
