"""Legacy conversion: a legacy 住民記録 system's Shift_JIS export → a standard-layout bundle.

The export's shape is described by a YAML column map (which legacy column or
byte range holds which standard item, how codes translate), so any vendor's
files are read without code changes; the 外字 of the legacy system are
translated by a table (GAIJI.csv) to standard Unicode sequences (IVS
included) or MJ codes (resolved offline through the IPAmj明朝 font), or sent
to a review list. docs/legacy-import.md describes the formats and the whole
procedure.

Nothing is guessed and nothing is lost: an unmapped 外字, a byte cp932 cannot
decode, a legacy code missing from the map or a date that cannot be read stops
the conversion with every problem listed (file, line, item, code); no
character is ever replaced with '?' or U+FFFD or dropped. Names are taken as
decoded (no NFC/NFKC, no width folding); only readings (カナ items) are
widened from half-width to full-width katakana, and dates are converted to
ISO.

Legacy exports hold the current state only. The layout needs a history, so
each person gets one 職権記載 異動 (effective on 住民となった年月日, reason naming
the source file and line, actor ``import_legacy``) and one 異動履歴 that equals
their current record; the history before migration is not available from such
sources. Households are synthesized from the persons' 世帯番号.

The bundle this module writes is then verified and imported by the normal
``import_bundle`` (portability.actions), so the same checks apply.
"""

from __future__ import annotations

import csv
import fnmatch
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jaconv
import yaml
from django.core.exceptions import ValidationError

from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.core.wareki import WarekiError, parse_compact, parse_date
from lgcloud.registry import restore

from . import codec
from .actions import import_bundle
from .bundle import FileEntry, entity_files, header, open_writer, sha256_of, write_manifest
from .layout import (
    ADDRESS,
    CHANGE,
    CHANGE_RECORD,
    FOREIGN_RESIDENT,
    HOUSEHOLD,
    INDIVIDUAL_NUMBER,
    PERSON,
    RECORD_ITEMS,
    Item,
    ItemType,
    code_table,
)
from .rules import sjis

# The validator's own checks (private to it, used here so a legacy row gets the same messages).
from .validate import SEPARATOR, Report, item_problem, row_pattern, verify_bundle

ACTOR = "import_legacy"
IPAMJ_FONT = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
REVIEW = "REVIEW"
DEFAULT_CAP = 200
_PUA = (0xE000, 0xF8FF)
_PAD = " \u3000"  # padding of fixed-width fields: half-width and full-width spaces
_EX_OFFICIO_ENTRY = code_table("change_type").by_value()["ex_officio_entry"]
_FOREIGN_FLAG = "001-P027"
_RESIDENT_SINCE = "001-P012"
_HOUSEHOLD_NUMBER = "001-P002"
_ATENA = "001-P001"
_HOUSEHOLD_CREATED = "001-H002"
_INDIVIDUAL_NUMBER = "001-N002"


class MapError(Exception):
    """The column map or the 外字 table itself is wrong (a Japanese message)."""


# --- the items a legacy export can fill ------------------------------------------------------------

# Every current-state item of a person: 住民 (with 宛名番号), 住所, 外国人住民, 個人番号, and 世帯の成立日.
# The 宛名番号 of the extension entities is the person's; it is mapped once as 001-P001.
MAPPABLE: tuple[Item, ...] = (
    *PERSON.items,
    *ADDRESS.items[1:],
    *FOREIGN_RESIDENT.items[1:],
    INDIVIDUAL_NUMBER.item(_INDIVIDUAL_NUMBER),
    HOUSEHOLD.item(_HOUSEHOLD_CREATED),
)
_BY_ID = {it.id: it for it in MAPPABLE}
_BY_NAME: dict[str, Item] = {}
for _it in MAPPABLE:
    _BY_NAME.setdefault(_it.name, _it)


def resolve_item(name_or_id: str) -> Item:
    """An item by its ID (``001-P004``) or its Japanese name (``氏``) as layout.py writes it."""
    key = str(name_or_id).strip()
    item = _BY_ID.get(key) or _BY_NAME.get(key)
    if item is None:
        raise MapError(f"標準レイアウトの項目「{key}」がありません（項目IDか layout.py の日本語名で書きます）。")
    return item


# --- the column map --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    item: Item
    column: int = 0  # CSV: 1-based column
    start: int = 0  # fixed width: 1-based first byte
    end: int = 0  # fixed width: 1-based last byte (inclusive)
    value: str | None = None  # a constant in the standard form
    codes: dict[str, str] | None = None  # legacy code → standard code
    pad: bool = False  # DIGITS: left-pad with zeros to the item's length
    strip: bool = True  # remove padding spaces (half- and full-width) at both ends
    date_format: str = "auto"


@dataclass(frozen=True)
class FileSpec:
    name: str
    match: str
    format: str  # "csv" or "fixed"
    primary: bool
    items: tuple[ItemSpec, ...]
    header_lines: int = 0
    delimiter: str = ","
    record_length: int = 0  # fixed width without line ends


