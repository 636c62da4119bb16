"""The 住民票 of one person as a value (住民基本台帳法 第7条), and its search keys.

Pure: no ORM, no clock, no I/O. A record is what a PersonVersion stores and
what a certificate prints. Names are kept exactly as entered (IVS sequences
and compatibility ideographs included); only the search keys are folded.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Variants folded for search only (storage never folds). Identity is decided by
# people reading the full record, so folding generously only widens a search.
_VARIANTS = {
    "髙": "高",
    "﨑": "崎",
    "嵜": "崎",
    "𠮷": "吉",
    "邊": "辺",
    "邉": "辺",
    "澤": "沢",
    "濱": "浜",
    "齋": "斎",
    "齊": "斉",
    "國": "国",
    "櫻": "桜",
    "廣": "広",
    "德": "徳",
    "眞": "真",
    "嶋": "島",
    "嶌": "島",
    "峯": "峰",
    "冨": "富",
    "槇": "槙",
    "瀨": "瀬",
    "藪": "薮",
    "髮": "髪",
    "靜": "静",
    "龍": "竜",
    "惠": "恵",
    "榮": "栄",
    "實": "実",
    "壽": "寿",
    "縣": "県",
    "淺": "浅",
    "圓": "円",
    "戶": "戸",
    "禮": "礼",
    "條": "条",
}
_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")


def _strip_variation_selectors(text: str) -> str:
    return "".join(ch for ch in text if not (0xFE00 <= ord(ch) <= 0xFE0F or 0xE0100 <= ord(ch) <= 0xE01EF))


def fold_name(text: str) -> str:
    """Search key of a kanji name: variant-folded, IVS removed, no spaces."""
    text = _strip_variation_selectors(text)
    # NFKC folds compatibility ideographs that have a canonical form (not 﨑: see the table).
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_VARIANTS.get(ch, ch) for ch in text)
    return "".join(text.split())


def fold_kana(text: str) -> str:
    """Search key of a reading: full-width katakana, small kana enlarged, no spaces or marks."""
    text = unicodedata.normalize("NFKC", text)  # half-width ｶﾅ → カナ
    text = "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in text)  # ひらがな → カタカナ
    text = text.translate(_SMALL_KANA)
    return "".join(ch for ch in text if not ch.isspace() and ch not in "・･")


def fold_address(text: str) -> str:
    text = unicodedata.normalize("NFKC", _strip_variation_selectors(text))
    text = "".join(_VARIANTS.get(ch, ch) for ch in text)
    return "".join(text.split()).replace("ー", "-").replace("−", "-")


@dataclass(frozen=True)
class ForeignResidentItems:
    nationality: str = ""  # 国籍・地域
    residence_status: str = ""  # 在留資格
    period_of_stay: str = ""  # 在留期間
    stay_expires_on: date | None = None  # 在留期間の満了の日
    residence_card_number: str = ""  # 在留カード等の番号
    category: str = ""  # 第30条の45 区分


@dataclass(frozen=True)
class Qualifications:
    """Items other apps set (第7条 十〜十一の二)."""

    national_health_insurance: bool = False  # 国民健康保険
    late_elderly_medical: bool = False  # 後期高齢者医療
    long_term_care: bool = False  # 介護保険
    national_pension: str = ""  # 国民年金（種別）
    child_allowance: bool = False  # 児童手当


@dataclass(frozen=True)
class ResidentRecord:
    atena_number: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    household_number: str
    relationship: str
    is_household_head: bool
    address: str
    address_since: date  # 住定日
    resident_since: date  # 住民となった年月日
    status: str = "resident"
    address_detail: str = ""  # 方書
    previous_address: str = ""  # 転入前住所（従前の住所）
    pre_move_address: str = ""  # 異動前住所（転居前）
    filed_on: date | None = None  # 届出日（転入等）
    former_family_name: str = ""  # 旧氏
    alias: str = ""  # 通称（外国人住民）
    registered_domicile: str = ""  # 本籍
    domicile_head: str = ""  # 筆頭者
    resident_code: str = ""  # 住民票コード
    voter_registered: bool = False  # 選挙人名簿登録
    removal_reason: str = ""
    removed_on: date | None = None
    moving_out_to: str = ""  # 転出先
    is_foreign: bool = False
    foreign: ForeignResidentItems = field(default_factory=ForeignResidentItems)
    qualifications: Qualifications = field(default_factory=Qualifications)

    @property
    def full_name(self) -> str:
        return f"{self.family_name}　{self.given_name}" if self.given_name else self.family_name

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana}　{self.given_name_kana}" if self.given_name_kana else self.family_name_kana

    @property
    def is_active(self) -> bool:
        return self.status != "removed"

    def replace(self, **changes: Any) -> ResidentRecord:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        encoded: dict[str, Any] = _encode(dataclasses.asdict(self))
        return encoded

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResidentRecord:
        values = dict(data)
        for name in ("birth_date", "address_since", "resident_since", "filed_on", "removed_on"):
            values[name] = _date(values.get(name))
        foreign = dict(values.get("foreign") or {})
        foreign["stay_expires_on"] = _date(foreign.get("stay_expires_on"))
        values["foreign"] = ForeignResidentItems(**foreign)
        values["qualifications"] = Qualifications(**(values.get("qualifications") or {}))
        return cls(**values)


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    return value
