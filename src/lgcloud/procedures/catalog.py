"""Reading procedure definitions: YAML files the installed apps ship (``Manifest.procedures``).

Each definition is checked as a value (rules/definitions.py) and against the installed apps (its
approval effect, prefill items and choice sources exist: procedures.hooks) before anything is
published; one broken file refuses the whole set.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lgcloud.contract.discovery import installed

from . import hooks
from .rules.definitions import Definition, DefinitionError, parse_definition


def definition_dirs() -> list[Path]:
    """The folders of definitions the installed apps ship, in app id order."""
    out = []
    for m in installed().values():
        if m.procedures:
            spec = importlib.util.find_spec(m.procedures)
            if spec is None or not spec.submodule_search_locations:
                raise DefinitionError([f"{m.id}: procedures パッケージ {m.procedures} が見つかりません"])
            out.append(Path(next(iter(spec.submodule_search_locations))))
    return out


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
    problems = hooks.check_definition(definition, content)
    if problems:
        raise DefinitionError([f"{path.name}: {p}" for p in problems])
    if path.stem != definition.code:
        raise DefinitionError([f"{path.name}: ファイル名と code（{definition.code}）を一致させてください"])
    return DefinitionFile(path, content, canonical_hash(content), definition)


def load_all(directories: list[Path] | None = None) -> list[DefinitionFile]:
    """Every definition in ``directories`` (default: the installed apps'); any broken file refuses the set."""
    files: list[DefinitionFile] = []
    problems: list[str] = []
    paths = sorted(p for d in (definition_dirs() if directories is None else directories) for p in d.glob("*.yaml"))
    codes = [p.stem for p in paths]
    problems += [f"{c}.yaml: 同じ code の手続が二つあります" for c in sorted({c for c in codes if codes.count(c) > 1})]
    for path in paths:
        try:
            files.append(load_file(path))
        except DefinitionError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DefinitionError(problems)
    return files