@dataclass(frozen=True)
class LegacyMap:
    files: tuple[FileSpec, ...]
    defaults: dict[str, str]  # item ID → value in the standard form
    era_digits: dict[str, str] | None = None
    source: str = ""

    def spec_for(self, path: Path) -> FileSpec:
        for spec in self.files:
            if fnmatch.fnmatch(path.name, spec.match) or fnmatch.fnmatch(path.name.upper(), spec.match.upper()):
                return spec
        raise MapError(f"{path.name}: 列定義のどのファイル（match）にも当たりません。")


_DATE_FORMATS = ("auto", "iso", "yyyymmdd", "wareki", "compact")


def _item_spec(file_name: str, fmt: str, key: str, raw: Any) -> ItemSpec:
    item = resolve_item(key)
    where = f"files「{file_name}」の項目「{key}」"
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = {"column": raw}
    if isinstance(raw, str):
        raw = {"value": raw}
    if not isinstance(raw, dict):
        raise MapError(f"{where}: 列番号か {{column: …}} / {{bytes: [開始, 終了]}} / {{value: …}} で書きます。")
    unknown = set(raw) - {"column", "bytes", "value", "codes", "pad", "strip", "date"}
    if unknown:
        raise MapError(f"{where}: 知らない指定 {sorted(unknown)}")
    places = [k for k in ("column", "bytes", "value") if k in raw]
    if len(places) != 1:
        raise MapError(f"{where}: column・bytes・value のどれか1つを指定します。")
    kwargs: dict[str, Any] = {}
    if "column" in raw:
        if fmt != "csv" or not isinstance(raw["column"], int) or raw["column"] < 1:
            raise MapError(f"{where}: column は CSV ファイルの1から数える列番号です。")
        kwargs["column"] = raw["column"]
    if "bytes" in raw:
        span = raw["bytes"]
        ok = isinstance(span, list) and len(span) == 2 and all(isinstance(v, int) for v in span)
        if fmt != "fixed" or not ok or not 1 <= span[0] <= span[1]:
            raise MapError(f"{where}: bytes は固定長ファイルの [開始バイト, 終了バイト]（1から数え、終了を含む）です。")
        kwargs["start"], kwargs["end"] = span
    if "value" in raw:
        kwargs["value"] = str(raw["value"])
    if "codes" in raw:
        codes = raw["codes"]
        if item.type not in (ItemType.CODE, ItemType.FLAG) or not isinstance(codes, dict):
            raise MapError(f"{where}: codes はコード表のある項目に {{旧コード: 標準コード}} で書きます。")
        table = code_table(item.code_table).by_code()
        translated = {str(k): str(v) for k, v in codes.items()}
        bad = sorted(v for v in translated.values() if v not in table and v != "")
        if bad:
            raise MapError(f"{where}: {code_table(item.code_table).name}にないコード {bad}")
        kwargs["codes"] = translated
    if "date" in raw:
        if item.type is not ItemType.DATE or raw["date"] not in _DATE_FORMATS:
            raise MapError(f"{where}: date は日付の項目に {list(_DATE_FORMATS)} のどれかで書きます。")
        kwargs["date_format"] = raw["date"]
    for flag in ("pad", "strip"):
        if flag in raw:
            if not isinstance(raw[flag], bool):
                raise MapError(f"{where}: {flag} は true か false です。")
            kwargs[flag] = raw[flag]
    if kwargs.get("pad") and item.type is not ItemType.DIGITS:
        raise MapError(f"{where}: pad は数字（桁数固定）の項目だけに使えます。")
    return ItemSpec(item, **kwargs)


def load_map(path: Path) -> LegacyMap:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MapError(f"列定義 {Path(path).name} を読めません: {exc}") from None
    return parse_map(data, source=Path(path).name)


