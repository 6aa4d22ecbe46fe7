"""Where the portal's files live: Django's default storage, a local folder or an object store.

``FILE_STORAGE=local`` (the default) keeps files under ``MEDIA_ROOT``; ``FILE_STORAGE=s3``
keeps them in an S3-compatible bucket (django-storages' ``S3Storage``). Everything that
stores or serves a file goes through this module, so the two behave the same:

- :func:`publish` puts a finished file in place in one step: a rename on the local disk,
  one upload (atomic by nature: an object is there whole or not at all) in a bucket. A
  reader never sees half a file.
- :func:`staging_dir` is where a file is written before it is published: beside its final
  place on the local disk (so the rename stays on one file system), in a local folder of
  this machine for a bucket.
- :func:`stored_file_response` streams a stored file to the client as an attachment. Files
  are never public: the callers are the views that check who may read the file first, and
  no bucket address (public or pre-signed) is ever handed out.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse

__all__ = [
    "is_local",
    "is_safe_name",
    "publish",
    "staging_dir",
    "stored_exists",
    "stored_file_response",
]


def is_local() -> bool:
    """Whether files are kept on this machine's disk (``FILE_STORAGE=local``)."""
    return isinstance(default_storage, FileSystemStorage)


def is_safe_name(name: str, *, under: str) -> bool:
    """Whether ``name`` is a plain relative name inside the folder ``under`` (no ``..``)."""
    if not name or name.startswith("/") or "\\" in name:
        return False
    return posixpath.normpath(name) == name and name.startswith(under.rstrip("/") + "/")


def staging_dir(folder: str) -> Path:
    """A local folder where files bound for ``folder`` are written before :func:`publish`."""
    if is_local():
        path = Path(default_storage.path(folder))
    else:
        path = Path(getattr(settings, "VAR_DIR", "/tmp")) / "staging" / folder
    path.mkdir(parents=True, exist_ok=True)
    return path


def publish(local_path: Path, name: str) -> None:
    """Move the finished local file ``local_path`` to ``name`` in the storage, atomically.

    An existing file of that name is replaced. The local file is gone afterwards.
    """
    if is_local():
        target = Path(default_storage.path(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(local_path, target)  # atomic on one file system (see staging_dir)
        return
    with open(local_path, "rb") as handle:
        stored = default_storage.save(name, File(handle, name=posixpath.basename(name)))
    if stored != name:  # pragma: no cover - AWS_S3_FILE_OVERWRITE keeps the name
        raise RuntimeError(f"the storage stored {name!r} as {stored!r}")
    local_path.unlink(missing_ok=True)


def stored_exists(name: str) -> bool:
    return bool(default_storage.exists(name))


def _open_stream(name: str) -> tuple[IO[bytes], int | None]:
    """A readable stream of the stored file and its size if known; FileNotFoundError if none.

    From a bucket the object's body is read as it arrives (never downloaded whole first).
    """
    if not name:
        raise FileNotFoundError("no file")
    if is_local():
        return default_storage.open(name, "rb"), None
    from botocore.exceptions import ClientError
    from storages.utils import clean_name

    storage: Any = default_storage
    try:
        answer = storage.bucket.Object(storage._normalize_name(clean_name(name))).get()
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in {"404", "NoSuchKey", "NotFound"}:
            raise FileNotFoundError(name) from error
        raise
    return answer["Body"], int(answer["ContentLength"])


def stored_file_response(name: str, *, filename: str, content_type: str) -> FileResponse:
    """The stored file ``name`` streamed as a download; raises FileNotFoundError if missing.

    The caller has already decided that the user may read it.
    """
    handle, size = _open_stream(name)
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type=content_type
    )
    if size is not None:
        response["Content-Length"] = str(size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
