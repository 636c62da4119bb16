"""Values of the standard layout ↔ lgcloud's values, item by item.

Every conversion is a bijection on the values lgcloud stores, so export → import →
export gives the same bytes. Where a stored value has no place in the layout
(an unknown code, a ``details`` key the layout does not carry), the export stops
with :class:`LossyValue` instead of writing something that would come back
different.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from lgcloud.registry.rules.record import ForeignResidentItems, Qualifications, ResidentRecord

from .layout import (
    ADDRESS,
    CHANGE,
    FOREIGN_RESIDENT,
    PERSON,
    RECORD_ITEM_ID,
    RECORD_ITEMS,
    RECORD_KEY,
    Entity,
    Item,
    ItemType,
    code_table,
)

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def datetime_text(value: datetime) -> str:
    """A timezone-aware time as the layout writes it: UTC with microseconds."""
    if value.tzinfo is None:
        raise LossyValue("タイムゾーン付きの日時ではない値")
    return value.astimezone(UTC).strftime(DATETIME_FORMAT)


def parse_datetime(text: str) -> datetime:
    """The inverse of datetime_text (the validator has checked the exact form)."""
    return datetime.fromisoformat(text)


class LossyValue(ValueError):
    """A stored value the layout cannot carry unchanged (the export stops rather than lose it)."""


Encoder = Callable[[Any], str]
Decoder = Callable[[str], Any]


def _encoder(item: Item) -> Encoder:
    t = item.type
    if t is ItemType.FLAG:

        def flag(v: Any) -> str:
            if v is True:
                return "1"
            if v is False:
                return "0"
            raise LossyValue(f"{item.id}（{item.name}）: 真偽値ではない値")

        return flag
    if t is ItemType.CODE:
        table = code_table(item.code_table).by_value()

        def code(v: Any) -> str:
            if v in ("", None) and not item.required:
                return ""
            try:
                return table[v]
            except (KeyError, TypeError):
                raise LossyValue(f"{item.id}（{item.name}）: コード表にない値 {v!r}") from None

        return code
    if t is ItemType.DATE:

        def day(v: Any) -> str:
            if v is None:
                return ""
            if isinstance(v, date):
                return v.isoformat()
            if isinstance(v, str):
                return v
            raise LossyValue(f"{item.id}（{item.name}）: 日付ではない値")

        return day
    if t is ItemType.DATETIME:

        def moment(v: Any) -> str:
            if not isinstance(v, datetime) or v.tzinfo is None:
                raise LossyValue(f"{item.id}（{item.name}）: タイムゾーン付きの日時ではない値")
            return v.astimezone(UTC).strftime(DATETIME_FORMAT)

        return moment
    if t is ItemType.INTEGER:

        def integer(v: Any) -> str:
            if v is None:
                return ""
            if isinstance(v, bool) or not isinstance(v, int):
                raise LossyValue(f"{item.id}（{item.name}）: 整数ではない値")
            return str(v)

        return integer

    def text(v: Any) -> str:
        if not isinstance(v, str):
            raise LossyValue(f"{item.id}（{item.name}）: 文字列ではない値")
        return v

    return text


def _decoder(item: Item, *, as_json: bool) -> Decoder:
    """``as_json``: dates stay ISO strings (the record's JSON form); otherwise ``date`` objects."""
    t = item.type
    if t is ItemType.FLAG:
        return lambda s: s == "1"
    if t is ItemType.CODE:
        table = code_table(item.code_table).by_code()
        return lambda s: table[s] if s else ""
    if t is ItemType.DATE:
        if as_json:
            return lambda s: s or None
        return lambda s: date.fromisoformat(s) if s else None
    if t is ItemType.DATETIME:
        return parse_datetime
    if t is ItemType.INTEGER:
        return lambda s: int(s) if s else None
    return lambda s: s


# --- 住民票 records ------------------------------------------------------------------------------

_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(ResidentRecord))
_FOREIGN_FIELDS = tuple(f.name for f in dataclasses.fields(ForeignResidentItems))
_QUALIFICATION_FIELDS = tuple(f.name for f in dataclasses.fields(Qualifications))
_EMPTY_FOREIGN = ForeignResidentItems().__dict__ | {"stay_expires_on": None}


_FLAG_TEXT = {True: "1", False: "0"}