def parse_map(data: Any, *, source: str = "") -> LegacyMap:
    if not isinstance(data, dict) or not isinstance(data.get("files"), list) or not data["files"]:
        raise MapError("列定義には files（ファイルごとの定義の並び）が必要です。")
    if data.get("version", 1) != 1:
        raise MapError("列定義の version は 1 です。")
    if str(data.get("encoding", "cp932")).lower() not in ("cp932", "shift_jis", "sjis", "windows-31j"):
        raise MapError("読める文字コードは Shift_JIS（cp932）だけです。")
    unknown = set(data) - {"version", "encoding", "defaults", "era_digits", "files", "name", "note"}
    if unknown:
        raise MapError(f"列定義に知らない指定があります: {sorted(unknown)}")
    defaults = {resolve_item(k).id: str(v) for k, v in (data.get("defaults") or {}).items()}
    era_digits = data.get("era_digits")
    if era_digits is not None:
        if not isinstance(era_digits, dict) or not all(
            str(v) in "MTSHR" and len(str(v)) == 1 for v in era_digits.values()
        ):
            raise MapError("era_digits は {元号コード: M/T/S/H/R} で書きます。")
        era_digits = {str(k): str(v) for k, v in era_digits.items()}
    files = []
    for n, raw in enumerate(data["files"], start=1):
        if not isinstance(raw, dict):
            raise MapError(f"files の{n}番目がマッピングではありません。")
        name = str(raw.get("name") or f"{n}番目")
        fmt = raw.get("format")
        if fmt not in ("csv", "fixed"):
            raise MapError(f"files「{name}」: format は csv か fixed です。")
        if not raw.get("match") or not isinstance(raw.get("items"), dict):
            raise MapError(f"files「{name}」: match（ファイル名のパターン）と items が必要です。")
        unknown = set(raw) - {
            "name",
            "match",
            "format",
            "primary",
            "items",
            "header_lines",
            "delimiter",
            "record_length",
        }
        if unknown:
            raise MapError(f"files「{name}」: 知らない指定 {sorted(unknown)}")
        items = tuple(_item_spec(name, fmt, k, v) for k, v in raw["items"].items())
        ids = [s.item.id for s in items]
        if len(set(ids)) != len(ids):
            raise MapError(f"files「{name}」: 同じ項目が2回あります。")
        if _ATENA not in ids:
            raise MapError(f"files「{name}」: どのファイルにも宛名番号（001-P001）の列が必要です（人を結び付けます）。")
        delimiter = str(raw.get("delimiter", ","))
        encoded = delimiter.encode("cp932", errors="replace")
        if len(encoded) != 1 or encoded in b'"\r\n' or encoded[0] >= 0x40:
            # A byte from 0x40 up can be the trail byte of a two-byte character: splitting on it would cut characters.
            raise MapError(f"files「{name}」: delimiter は 0x40 未満の1バイトの記号（カンマ、タブなど）です。")
        record_length = int(raw.get("record_length") or 0)
        files.append(
            FileSpec(
                name=name,
                match=str(raw["match"]),
                format=fmt,
                primary=bool(raw.get("primary", n == 1)),
                items=items,
                header_lines=int(raw.get("header_lines") or 0),
                delimiter=delimiter,
                record_length=record_length,
            )
        )
    if not any(f.primary for f in files):
        raise MapError("住民の行を持つファイル（primary: true）が1つ以上必要です。")
    mapped = {s.item.id for f in files for s in f.items} | set(defaults)
    missing = [
        f"{it.id} {it.name}"
        for it in (*PERSON.items, *ADDRESS.items[1:])
        if it.required and it.id not in mapped and it.id != _HOUSEHOLD_NUMBER
    ]
    if _HOUSEHOLD_NUMBER not in mapped:
        missing.insert(0, f"{_HOUSEHOLD_NUMBER} 世帯番号")
    if missing:
        raise MapError(
            "必須項目の列も既定値（defaults）もありません: " + "、".join(missing) + "。"
            "旧システムに無い項目は defaults に標準のコード・値で書きます。"
        )
    return LegacyMap(tuple(files), defaults, era_digits, source)


# --- 外字 table ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GaijiTarget:
    text: str  # the standard sequence ("" for REVIEW)
    review: bool
    source: str  # what the table said: U+… / MJ… / REVIEW


class MjFont:
    """MJ code → Unicode sequence through the glyph names of the installed IPAmj明朝 (``mj029121``).

    cmap format 12 gives the base code point of a glyph, format 14 the IVS
    sequences. An MJ code names one glyph, so an IVS sequence that selects exactly
    that glyph is preferred (the lowest selector of the Moji_Joho/Hanyo-Denshi
    range U+E0100…), and the plain code point is used only when no sequence does.
    """

    def __init__(self, path: Path = IPAMJ_FONT) -> None:
        self.path = path
        self._glyphs: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        from fontTools.ttLib import TTFont  # loaded only when a table names MJ codes

        if not self.path.is_file():
            raise MapError(f"IPAmj明朝のフォント {self.path} がありません（fonts-ipamj-mincho）。")
        font = TTFont(str(self.path), lazy=True)
        try:
            tables = font["cmap"].tables
            base: dict[int, str] = {}
            for t in tables:
                if t.format in (4, 12) and t.platformID in (0, 3):
                    for cp, glyph in t.cmap.items():
                        base.setdefault(cp, glyph)
            candidates: dict[str, list[tuple[int, int]]] = {}
            for t in tables:
                if t.format != 14:
                    continue
                for selector, pairs in t.uvsDict.items():
                    for cp, glyph in pairs:
                        name = glyph if glyph is not None else base.get(cp)
                        if name is not None:
                            candidates.setdefault(name, []).append((selector, cp))
        finally:
            font.close()
        glyphs: dict[str, str] = {}
        for name, seqs in candidates.items():
            ideographic = [s for s in seqs if s[0] >= 0xE0100] or seqs
            selector, cp = min(ideographic)
            glyphs[name] = chr(cp) + chr(selector)
        for cp, name in sorted(base.items()):
            glyphs.setdefault(name, chr(cp))
        return glyphs

    def sequence(self, mj_code: str) -> str:
        if self._glyphs is None:
            self._glyphs = self._load()
        found = self._glyphs.get(mj_code.lower())
        if found is None:
            raise MapError(
                f"{mj_code} は IPAmj明朝に文字として割り当てられていません（MJ文字図形名を確かめてください）。"
            )
        return found


