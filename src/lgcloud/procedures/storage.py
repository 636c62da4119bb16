"""Attachments on disk: checked (type, size, a virus-scan hook), stored under their municipality.

Layout: ``<LGCLOUD_ATTACHMENT_DIR>/<lg_code>/<yyyy>/<mm>/<random>`` — the municipality is the
first path segment, and :func:`read` refuses a path that does not start with the reader's
municipality (the second wall behind the tenant-filtered queries in access.py). Files are
never served by the web server directly, only through a view that checks access first.

Virus scanning: ``LGCLOUD_ATTACHMENT_SCANNER`` names a callable ``scan(data: bytes, *, filename:
str, content_type: str) -> ScanVerdict`` (dotted path). It runs before anything is written; a
verdict with ``clean=False`` refuses the file with the verdict's (Japanese) message. Without a
scanner the file is stored as ``not_scanned`` and the review page says so. See docs/procedures.md.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

MAGIC: dict[str, tuple[bytes, str]] = {
    "pdf": (b"%PDF-", "application/pdf"),
    "jpeg": (b"\xff\xd8\xff", "image/jpeg"),
    "png": (b"\x89PNG\r\n\x1a\n", "image/png"),
}


class AttachmentRefused(ValueError):
    """The file is refused; the message is Japanese and names no personal data."""


@dataclass(frozen=True)
class ScanVerdict:
    clean: bool
    message: str = ""


class Scanner(Protocol):
    def __call__(self, data: bytes, *, filename: str, content_type: str) -> ScanVerdict: ...


@dataclass(frozen=True)
class StoredFile:
    storage_path: str
    content_type: str
    size: int
    sha256: str
    scan_status: str


def root() -> Path:
    return Path(settings.ATTACHMENT_DIR)


def sniff(data: bytes, allowed: tuple[str, ...]) -> str:
    """The content type from the file's own first bytes, if it is one of ``allowed``."""
    for kind in allowed:
        magic, content_type = MAGIC[kind]
        if data.startswith(magic):
            return content_type
    names = "・".join(k.upper() for k in allowed)
    raise AttachmentRefused(f"ファイルの形式が対応していません（{names} のみ）。")


def scanner() -> Scanner | None:
    path = settings.ATTACHMENT_SCANNER
    return import_string(path) if path else None


def store(
    lg_code: str, data: bytes, *, filename: str, allowed: tuple[str, ...], max_bytes: int, now: datetime
) -> StoredFile:
    """Check and write one file for ``lg_code``; nothing is written when it is refused."""
    if not data:
        raise AttachmentRefused("ファイルが空です。")
    limit = min(max_bytes, settings.ATTACHMENT_MAX_BYTES)
    if len(data) > limit:
        raise AttachmentRefused(f"ファイルが大きすぎます（{limit // (1024 * 1024)}MB まで）。")
    content_type = sniff(data, allowed)
    scan = scanner()
    status = "not_scanned"
    if scan is not None:
        verdict = scan(data, filename=filename, content_type=content_type)
        if not verdict.clean:
            raise AttachmentRefused(verdict.message or "ファイルからウイルス等が検出されたため受け付けられません。")
        status = "clean"
    relative = Path(lg_code) / f"{now:%Y}" / f"{now:%m}" / secrets.token_hex(16)
    target = root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    target.chmod(0o600)
    return StoredFile(str(relative), content_type, len(data), hashlib.sha256(data).hexdigest(), status)


def store_document(lg_code: str, data: bytes, *, content_type: str, now: datetime) -> StoredFile:
    """A document lgcloud made itself (e.g. an issued certificate), stored like an attachment."""
    relative = Path(lg_code) / f"{now:%Y}" / f"{now:%m}" / secrets.token_hex(16)
    target = root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    target.chmod(0o600)
    return StoredFile(str(relative), content_type, len(data), hashlib.sha256(data).hexdigest(), "generated")


def read(lg_code: str, storage_path: str) -> bytes:
    """The bytes of a stored file of ``lg_code``; refuses any path outside that municipality's folder."""
    base = (root() / lg_code).resolve()
    target = (root() / storage_path).resolve()
    if base not in target.parents:
        raise PermissionError("別の団体のファイルです。")
    return target.read_bytes()


def remove(storage_path: str) -> None:
    """Clean-up of a file whose database row was rolled back."""
    (root() / storage_path).unlink(missing_ok=True)
