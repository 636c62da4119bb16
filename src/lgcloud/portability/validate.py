"""Check a bundle against the standard layout: every file, line and item, before anything is imported.

What is checked:

- the manifest: layout name and version, the municipality code (check digit),
  every entity's file present, row counts and SHA-256 as stated;
- each file: UTF-8, the header row (the entity's item IDs in order), the number
  of values per row;
- each value: required or not, type (digits, integer, date that exists, UTC
  time, full-width katakana, code of the code table, flag), length (Unicode code
  points), no control characters and no U+FFFD (the mark of a lossy
  conversion); 個人番号 check digits;
- each file's key: unique and in ascending order;
- references between files (世帯番号, 宛名番号, 異動番号, 修正対象), one address row
  per person, a foreign_resident row exactly for foreign residents, at most one
  世帯主 per household among those not removed, 履歴連番 1…n per person, and
  each person's current record equal to their last 異動履歴.

A value is checked by one regular expression per row (all the row's item
patterns joined), so a million rows take seconds; only a row that fails is
checked item by item to name each problem. Messages never repeat a personal
value (個人番号 above all): they name the file, line, item ID and the reason.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from pathlib import Path
from typing import Any

from lgcloud.core.checkdigits import CheckDigitError, validate_individual_number, validate_lg_code

from .bundle import MANIFEST, BundleError, header, read_manifest, read_rows, sha256_of
from .layout import (
    ADDRESS,
    CHANGE,
    CHANGE_RECORD,
    DATE_PATTERN,
    DATETIME_PATTERN,
    ENTITIES,
    FOREIGN_RESIDENT,
    HOUSEHOLD,
    INDIVIDUAL_NUMBER,
    INTEGER_PATTERN,
    KANA_PATTERN,
    LAYOUT_NAME,
    LAYOUT_VERSION,
    PERSON,
    PROTECTION,
    RECORD_KEY,
    Entity,
    Item,
    ItemType,
    code_table,
    digits_pattern,
)

DEFAULT_CAP = 200
SEPARATOR = "\x1f"  # a control character: never inside a valid value, so the joined row splits unambiguously
_FORBIDDEN = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\uFFFD]")
_TEXT_CHARS = r"[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\uFFFD]"


@dataclass(frozen=True)
class Finding:
    file: str
    line: int  # 0: the file as a whole
    item: str  # item ID, or "" for the row or file
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} {self.item} {self.reason}".replace("  ", " ")


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    cap: int = DEFAULT_CAP

    @property
    def ok(self) -> bool:
        return self.total == 0

    def add(self, file: str, line: int, item: str, reason: str) -> None:
        self.total += 1
        if len(self.findings) < self.cap:
            self.findings.append(Finding(file, line, item, reason))


def _value_pattern(item: Item) -> str:
    t = item.type
    if t is ItemType.DIGITS:
        body = f"[0-9]{{{item.length}}}"
    elif t is ItemType.INTEGER:
        body = f"(?:0|[1-9][0-9]{{0,{item.length - 1}}})"
    elif t is ItemType.DATE:
        body = DATE_PATTERN[1:-1]
    elif t is ItemType.DATETIME:
        body = DATETIME_PATTERN[1:-1]
    elif t is ItemType.CODE or t is ItemType.FLAG:
        body = "(?:" + "|".join(re.escape(c.code) for c in code_table(item.code_table).codes) + ")"
    elif t is ItemType.KANA:
        body = f"{KANA_PATTERN[1:-2]}{{1,{item.length}}}"
    else:
        body = f"{_TEXT_CHARS}{{1,{item.length}}}"
    return body if item.required else f"(?:{body})?"


def row_pattern(entity: Entity) -> re.Pattern[str]:
    return re.compile(SEPARATOR.join(f"(?:{_value_pattern(it)})" for it in entity.items))


def item_problem(item: Item, value: str) -> str | None:
    """Why one value is wrong (Japanese, without the value itself), or None."""
    if value == "":
        return "必須項目が空です。" if item.required else None
    if _FORBIDDEN.search(value):
        return "制御文字または置換文字（U+FFFD）を含みます。"
    t = item.type
    if t is ItemType.DIGITS:
        if not re.fullmatch(digits_pattern(item.length)[1:-1], value):
            return f"半角数字{item.length}桁ではありません。"
        return None
    if t is ItemType.INTEGER:
        if not re.fullmatch(INTEGER_PATTERN[1:-1], value):
            return "整数（半角数字、先頭に0なし）ではありません。"
        if len(value) > item.length:
            return f"{item.length}桁を超えています。"
        return None
    if t is ItemType.DATE:
        if not re.fullmatch(DATE_PATTERN[1:-1], value):
            return "日付の形式（YYYY-MM-DD）ではありません。"
        return None
    if t is ItemType.DATETIME:
        if not re.fullmatch(DATETIME_PATTERN[1:-1], value):
            return "日時の形式（YYYY-MM-DDTHH:MM:SS.ffffffZ、UTC）ではありません。"
        return None
    if t is ItemType.CODE or t is ItemType.FLAG:
        table = code_table(item.code_table)
        if value not in table.by_code():
            shown = value if len(value) <= 4 else value[:4] + "…"
            return f"{table.name}にないコード「{shown}」です。"
        return None
    if len(value) > item.length:
        return f"長すぎます（最大{item.length}文字、{len(value)}文字）。"
    if t is ItemType.KANA and not re.fullmatch(KANA_PATTERN[1:-1], value):
        return "全角カタカナではない文字を含みます。"
    return None


class _DateCheck:
    """Dates repeat (birth dates, 異動日): each distinct text is parsed once."""

    def __init__(self) -> None:
        self.good: set[str] = set()

    def bad(self, value: str) -> bool:
        if not value or value in self.good:
            return False
        try:
            date.fromisoformat(value)
        except ValueError:
            return True
        self.good.add(value)
        return False


@dataclass
class _Seen:
    households: set[int] = field(default_factory=set)
    persons: set[int] = field(default_factory=set)
    foreign_persons: set[int] = field(default_factory=set)
    changes: set[int] = field(default_factory=set)
    heads: Counter[int] = field(default_factory=Counter)
    person_households: dict[int, int] = field(default_factory=dict)


def _rows(report: Report, directory: Path, entity: Entity, dates: _DateCheck) -> Iterator[tuple[int, list[str], bool]]:
    """(line, values, all valid) for the rows whose keys and references can be read; problems go to the report.

    A row with a bad value is still yielded (valid False) when its key and references are sound, so the
    rows that refer to it are not reported too; its own semantic checks are skipped.
    """
    name = entity.file_name
    path = directory / name
    if not path.is_file():
        report.add(name, 0, "", "ファイルがありません。")
        return
    pattern = row_pattern(entity)
    width = len(entity.items)
    date_columns = [i for i, it in enumerate(entity.items) if it.type is ItemType.DATE]
    number_column = next((i for i, it in enumerate(entity.items) if it.id == "001-N002"), None)
    key_columns = [i for i, it in enumerate(entity.items) if it.id in entity.key]
    key_int = [entity.items[i].type is ItemType.INTEGER for i in key_columns]
    reference_columns = [i for i, it in enumerate(entity.items) if it.references]
    previous: tuple[Any, ...] | None = None
    count = 0
    rows = read_rows(path)
    try:
        first = next(rows, None)
        if first is None or first[1] != header(entity):
            report.add(name, 1, "", "見出し行が標準レイアウトの項目IDと一致しません（順序も含む）。")
            return
        for line, row in rows:
            count += 1
            if len(row) != width:
                report.add(name, line, "", f"項目の数が{width}ではありません（{len(row)}）。")
                continue
            if not pattern.fullmatch(SEPARATOR.join(row)):
                bad_columns = set()
                for i, (it, value) in enumerate(zip(entity.items, row, strict=True)):
                    problem = item_problem(it, value)
                    if problem:
                        report.add(name, line, it.id, problem)
                        bad_columns.add(i)
                if not bad_columns & set(key_columns) and not bad_columns & set(reference_columns):
                    # The row still counts as present, so rows naming it are not reported as well.
                    yield line, row, False
                continue
            bad_dates = [i for i in date_columns if dates.bad(row[i])]
            for i in bad_dates:
                report.add(name, line, entity.items[i].id, "存在しない日付です。")
            if number_column is not None:
                try:
                    validate_individual_number(row[number_column])
                except CheckDigitError as exc:
                    report.add(name, line, "001-N002", exc.message)
                    continue
            key = tuple(int(row[i]) if as_int else row[i] for i, as_int in zip(key_columns, key_int, strict=True))
            if previous is not None and key <= previous:
                reason = "キーが重複しています。" if key == previous else "キーの昇順に並んでいません。"
                report.add(name, line, ",".join(entity.key), reason)
                continue
            previous = key
            yield line, row, not bad_dates
    except UnicodeDecodeError as exc:
        report.add(name, 0, "", f"UTF-8 として読めないバイト列があります（{exc.start}バイト目付近）。")
    except csv.Error as exc:  # unbalanced quotes and the like
        report.add(name, 0, "", f"CSV（RFC 4180）として読めません: {exc}")
    finally:
        report.counts[entity.name] = count


def _check_manifest(report: Report, directory: Path, manifest: dict[str, Any]) -> None:
    if manifest.get("layout") != LAYOUT_NAME:
        report.add(MANIFEST, 0, "layout", f"レイアウト名が {LAYOUT_NAME} ではありません。")
    version = str(manifest.get("layout_version", ""))
    if version.split(".")[0] != LAYOUT_VERSION.split(".")[0]:
        report.add(
            MANIFEST, 0, "layout_version", f"対応していないレイアウトの版です（{version}、対応: {LAYOUT_VERSION}）。"
        )
    code = str((manifest.get("municipality") or {}).get("code", ""))
    try:
        validate_lg_code(code)
    except CheckDigitError as exc:
        report.add(MANIFEST, 0, "municipality.code", exc.message)
    listed = {str(f.get("entity")): f for f in manifest.get("files") or [] if isinstance(f, dict)}
    for entity in ENTITIES:
        entry = listed.get(entity.name)
        if entry is None:
            report.add(MANIFEST, 0, "files", f"{entity.name} の記載がありません。")
            continue
        if entry.get("file") != entity.file_name:
            report.add(MANIFEST, 0, "files", f"{entity.name} のファイル名が {entity.file_name} ではありません。")
            continue
        path = directory / entity.file_name
        if path.is_file() and sha256_of(path) != entry.get("sha256"):
            report.add(
                entity.file_name, 0, "", "SHA-256 が manifest.json の値と一致しません（ファイルが変わっています）。"
            )


def verify_bundle(directory: Path, *, cap: int = DEFAULT_CAP, progress: Callable[[str], None] | None = None) -> Report:
    """Check the whole bundle; the report lists the first ``cap`` problems and counts them all."""
    report = Report(cap=cap)
    try:
        manifest = read_manifest(directory)
    except BundleError as exc:
        report.add(MANIFEST, 0, "", str(exc))
        return report
    report.manifest = manifest
    _check_manifest(report, directory, manifest)
    dates = _DateCheck()
    seen = _Seen()
    say = progress or (lambda _name: None)

    say(HOUSEHOLD.name)
    for _line, row, _valid in _rows(report, directory, HOUSEHOLD, dates):
        seen.households.add(int(row[0]))

    say(PERSON.name)
    is_head, status, is_foreign = (_index(PERSON, i) for i in ("001-P003", "001-P011", "001-P027"))
    for line, row, valid in _rows(report, directory, PERSON, dates):
        atena, household = int(row[0]), int(row[1])
        seen.persons.add(atena)
        if household not in seen.households:
            report.add(PERSON.file_name, line, "001-P002", "世帯番号が household にありません。")
        if row[is_foreign] == "1":
            seen.foreign_persons.add(atena)
        if valid and row[is_head] == "1" and row[status] != "3":  # 除票でない世帯主
            seen.heads[household] += 1
            if seen.heads[household] == 2:
                report.add(PERSON.file_name, line, "001-P003", "同じ世帯に世帯主が2人以上います（除票を除く）。")

    say(ADDRESS.name)
    addressed: set[int] = set()
    for line, row, _valid in _rows(report, directory, ADDRESS, dates):
        atena = int(row[0])
        addressed.add(atena)
        if atena not in seen.persons:
            report.add(ADDRESS.file_name, line, "001-A001", "宛名番号が person にありません。")
    if report.counts.get(ADDRESS.name) is not None and (missing := len(seen.persons - addressed)):
        report.add(ADDRESS.file_name, 0, "001-A001", f"住所の行がない住民が{missing}人います。")

    say(FOREIGN_RESIDENT.name)
    foreign: set[int] = set()
    for line, row, _valid in _rows(report, directory, FOREIGN_RESIDENT, dates):
        atena = int(row[0])
        foreign.add(atena)
        if atena not in seen.foreign_persons:
            report.add(FOREIGN_RESIDENT.file_name, line, "001-F001", "外国人住民フラグが1の住民ではありません。")
    if missing := len(seen.foreign_persons - foreign):
        report.add(FOREIGN_RESIDENT.file_name, 0, "001-F001", f"外国人住民の行がない外国人住民が{missing}人います。")

    say(CHANGE.name)
    for line, row, valid in _rows(report, directory, CHANGE, dates):
        number = int(row[0])
        if row[7] and int(row[7]) not in seen.changes:
            report.add(CHANGE.file_name, line, "001-C008", "修正対象の異動番号が、この異動より前にありません。")
        if valid and row[13]:
            try:
                validate_lg_code(row[13])
            except CheckDigitError as exc:
                report.add(CHANGE.file_name, line, "001-C014", exc.message)
        bad_items = [i for i in row[12].split() if i not in RECORD_KEY]
        if valid and bad_items:
            report.add(CHANGE.file_name, line, "001-C013", "異動履歴にない項目IDを含みます。")
        seen.changes.add(number)

    say(CHANGE_RECORD.name)
    last_records = _check_versions(report, directory, seen, dates)

    say(PROTECTION.name)
    expected = 1
    for line, row, valid in _rows(report, directory, PROTECTION, dates):
        if valid and int(row[0]) != expected:
            report.add(PROTECTION.file_name, line, "001-S001", f"支援措置番号が連番ではありません（期待 {expected}）。")
        expected = int(row[0]) + 1 if valid else expected + 1
        for column, item_id in ((1, "001-S002"), (2, "001-S003")):
            if row[column] and int(row[column]) not in seen.persons:
                report.add(PROTECTION.file_name, line, item_id, "宛名番号が person にありません。")
        if valid and row[4] < row[3]:
            report.add(PROTECTION.file_name, line, "001-S005", "終了予定日が開始日より前です。")

    say(INDIVIDUAL_NUMBER.name)
    numbers: set[str] = set()
    for line, row, _valid in _rows(report, directory, INDIVIDUAL_NUMBER, dates):
        if int(row[0]) not in seen.persons:
            report.add(INDIVIDUAL_NUMBER.file_name, line, "001-N001", "宛名番号が person にありません。")
        if row[1] in numbers:
            report.add(INDIVIDUAL_NUMBER.file_name, line, "001-N002", "同じ個人番号が別の住民にもあります。")
        numbers.add(row[1])
    numbers.clear()

    if report.ok:
        say("consistency")
        _check_current(report, directory, last_records)
    _check_counts(report, manifest)
    return report


def _index(entity: Entity, item_id: str) -> int:
    return [it.id for it in entity.items].index(item_id)


def _check_versions(report: Report, directory: Path, seen: _Seen, dates: _DateCheck) -> set[int]:
    """履歴連番, references and households of the 異動履歴; returns the persons that have one."""
    name = CHANGE_RECORD.file_name
    with_history: set[int] = set()
    household_column = _index(CHANGE_RECORD, "001-R005")
    for atena_text, group in groupby(_rows(report, directory, CHANGE_RECORD, dates), key=lambda lr: lr[1][1]):
        atena = int(atena_text)
        if atena not in seen.persons:
            first_line = next(group)[0]
            report.add(name, first_line, "001-R002", "宛名番号が person にありません。")
            continue
        with_history.add(atena)
        for expected, (line, row, valid) in enumerate(group, start=1):
            if valid and int(row[2]) != expected:
                report.add(name, line, "001-R003", f"履歴連番が1からの連番ではありません（期待 {expected}）。")
            if int(row[0]) not in seen.changes:
                report.add(name, line, "001-R001", "異動番号が change にありません。")
            if int(row[household_column]) not in seen.households:
                report.add(name, line, "001-R005", "世帯番号が household にありません。")
    if report.counts.get(CHANGE_RECORD.name) is not None and (missing := len(seen.persons - with_history)):
        report.add(name, 0, "001-R002", f"異動履歴がない住民が{missing}人います。")
    return with_history


def _last_versions(directory: Path) -> Iterator[list[str]]:
    """The last 異動履歴 row of each person (the file is sorted by person, then 履歴連番)."""
    rows = read_rows(directory / CHANGE_RECORD.file_name)
    next(rows)
    last: list[str] | None = None
    for _line, row in rows:
        if last is not None and row[1] != last[1]:
            yield last
        last = row
    if last is not None:
        yield last


# Where the current record's items sit in a 異動履歴 row (same items, same order: see layout.py).
_PERSON_ITEMS = slice(4, 4 + len(PERSON.items) - 1)
_ADDRESS_ITEMS = slice(_PERSON_ITEMS.stop, _PERSON_ITEMS.stop + len(ADDRESS.items) - 1)
_FOREIGN_ITEMS = slice(_ADDRESS_ITEMS.stop, _ADDRESS_ITEMS.stop + len(FOREIGN_RESIDENT.items) - 1)
_NO_FOREIGN = [""] * (len(FOREIGN_RESIDENT.items) - 1)


def _check_current(report: Report, directory: Path, _with_history: set[int]) -> None:
    """Each person's current record (person + address + foreign_resident) equals their last 異動履歴.

    The texts are compared item by item: every value has one valid written form, checked before.
    """
    persons = read_rows(directory / PERSON.file_name)
    addresses = read_rows(directory / ADDRESS.file_name)
    foreigners = read_rows(directory / FOREIGN_RESIDENT.file_name)
    for stream in (persons, addresses, foreigners):
        next(stream)  # headers
    next_foreign = next(foreigners, None)
    for (line, person), (_l, address), version in zip(persons, addresses, _last_versions(directory), strict=False):
        foreign = _NO_FOREIGN
        if next_foreign is not None and next_foreign[1][0] == person[0]:
            foreign = next_foreign[1][1:]
            next_foreign = next(foreigners, None)
        if version[1] != person[0]:
            report.add(PERSON.file_name, line, "001-P001", "異動履歴と住民の並びが一致しません。")
            return
        if (
            person[1:] != version[_PERSON_ITEMS]
            or address[1:] != version[_ADDRESS_ITEMS]
            or foreign != version[_FOREIGN_ITEMS]
        ):
            report.add(PERSON.file_name, line, "", "現在の記載が最後の異動履歴（change_record）と一致しません。")


def _check_counts(report: Report, manifest: dict[str, Any]) -> None:
    listed = {str(f.get("entity")): f for f in manifest.get("files") or [] if isinstance(f, dict)}
    for entity in ENTITIES:
        entry = listed.get(entity.name)
        counted = report.counts.get(entity.name)
        if entry is not None and counted is not None and entry.get("rows") != counted:
            report.add(
                entity.file_name, 0, "", f"行数 {counted} が manifest.json の {entry.get('rows')} と一致しません。"
            )