_U_PLUS = re.compile(r"U\+([0-9A-Fa-f]{4,6})")
_MJ = re.compile(r"MJ[0-9]{6}", re.IGNORECASE)
_SJIS = re.compile(r"[0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}")


def _key(code: str) -> str | bytes:
    """A 外字 table key: the private-use character, or the raw bytes cp932 cannot decode."""
    code = code.strip()
    if m := _U_PLUS.fullmatch(code):
        cp = int(m[1], 16)
        if not _PUA[0] <= cp <= _PUA[1]:
            raise ValueError(f"{code} は私用領域（U+E000〜U+F8FF）の文字ではありません。")
        return chr(cp)
    if _SJIS.fullmatch(code):
        found = sjis.code_char(code)
        if isinstance(found, sjis.Undecodable):
            return found.raw
        if len(found) == 1 and _PUA[0] <= ord(found) <= _PUA[1]:
            return found  # F040–F9FC: the same character as U+E000–U+E757
        raise ValueError(f"Shift_JIS {code.upper()} は外字ではありません（cp932 で「{found}」と読めます）。")
    raise ValueError(f"旧コード「{code}」は U+E001 か Shift_JIS の16進（F040 など）で書きます。")


def _target(text: str, font: MjFont) -> GaijiTarget:
    text = text.strip()
    if text.upper() == REVIEW:
        return GaijiTarget("", True, REVIEW)
    if _MJ.fullmatch(text):
        return GaijiTarget(font.sequence(text), False, text.upper())
    parts = text.split()
    if not parts or not all(_U_PLUS.fullmatch(p) for p in parts):
        raise ValueError(f"変換先「{text}」は U+845B U+E0100 のような列、MJ012345、REVIEW のどれかです。")
    cps = [int(p[2:], 16) for p in parts]
    for cp in cps:
        if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF or cp == 0xFFFD or cp < 0x20 or 0x7F <= cp <= 0x9F:
            raise ValueError(f"変換先「{text}」に使えない符号位置があります。")
    if 0xE0100 <= cps[0] <= 0xE01EF or 0xFE00 <= cps[0] <= 0xFE0F:
        raise ValueError(f"変換先「{text}」が異体字セレクタで始まっています。")
    return GaijiTarget("".join(map(chr, cps)), False, text)


@dataclass(frozen=True)
class GaijiTable:
    entries: dict[str | bytes, GaijiTarget]

    def get(self, key: str | bytes) -> GaijiTarget | None:
        return self.entries.get(key)


def load_gaiji(path: Path, *, font: MjFont | None = None) -> GaijiTable:
    """GAIJI.csv: UTF-8 (a BOM is allowed), header ``code,target,note``; one 外字 a row."""
    font = font or MjFont()
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MapError(f"外字表 {Path(path).name} を UTF-8 として読めません: {exc}") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or [h.strip().lower() for h in rows[0][:2]] != ["code", "target"]:
        raise MapError(f"外字表 {Path(path).name} の1行目は code,target,note の見出しです。")
    entries: dict[str | bytes, GaijiTarget] = {}
    problems = []
    for line, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) < 2:
            problems.append(f"{Path(path).name}:{line} code と target の2列が必要です。")
            continue
        try:
            key = _key(row[0])
            target = _target(row[1], font)
        except ValueError as exc:
            problems.append(f"{Path(path).name}:{line} {exc}")
            continue
        if key in entries and entries[key] != target:
            problems.append(f"{Path(path).name}:{line} 同じ外字（{row[0].strip()}）に別の変換先があります。")
            continue
        entries[key] = target
    if problems:
        raise MapError("外字表に誤りがあります:\n" + "\n".join(problems))
    return GaijiTable(entries)


# --- conversion -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    """A problem that stops the conversion. Never carries a personal value: file, line, item, code and why."""

    file: str
    line: int
    item: str  # "001-P004 氏", or "" for the record
    code: str  # the 外字 / byte code, or a legacy code value ("" when it would be personal)
    reason: str

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}", self.item, self.code, self.reason]
        return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class ReviewEntry:
    file: str
    line: int
    atena_number: str
    household_number: str
    item: str
    code: str
    action: str
    raw_hex: str = ""  # the legacy record's bytes, for a withheld household


KEPT = "外字のまま取り込む（要確認）"
WITHHELD = "世帯ごと取り込まない（判読できないバイト）"
WITHHELD_MEMBER = "世帯ごと取り込まない（同じ世帯の判読できないバイトのため）"