def _compile(items: tuple[Item, ...], *, offset: int) -> tuple[Callable[..., list[str]], Callable[..., None]]:
    """An encoder and a decoder for these record items, generated as straight-line code.

    A million records go through these twice per round trip, so each is one function with one
    expression per item instead of a call per value (the approach of collections.namedtuple).
    The item keys come from layout.py, never from input; values are only ever indexed.
    """
    tables: dict[str, Any] = {"FLAG": _FLAG_TEXT}
    enc: list[str] = []
    dec: list[str] = []
    for i, it in enumerate(items):
        if "." in it.key:
            outer, inner = it.key.split(".", 1)
            source = f"r[{outer!r}][{inner!r}]"
            target = f"o[{outer!r}][{inner!r}]"
        else:
            source = f"r[{it.key!r}]"
            target = f"o[{it.key!r}]"
        v = f"v[{i + offset}]"
        t = it.type
        if t is ItemType.FLAG:
            enc.append(f"FLAG[{source}]")
            dec.append(f"{target} = {v} == '1'")
        elif t is ItemType.CODE:
            name = f"E{i}"
            by_value = code_table(it.code_table).by_value()
            if not it.required:
                by_value = {**by_value, "": ""}
            tables[name] = by_value
            tables[f"D{i}"] = {**code_table(it.code_table).by_code(), "": ""}
            enc.append(f"{name}[{source}]")
            dec.append(f"{target} = D{i}[{v}]")
        elif t is ItemType.DATE:
            enc.append(f"('' if (x := {source}) is None else x)")
            dec.append(f"{target} = {v} or None")
        elif t in (ItemType.TEXT, ItemType.KANA, ItemType.DIGITS):
            enc.append(f"(x if (x := {source}).__class__ is str else TEXT(x))")
            dec.append(f"{target} = {v}")
        else:  # not used in records
            raise ValueError(f"record item {it.id} has type {t}")
    tables["TEXT"] = _text_only
    namespace: dict[str, Any] = dict(tables)
    encode_src = "def encode(r):\n    return [\n        " + ",\n        ".join(enc) + ",\n    ]\n"
    decode_src = "def decode(v, o):\n    " + "\n    ".join(dec) + "\n"
    exec(compile(encode_src + decode_src, f"<record codec {items[0].id}…>", "exec"), namespace)  # noqa: S102
    return namespace["encode"], namespace["decode"]


def _text_only(value: Any) -> str:
    if value.__class__ is not str:
        raise LossyValue("文字列ではない値")
    return value


@dataclasses.dataclass(frozen=True)
class RecordCodec:
    """Encodes the record items of one entity (a slice of the 住民票) to CSV values and back."""

    items: tuple[Item, ...]
    offset: int  # where the items start in a row

    def __post_init__(self) -> None:
        encode, decode = _compile(self.items, offset=self.offset)
        object.__setattr__(self, "_encode", encode)
        object.__setattr__(self, "_decode", decode)

    def encode(self, record: dict[str, Any]) -> list[str]:
        try:
            return self._encode(record)  # type: ignore[attr-defined, no-any-return]
        except (KeyError, TypeError) as exc:
            raise LossyValue(f"住民票の記録の値を標準レイアウトで表せません（{exc}）") from None

    def decode_into(self, row: list[str], out: dict[str, Any]) -> None:
        """Fill ``out`` from ``row`` (the whole CSV row: items start at ``offset``)."""
        self._decode(row, out)  # type: ignore[attr-defined]


PERSON_CODEC = RecordCodec(PERSON.items[1:], offset=1)
ADDRESS_CODEC = RecordCodec(ADDRESS.items[1:], offset=1)
FOREIGN_CODEC = RecordCodec(FOREIGN_RESIDENT.items[1:], offset=1)
VERSION_CODEC = RecordCodec(RECORD_ITEMS, offset=4)


def empty_record(atena_number: str) -> dict[str, Any]:
    """A record dict with every key in ResidentRecord's order, to be filled by the codecs."""
    out: dict[str, Any] = dict.fromkeys(_RECORD_FIELDS)
    out["atena_number"] = atena_number
    out["foreign"] = dict(_EMPTY_FOREIGN)
    out["qualifications"] = dict.fromkeys(_QUALIFICATION_FIELDS)
    return out


def person_rows(atena: str, record: dict[str, Any]) -> tuple[list[str], list[str], list[str] | None]:
    """The person, address and (for foreign residents) foreign_resident rows of one current record."""
    person = [atena, *PERSON_CODEC.encode(record)]
    address = [atena, *ADDRESS_CODEC.encode(record)]
    foreign_values = record.get("foreign") or {}
    if record["is_foreign"]:
        return person, address, [atena, *FOREIGN_CODEC.encode(record)]
    if any(foreign_values.get(k) not in ("", None) for k in _FOREIGN_FIELDS):
        raise LossyValue("外国人住民でない住民に外国人住民の項目があります")
    return person, address, None


