"""A bundle on disk: one UTF-8 CSV per entity (RFC 4180) and ``manifest.json``.

CSV: UTF-8 without BOM, comma-separated, CRLF line ends, a header row of item
IDs, fields quoted only when they contain a comma, a double quote or a line
break (quotes doubled). Rows are sorted by the entity's key.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .layout import ENTITIES, LAYOUT_NAME, LAYOUT_VERSION, Entity

MANIFEST = "manifest.json"


class BundleError(Exception):
    """The bundle cannot be read at all (no manifest, unreadable file): a Japanese message."""


class _Dialect(csv.Dialect):
    delimiter = ","
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\r\n"
    quoting = csv.QUOTE_MINIMAL
    strict = True


DIALECT = _Dialect


def open_writer(path: Path) -> tuple[IO[str], Any]:
    handle = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 — closed by the caller
    return handle, csv.writer(handle, dialect=DIALECT)


def header(entity: Entity) -> list[str]:
    return [it.id for it in entity.items]


def read_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number where the record starts, values) for every row after the header; the header is line 1."""
    with open(path, encoding="utf-8", newline="", errors="strict") as handle:
        reader = csv.reader(handle, dialect=DIALECT)
        start = 1
        for row in reader:
            yield start, row
            start = reader.line_num + 1


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileEntry:
    entity: str
    file: str
    rows: int
    sha256: str


def write_manifest(
    directory: Path,
    *,
    lg_code: str,
    municipality_name: str,
    files: list[FileEntry],
    excluded: list[str],
    exported_at: datetime | None = None,
    generator: str = "lgcloud",
) -> dict[str, Any]:
    manifest = {
        "layout": LAYOUT_NAME,
        "layout_version": LAYOUT_VERSION,
        "municipality": {"code": lg_code, "name": municipality_name},
        "exported_at": (exported_at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generator": generator,
        "excluded": sorted(excluded),
        "files": [{"entity": f.entity, "file": f.file, "rows": f.rows, "sha256": f.sha256} for f in files],
    }
    tmp = directory / (MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    os.replace(tmp, directory / MANIFEST)
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not directory.is_dir():
        raise BundleError(f"フォルダ {directory} がありません。")
    if not path.is_file():
        raise BundleError(f"{MANIFEST} がありません（{directory}）。標準レイアウトの出力フォルダを指定してください。")
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{MANIFEST} を JSON として読めません: {exc}") from None
    if not isinstance(data, dict):
        raise BundleError(f"{MANIFEST} の形式が違います（オブジェクトではありません）。")
    return data


def entity_files() -> list[tuple[Entity, str]]:
    return [(e, e.file_name) for e in ENTITIES]