@dataclass
class _Person:
    atena: str
    source: tuple[str, int]  # the primary row: file name, line
    values: dict[str, str] = field(default_factory=dict)
    origin: dict[str, tuple[str, int]] = field(default_factory=dict)  # item ID → its row, when not the source row
    rows: list[tuple[str, int, bytes]] = field(default_factory=list)  # (file, line, raw record)
    undecodable_review: list[tuple[str, int, str, str]] = field(default_factory=list)  # file, line, item, code


@dataclass
class Conversion:
    persons: list[_Person] = field(default_factory=list)  # to import, sorted by 宛名番号
    households: list[tuple[str, str]] = field(default_factory=list)  # (世帯番号, 世帯の成立日), sorted
    issues: list[Issue] = field(default_factory=list)
    issue_total: int = 0
    review: list[ReviewEntry] = field(default_factory=list)
    withheld_households: int = 0
    withheld_persons: int = 0
    files: dict[str, int] = field(default_factory=dict)  # legacy file → records read
    cap: int = DEFAULT_CAP

    @property
    def ok(self) -> bool:
        return self.issue_total == 0

    def add(self, issue: Issue) -> None:
        self.issue_total += 1
        if len(self.issues) < self.cap:
            self.issues.append(issue)

    def source_of(self, bundle_file: str, line: int) -> tuple[str, int] | None:
        """The legacy file and line behind a line of person/address/foreign_resident/change/change_record."""
        per_person = (PERSON.file_name, ADDRESS.file_name, CHANGE.file_name, CHANGE_RECORD.file_name)
        if bundle_file in per_person and 2 <= line < len(self.persons) + 2:
            return self.persons[line - 2].source
        return None


def _label(item: Item) -> str:
    return f"{item.id} {item.name}"


def _records(path: Path, spec: FileSpec, data: bytes, out: Conversion) -> Iterable[tuple[int, bytes, list[bytes]]]:
    """(line, raw record, raw fields by column or the record itself for fixed width)."""
    if spec.format == "csv":
        try:
            for line, fields, record in sjis.split_csv(data, spec.delimiter.encode("cp932")):
                if line <= spec.header_lines or fields == [b""]:
                    continue
                yield line, record, fields
        except sjis.CsvSyntaxError as exc:
            out.add(Issue(path.name, exc.line, "", "", exc.message))
        return
    records = sjis.split_records(data, spec.record_length) if spec.record_length else sjis.split_lines(data)
    for line, record in records:
        if line <= spec.header_lines or not record:
            continue
        yield line, record, [record]


def _raw_field(spec: ItemSpec, fields: list[bytes], fmt: str) -> bytes | str:
    """The field's bytes, or a reason (Japanese) why the record does not hold it."""
    if fmt == "csv":
        if spec.column > len(fields):
            return f"列が{len(fields)}しかありません（{spec.column}列目がありません）。"
        return fields[spec.column - 1]
    record = fields[0]
    if len(record) < spec.end:
        return f"レコードが{len(record)}バイトしかありません（{spec.end}バイト目まで必要です）。"
    raw = record[spec.start - 1 : spec.end]
    bounds = sjis.unit_boundaries(record)
    if spec.start - 1 not in bounds or spec.end not in bounds:
        return f"{spec.start}〜{spec.end}バイト目が2バイト文字の途中で切れています（列定義の位置を確かめてください）。"
    return raw


class _Row:
    """One legacy record being converted: its 外字 and problems are collected here."""

    def __init__(self, file: str, line: int, gaiji: GaijiTable, out: Conversion) -> None:
        self.file, self.line, self.gaiji, self.out = file, line, gaiji, out
        self.kept: list[tuple[str, str]] = []  # (item label, code) of private-use characters kept for review
        self.undecodable: list[tuple[str, str]] = []  # (item label, code) of undecodable bytes sent to review
        self.failed = False

    def issue(self, item: Item | None, code: str, reason: str) -> None:
        self.failed = True
        self.out.add(Issue(self.file, self.line, _label(item) if item else "", code, reason))

    def text(self, item: Item, raw: bytes) -> str:
        out: list[str] = []
        for piece in sjis.decode(raw):
            if isinstance(piece, sjis.Undecodable):
                target = self.gaiji.get(piece.raw)
                if target is None:
                    self.issue(item, piece.code, "cp932 で読めないバイトです（外字表にありません）。")
                elif target.review:
                    self.undecodable.append((_label(item), piece.code))
                else:
                    out.append(target.text)
                continue
            for ch in piece:
                if _PUA[0] <= ord(ch) <= _PUA[1]:
                    target = self.gaiji.get(ch)
                    code = f"U+{ord(ch):04X}"
                    if target is None:
                        self.issue(item, code, "外字表にない外字です。")
                        out.append(ch)
                    elif target.review:
                        self.kept.append((_label(item), code))
                        out.append(ch)
                    else:
                        out.append(target.text)
                else:
                    out.append(ch)
        return "".join(out)


