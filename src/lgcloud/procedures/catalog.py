"""Reading procedure definitions from YAML (procedures/definitions/*.yaml)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .rules.definitions import Definition, DefinitionError, parse_definition

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"


@dataclass(frozen=True)
class DefinitionFile:
    path: Path
    content: dict[str, Any]
    sha256: str
    definition: Definition


def canonical_hash(content: dict[str, Any]) -> str:
    """SHA-256 over the content as canonical JSON: comments and key order in the YAML do not count."""
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_file(path: Path) -> DefinitionFile:
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DefinitionError([f"{path.name}: YAML として読めません（{exc.__class__.__name__}）"]) from exc
    try:
        definition = parse_definition(content)
    except DefinitionError as exc:
        raise DefinitionError([f"{path.name}: {p}" for p in exc.problems]) from exc
    if path.stem != definition.code:
        raise DefinitionError([f"{path.name}: ファイル名と code（{definition.code}）を一致させてください"])
    return DefinitionFile(path, content, canonical_hash(content), definition)


def load_all(directory: Path = DEFINITIONS_DIR) -> list[DefinitionFile]:
    """Every definition in ``directory``; any broken file refuses the whole set."""
    files: list[DefinitionFile] = []
    problems: list[str] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            files.append(load_file(path))
        except DefinitionError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DefinitionError(problems)
    return files