def record_from_rows(person: list[str], address: list[str], foreign: list[str] | None) -> dict[str, Any]:
    out = empty_record(person[0])
    PERSON_CODEC.decode_into(person, out)
    ADDRESS_CODEC.decode_into(address, out)
    if foreign is not None:
        FOREIGN_CODEC.decode_into(foreign, out)
    return out


def version_row(atena: str, seq: int, change_number: int, effective: date, record: dict[str, Any]) -> list[str]:
    return [str(change_number), atena, str(seq), effective.isoformat(), *VERSION_CODEC.encode(record)]


def record_from_version_row(row: list[str]) -> dict[str, Any]:
    out = empty_record(row[1])
    VERSION_CODEC.decode_into(row, out)
    return out


# --- 異動 ----------------------------------------------------------------------------------------

_CHANGE_ENC = {it.key: _encoder(it) for it in CHANGE.items}
_CHANGE_DEC = {it.key: _decoder(it, as_json=False) for it in CHANGE.items}
_DETAIL_KEYS = ("origin", "previous_address", "destination", "corrected_fields", "destination_lg_code", "transfer_id")


def change_row(change: Any) -> list[str]:
    """One 異動 (registry.dump.ChangeRow) as the change entity's values; stops on details it cannot carry."""
    details: dict[str, Any] = change.details or {}
    unknown = set(details) - set(_DETAIL_KEYS)
    if unknown:
        raise LossyValue(f"異動 {change.change_number}: 標準レイアウトにない詳細項目 {sorted(unknown)}")
    corrected = details.get("corrected_fields")
    if corrected is not None:
        try:
            corrected_text = " ".join(RECORD_ITEM_ID[k] for k in corrected)
        except KeyError as exc:
            raise LossyValue(f"異動 {change.change_number}: 修正項目 {exc} が標準レイアウトにありません") from None
    else:
        corrected_text = ""
    row = [
        _CHANGE_ENC["change_number"](change.change_number),
        _CHANGE_ENC["change_type"](change.change_type),
        _CHANGE_ENC["effective_date"](change.effective_date),
        _CHANGE_ENC["filed_on"](change.filed_on),
        _CHANGE_ENC["processed_at"](change.processed_at),
        _CHANGE_ENC["actor_name"](change.actor_name),
        _CHANGE_ENC["reason"](change.reason),
        _CHANGE_ENC["corrects"](change.corrects),
        _CHANGE_ENC["late_filing"](change.late_filing),
        _CHANGE_ENC["details.origin"](details.get("origin", "")),
        _CHANGE_ENC["details.previous_address"](details.get("previous_address", "")),
        _CHANGE_ENC["details.destination"](details.get("destination", "")),
        corrected_text,
        details.get("destination_lg_code", ""),
        details.get("transfer_id", ""),
    ]
    if any(not isinstance(v, str) for v in row[13:]):
        raise LossyValue(f"異動 {change.change_number}: 詳細項目が文字列ではありません")
    if change_details(change.change_type, row) != details:
        raise LossyValue(f"異動 {change.change_number}: 詳細項目を標準レイアウトで表せません")
    return row


def change_details(change_type: str, row: list[str]) -> dict[str, Any]:
    """The ``details`` of a 異動 from its row: which keys exist follows from the 異動事由."""
    details: dict[str, Any] = {}
    if change_type in ("move_in", "ex_officio_entry"):
        details["origin"] = _CHANGE_DEC["details.origin"](row[9])
        details["previous_address"] = row[10]
        if row[14]:
            details["transfer_id"] = row[14]
    if change_type == "move_out_planned":
        details["destination"] = row[11]
        if row[13]:
            details["destination_lg_code"] = row[13]
    if change_type == "ex_officio_correction":
        details["corrected_fields"] = [RECORD_KEY[i] for i in row[12].split()] if row[12] else []
    return details


def change_from_row(row: list[str]) -> dict[str, Any]:
    change_type = _CHANGE_DEC["change_type"](row[1])
    return {
        "change_number": int(row[0]),
        "change_type": change_type,
        "effective_date": _CHANGE_DEC["effective_date"](row[2]),
        "filed_on": _CHANGE_DEC["filed_on"](row[3]),
        "processed_at": _CHANGE_DEC["processed_at"](row[4]),
        "actor_name": row[5],
        "reason": row[6],
        "corrects": _CHANGE_DEC["corrects"](row[7]),
        "late_filing": row[8] == "1",
        "details": change_details(change_type, row),
    }


def encoders(entity: Entity) -> list[Encoder]:
    return [_encoder(it) for it in entity.items]


def decoders(entity: Entity) -> list[Decoder]:
    return [_decoder(it, as_json=False) for it in entity.items]