def _convert_value(row: _Row, spec: ItemSpec, text: str, era_digits: dict[str, str] | None) -> str:
    item = spec.item
    if spec.strip:
        text = text.strip(_PAD)
    if spec.codes is not None:
        if text not in spec.codes:
            shown = text if len(text) <= 4 else text[:4] + "…"
            row.issue(item, shown, "旧コードが列定義の codes にありません。")
            return ""
        return spec.codes[text]
    if item.type is ItemType.KANA:
        # Readings only: half-width katakana (and the half-width space between 氏 and 名) become full-width.
        return jaconv.h2z(text, kana=True, ascii=False, digit=False).replace(" ", "\u3000")
    if item.type is ItemType.DATE:
        try:
            return _date(text, spec.date_format, era_digits)
        except ValueError:
            row.issue(
                item,
                "",
                "日付として読めません（西暦 YYYY-MM-DD・YYYYMMDD、和暦 H07.04.01・平成7年4月1日・R3.5.21 など）。",
            )
            return ""
    if item.type is ItemType.DIGITS and spec.pad and text.isascii() and text.isdigit():
        return text.zfill(item.length)
    return text


_ISO = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})")
_YMD = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")


def _date(text: str, fmt: str, era_digits: dict[str, str] | None) -> str:
    """A legacy date as ISO YYYY-MM-DD; empty (or all zeros, as many legacy systems write "no date") stays empty."""
    if text == "" or set(text) <= {"0", " ", "/", "-", "."}:
        return ""
    if fmt in ("auto", "iso") and (m := _ISO.fullmatch(text)):
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    if fmt in ("auto", "yyyymmdd") and (m := _YMD.fullmatch(text)):
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    if fmt in ("auto", "wareki"):
        try:
            return parse_date(text).isoformat()
        except WarekiError:
            pass
    if fmt in ("auto", "compact"):
        try:
            return parse_compact(text, era_digits).isoformat()
        except WarekiError:
            pass
    raise ValueError("not a date")


def convert(
    paths: Iterable[Path],
    legacy_map: LegacyMap,
    gaiji: GaijiTable,
    *,
    cap: int = DEFAULT_CAP,
    progress: Callable[[str, int], None] | None = None,
) -> Conversion:
    """Read every legacy file and convert it; problems and review entries are collected, nothing is written."""
    out = Conversion(cap=cap)
    persons: dict[str, _Person] = {}
    failed: set[str] = set()  # 宛名番号 of primary rows that had problems
    assigned = []
    for path in paths:
        try:
            assigned.append((Path(path), legacy_map.spec_for(Path(path))))
        except MapError as exc:
            out.add(Issue(Path(path).name, 0, "", "", str(exc)))
    if not any(spec.primary for _p, spec in assigned):
        out.add(Issue(legacy_map.source or "map", 0, "", "", "住民の行を持つファイル（primary）が指定されていません。"))
    # Primary files create the persons; the others add items to them (joined by 宛名番号).
    for path, spec in sorted(assigned, key=lambda ps: not ps[1].primary):
        _read_file(path, spec, legacy_map, gaiji, persons, out, failed)
        if progress is not None:
            progress(path.name, out.files.get(path.name, 0))
    _finish(persons, legacy_map, out)
    return out


def _read_file(
    path: Path,
    spec: FileSpec,
    legacy_map: LegacyMap,
    gaiji: GaijiTable,
    persons: dict[str, _Person],
    out: Conversion,
    failed: set[str],
) -> None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        out.add(Issue(path.name, 0, "", "", f"ファイルを読めません: {exc.strerror}"))
        return
    count = 0
    for line, record, fields in _records(path, spec, data, out):
        count += 1
        row = _Row(path.name, line, gaiji, out)
        values: dict[str, str] = {}
        for item_spec in spec.items:
            if item_spec.value is not None:
                values[item_spec.item.id] = item_spec.value
                continue
            raw = _raw_field(item_spec, fields, spec.format)
            if isinstance(raw, str):
                row.issue(item_spec.item, "", raw)
                continue
            text = row.text(item_spec.item, raw)
            values[item_spec.item.id] = _convert_value(row, item_spec, text, legacy_map.era_digits)
        if row.failed:
            if spec.primary and values.get(_ATENA):
                failed.add(values[_ATENA])
            continue
        atena = values[_ATENA]
        if row.undecodable and any(label.startswith((_ATENA, _HOUSEHOLD_NUMBER)) for label, _c in row.undecodable):
            row.issue(PERSON.item(_ATENA), "", "宛名番号・世帯番号が判読できないと、世帯ごとの保留もできません。")
            continue
        if spec.primary:
            if atena in persons:
                row.issue(PERSON.item(_ATENA), "", "同じ宛名番号の行が前にもあります。")
                continue
            person = persons[atena] = _Person(atena, (path.name, line))
        else:
            found = persons.get(atena)
            if found is None:
                if atena in failed:
                    continue  # its primary row is already listed
                row.issue(PERSON.item(_ATENA), "", "この宛名番号の住民が住民の行（primary のファイル）にありません。")
                continue
            person = found
        if spec.primary:
            person.values.update(values)  # origin: the person's source row
        else:
            for item_id, value in values.items():
                if item_id in person.values and person.values[item_id] != value:
                    where = person.origin.get(item_id, person.source)[0]
                    row.issue(_BY_ID[item_id], "", f"{where} の値と食い違います。")
                    continue
                person.values[item_id] = value
                person.origin[item_id] = (path.name, line)
        person.rows.append((path.name, line, record))
        for label, code in row.kept:
            out.review.append(
                ReviewEntry(path.name, line, atena, person.values.get(_HOUSEHOLD_NUMBER, ""), label, code, KEPT)
            )
        person.undecodable_review.extend((path.name, line, label, code) for label, code in row.undecodable)
    out.files[path.name] = count


