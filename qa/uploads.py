"""Documents uploaded from the page: checked, given a safe name, and copied into the corpus."""

from __future__ import annotations

import os
import shutil
import tempfile
import unicodedata
import uuid
from pathlib import Path

from .documents import SUPPORTED, Skipped, read_document
from .errors import UploadRejected

UPLOAD_SUFFIXES = tuple(s for s in SUPPORTED if s != ".markdown")
MAX_UPLOAD_MB = 20
MAX_NAME_CHARS = 120


def size_label(n: int) -> str:
    """A file size for people: "820 B", "12 KB", "3.4 MB"."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def max_upload_bytes() -> int:
    try:
        mb = float(os.environ.get("QA_MAX_UPLOAD_MB", MAX_UPLOAD_MB))
    except ValueError:
        mb = MAX_UPLOAD_MB
    return int(mb * 1024 * 1024)


def safe_name(name: str) -> str:
    """A file name that stays inside the corpus folder: no folders, no hidden files, tame characters.

    Raises:
        UploadRejected: the type is not one the corpus reads.
    """
    base = unicodedata.normalize("NFKC", str(name)).replace("\\", "/").split("/")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = f".{suffix.lower()}" if suffix else ""
    if suffix not in UPLOAD_SUFFIXES:
        raise UploadRejected(
            f"{suffix or 'a file without an extension'} cannot be added: only "
            f"{', '.join(UPLOAD_SUFFIXES)} files are supported"
        )
    cleaned = "".join(ch if ch.isalnum() or ch in "-_. " else "_" for ch in stem)
    cleaned = " ".join(cleaned.split()).strip(" ._-")[: MAX_NAME_CHARS - len(suffix)]
    return (cleaned or "document") + suffix


def add_upload(seeds_dir: str | Path, path: str | Path, original_name: str | None = None) -> tuple[str, bool]:
    """Copy an uploaded file into the corpus folder after checking it can be read.

    Args:
        seeds_dir: the corpus folder.
        path: the uploaded file (a temporary copy).
        original_name: the name the user gave it (defaults to the file's name).

    Returns:
        The document id it got and whether it replaced a document of the same name.

    Raises:
        UploadRejected: wrong type, too big, empty or unreadable; the corpus is unchanged.
    """
    seeds_dir = Path(seeds_dir)
    path = Path(path)
    name = safe_name(original_name or path.name)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UploadRejected(f"the upload cannot be read ({exc.strerror or exc})") from exc
    limit = max_upload_bytes()
    if size > limit:
        raise UploadRejected(f"it is {size_label(size)}; files up to {size_label(limit)} can be added")
    if size == 0:
        raise UploadRejected("it is empty")
    root = seeds_dir.resolve()
    target = root / name
    if target.parent != root:  # pragma: no cover - safe_name leaves no separator to escape with
        raise UploadRejected("its name points outside the documents folder")
    with tempfile.TemporaryDirectory(prefix="qa-upload-") as tmp:
        probe = Path(tmp) / name
        shutil.copyfile(path, probe)
        doc = read_document(tmp, name)
        if isinstance(doc, Skipped):
            raise UploadRejected(f"it cannot be indexed: it {doc.reason}")
    replaced = target.exists()
    if replaced and not target.is_file():
        raise UploadRejected("a folder of that name is in the way")
    staging = root / f".upload-{uuid.uuid4().hex}{target.suffix}"
    try:
        shutil.copyfile(path, staging)
        os.replace(staging, target)  # atomic: a half-copied file is never indexed
    except OSError as exc:
        staging.unlink(missing_ok=True)
        raise UploadRejected(f"it could not be saved ({exc.strerror or exc})") from exc
    return name, replaced