def _finish(persons: dict[str, _Person], legacy_map: LegacyMap, out: Conversion) -> None:
    """Defaults, value checks, withheld households, and the synthesized households."""
    withheld = {p.values.get(_HOUSEHOLD_NUMBER, "") for p in persons.values() if p.undecodable_review}
    household_dates: dict[str, list[str]] = {}
    kept: list[_Person] = []
    for atena in sorted(persons):
        person = persons[atena]
        household = person.values.get(_HOUSEHOLD_NUMBER, "")
        if household in withheld:
            for file, line, raw in person.rows:
                codes = [(lbl, c) for f, ln, lbl, c in person.undecodable_review if (f, ln) == (file, line)]
                for label, code in codes or [("", "")]:
                    action = WITHHELD if codes else WITHHELD_MEMBER
                    out.review.append(ReviewEntry(file, line, atena, household, label, code, action, raw.hex().upper()))
            out.withheld_persons += 1
            continue
        for item_id, value in legacy_map.defaults.items():
            person.values.setdefault(item_id, value)
        _check_person(person, out)
        kept.append(person)
        household_dates.setdefault(household, []).append(
            person.values.get(_HOUSEHOLD_CREATED) or person.values.get(_RESIDENT_SINCE, "")
        )
    out.withheld_households = len(withheld - {""})
    out.persons = kept
    out.households = sorted(
        (h, min(d for d in dates if d) if any(dates) else "") for h, dates in household_dates.items()
    )


_ROW_CHECKS = tuple((entity, row_pattern(entity)) for entity in (PERSON, ADDRESS, FOREIGN_RESIDENT))


def _check_person(person: _Person, out: Conversion) -> None:
    """The validator's own checks on each value, reported against the legacy row the value came from."""
    values = person.values
    foreign = values.get(_FOREIGN_FLAG) == "1"
    if not foreign and any(values.get(it.id) for it in FOREIGN_RESIDENT.items[1:]):
        file, line = person.source
        out.add(Issue(file, line, "", "", "外国人住民フラグが1でない住民に外国人住民の項目があります。"))
    items: list[Item] = []
    for entity, pattern in _ROW_CHECKS:
        if entity is FOREIGN_RESIDENT and not foreign:
            continue
        rest = entity.items[1:] if entity is not PERSON else entity.items
        row = [values.get(it.id, "") for it in rest]
        if entity is not PERSON:
            row.insert(0, person.atena)
        if not pattern.fullmatch(SEPARATOR.join(row)):  # one regular expression per row, as the validator does
            items.extend(rest)
    if values.get(_INDIVIDUAL_NUMBER):
        items.append(INDIVIDUAL_NUMBER.item(_INDIVIDUAL_NUMBER))
    if _HOUSEHOLD_CREATED in values:
        items.append(HOUSEHOLD.item(_HOUSEHOLD_CREATED))
    for item in items:
        problem = item_problem(item, values.get(item.id, ""))
        if problem:
            file, line = person.origin.get(item.id, person.source)
            out.add(Issue(file, line, _label(item), "", problem))


# --- the bundle -----------------------------------------------------------------------------------

_RECORD_SOURCE = {it.key: it.id for it in (*PERSON.items[1:], *ADDRESS.items[1:], *FOREIGN_RESIDENT.items[1:])}


def write_bundle(
    conversion: Conversion,
    directory: Path,
    *,
    lg_code: str,
    municipality_name: str,
    processed_at: datetime | None = None,
) -> list[FileEntry]:
    """Write the converted register as a standard-layout bundle into ``directory`` (empty or new)."""
    if not conversion.ok:
        raise ValueError("conversion has problems")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise MapError(f"出力先 {directory} は空ではありません。新しいフォルダを指定してください。")
    moment = codec.datetime_text(processed_at or datetime.now(UTC))
    counts = dict.fromkeys((e.name for e, _ in entity_files()), 0)
    handles = {}
    writers = {}
    try:
        for entity, name in entity_files():
            handles[entity.name], writers[entity.name] = open_writer(directory / name)
            writers[entity.name].writerow(header(entity))

        def put(entity_name: str, row: list[str]) -> None:
            writers[entity_name].writerow(row)
            counts[entity_name] += 1

        # 支援措置 are not read from legacy exports (they need the 申出 papers): protection.csv has its header only.
        for household_number, created_on in conversion.households:
            put(HOUSEHOLD.name, [household_number, created_on])
        for p in conversion.persons:
            v = p.values
            put(PERSON.name, [v.get(it.id, "") for it in PERSON.items])
            put(ADDRESS.name, [p.atena, *(v.get(it.id, "") for it in ADDRESS.items[1:])])
            if v.get(_FOREIGN_FLAG) == "1":
                put(FOREIGN_RESIDENT.name, [p.atena, *(v.get(it.id, "") for it in FOREIGN_RESIDENT.items[1:])])
            if v.get(_INDIVIDUAL_NUMBER):
                put(INDIVIDUAL_NUMBER.name, [p.atena, v[_INDIVIDUAL_NUMBER]])
        for number, p in enumerate(conversion.persons, start=1):
            file, line = p.source
            reason = (
                f"旧システムからの移行（職権記載）。移行元 {file}:{line}。移行前の異動履歴は移行元にないため持たない。"
            )
            put(
                CHANGE.name,
                [str(number), _EX_OFFICIO_ENTRY, p.values[_RESIDENT_SINCE], "", moment, ACTOR, reason, "", "0"]
                + [""] * (len(CHANGE.items) - 9),
            )
        for number, p in enumerate(conversion.persons, start=1):
            since = p.values[_RESIDENT_SINCE]
            record = [p.values.get(_RECORD_SOURCE[it.key], "") for it in RECORD_ITEMS]
            put(CHANGE_RECORD.name, [str(number), p.atena, "1", since, *record])
    finally:
        for handle in handles.values():
            handle.close()
    files = [FileEntry(e.name, name, counts[e.name], sha256_of(directory / name)) for e, name in entity_files()]
    write_manifest(
        directory,
        lg_code=lg_code,
        municipality_name=municipality_name,
        files=files,
        excluded=[],
        generator="lgcloud import_legacy",
    )
    return files


REVIEW_HEADER = ["file", "line", "atena_number", "household_number", "item", "code", "action", "raw_hex"]


def write_review_list(entries: list[ReviewEntry], path: Path) -> None:
    """The review list: UTF-8 with a BOM (opens in spreadsheet software), one 外字 or withheld row a line."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(REVIEW_HEADER)
        for e in entries:
            writer.writerow([e.file, e.line, e.atena_number, e.household_number, e.item, e.code, e.action, e.raw_hex])


# --- the whole run --------------------------------------------------------------------------------


@dataclass
class LegacyResult:
    conversion: Conversion
    report: Report | None = None  # the verification of the converted bundle (None: not converted)
    stats: restore.RestoreStats | None = None  # None: nothing was imported
    bundle: Path | None = None  # --out: where the bundle is
    not_empty: bool = False  # the municipality already has a register (import refused)


def import_legacy(
    ctx: TenantContext,
    paths: Iterable[Path],
    legacy_map: LegacyMap,
    gaiji: GaijiTable,
    *,
    municipality_name: str,
    review_list: Path | None = None,
    out: Path | None = None,
    dry_run: bool = False,
    cap: int = DEFAULT_CAP,
    processed_at: datetime | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> LegacyResult:
    """Convert, then (by default) import through ``import_bundle`` — the same verification as any bundle.

    ``out``: write the verified bundle there and import nothing (for vendors).
    ``dry_run``: convert and verify in a temporary folder, report, import nothing.
    The review list is written only when the conversion went through.
    """
    conversion = convert(paths, legacy_map, gaiji, cap=cap, progress=progress)
    result = LegacyResult(conversion)
    if conversion.ok and conversion.review and review_list is None:
        conversion.add(
            Issue(
                "GAIJI.csv",
                0,
                "",
                REVIEW,
                f"要確認の外字・保留の世帯が{len(conversion.review):,}件あります。"
                "--review-list で一覧の出力先を指定してください。",
            )
        )
    if not conversion.ok:
        return result
    with tempfile.TemporaryDirectory(prefix="lgcloud-legacy-") as tmp:
        directory = Path(out) if out is not None else Path(tmp) / f"legacy-{ctx.tenant_code}"
        write_bundle(
            conversion,
            directory,
            lg_code=ctx.tenant_code,
            municipality_name=municipality_name,
            processed_at=processed_at,
        )
        if out is not None or dry_run:
            result.report = verify_bundle(directory, cap=cap)
            result.bundle = directory if out is not None else None
            if dry_run and out is None:
                ctx.require(restore.RESTORE)
                with bound(ctx):
                    result.not_empty = not restore.is_empty(ctx)
        else:
            try:
                imported = import_bundle(ctx, directory, cap=cap)
            except ValidationError:
                result.not_empty = True
                return result
            result.report, result.stats = imported.report, imported.stats
    if review_list is not None and result.report is not None and result.report.ok and not result.not_empty:
        write_review_list(conversion.review, review_list)
    return result
