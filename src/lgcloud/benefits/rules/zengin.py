"""全銀協 総合振込 (general transfer) file: 120-byte fixed records in Shift_JIS, half-width kana.

Pure: values in, bytes out. Records (全銀協規定フォーマット, 総合振込 種別コード 21):

- ヘッダー (1): データ区分 1, 種別コード 2, コード区分 1, 振込依頼人コード 10, 振込依頼人名 40,
  取組日 MMDD 4, 仕向銀行番号 4, 仕向銀行名 15, 仕向支店番号 3, 仕向支店名 15, 預金種目 1,
  口座番号 7, ダミー 17
- データ (2): データ区分 1, 被仕向銀行番号 4, 被仕向銀行名 15, 被仕向支店番号 3, 被仕向支店名 15,
  手形交換所番号 4, 預金種目 1, 口座番号 7, 受取人名 30, 振込金額 10, 新規コード 1,
  顧客コード1 10, 顧客コード2 10, 振込指定区分 1, 識別表示 1, ダミー 7
- トレーラー (8): データ区分 1, 合計件数 6, 合計金額 12, ダミー 101
- エンド (9): データ区分 1, ダミー 119

Each record is followed by CR LF (the form most banks' transfer services accept; a bank that
wants a single stream without separators gets ``separator=b""``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

RECORD_BYTES = 120
ENCODING = "cp932"  # Shift_JIS as Windows and the banks' services use it

_SMALL = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
# Characters the 全銀 character set allows besides half-width kana, A–Z and 0–9.
_SYMBOLS = set(" ().-/,\\「」")
_HALF_KANA = {chr(c) for c in range(0xFF66, 0xFFA0)} - {"ｧ", "ｨ", "ｩ", "ｪ", "ｫ", "ｯ", "ｬ", "ｭ", "ｮ", "ｰ"}


class ZenginError(ValueError):
    """A value cannot be written in a 全銀 record (no personal data in the message)."""


def _full_to_half_kana(text: str) -> str:
    # NFKC would fold half-width to full-width; build half-width by decomposing the voiced marks.
    out = []
    for ch in text:
        decomposed = unicodedata.normalize("NFD", ch)
        base, marks = decomposed[0], decomposed[1:]
        half = _KANA_HALF.get(base, base)
        for m in marks:
            half += {"\u3099": "ﾞ", "\u309a": "ﾟ"}.get(m, m)
        out.append(half)
    return "".join(out)


_FULL = (
    "ヲアイウエオヤユヨツーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
)
_HALF = "ｦｱｲｳｴｵﾔﾕﾖﾂｰｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝ"
_KANA_HALF = dict(zip(_FULL, _HALF, strict=True)) | {"ヴ": "ｳﾞ", "　": " ", "・": ".", "ー": "-", "－": "-"}


@lru_cache(maxsize=65536)  # bank and branch names repeat on every record
def to_zengin_kana(text: str) -> str:
    """A name as the 全銀 character set writes it: half-width kana, large kana, upper-case latin.

    Hiragana and full-width katakana are converted; anything else (kanji) is refused, because a
    bank matches the 受取人名 against the account holder's kana and a guess would fail there.
    """
    text = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)  # ひらがな → カタカナ
    text = unicodedata.normalize("NFKC", text).translate(_SMALL)  # half-width → full-width, ａ→a
    text = _full_to_half_kana(text).upper()
    for ch in text:
        if not (ch in _HALF_KANA or ch in "ﾞﾟ" or (ch.isascii() and (ch.isalnum() or ch in _SYMBOLS))):
            raise ZenginError("全銀ファイルに書けない文字があります（カナ・英大文字・数字のみ）。")
    return text


def _x(text: str, width: int) -> str:
    """An alphanumeric (C) field: left-aligned, space-padded, cut to ``width``."""
    return text[:width].ljust(width)


def _n(value: int | str, width: int) -> str:
    """A numeric (N) field: right-aligned, zero-padded; too long is an error, never a silent cut."""
    s = str(value)
    if not s.isdigit() or len(s) > width:
        raise ZenginError(f"数字項目（{width}桁）に収まりません。")
    return s.zfill(width)


@dataclass(frozen=True)
class Payer:
    """振込依頼人: the municipality's account that pays."""

    requester_code: str  # 振込依頼人コード（銀行との契約で決まる 10 桁）
    requester_name: str  # half-width kana
    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str
    account_type: int  # 1 普通, 2 当座
    account_number: str


@dataclass(frozen=True)
class Transfer:
    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str
    account_type: int
    account_number: str
    holder_name: str  # 受取人名, half-width kana
    amount: int
    customer_code_1: str = ""  # e.g. the 世帯番号, so the bank's return can be matched
    customer_code_2: str = ""


def header(payer: Payer, transfer_date: date) -> str:
    rec = (
        "1"
        + "21"
        + "0"
        + _n(payer.requester_code, 10)
        + _x(to_zengin_kana(payer.requester_name), 40)
        + transfer_date.strftime("%m%d")
        + _n(payer.bank_code, 4)
        + _x(to_zengin_kana(payer.bank_name), 15)
        + _n(payer.branch_code, 3)
        + _x(to_zengin_kana(payer.branch_name), 15)
        + _n(payer.account_type, 1)
        + _n(payer.account_number, 7)
        + " " * 17
    )
    return rec


def data(t: Transfer) -> str:
    if t.amount <= 0:
        raise ZenginError("振込金額は1円以上です。")
    return (
        "2"
        + _n(t.bank_code, 4)
        + _x(to_zengin_kana(t.bank_name), 15)
        + _n(t.branch_code, 3)
        + _x(to_zengin_kana(t.branch_name), 15)
        + " " * 4  # 手形交換所番号: unused
        + _n(t.account_type, 1)
        + _n(t.account_number, 7)
        + _x(to_zengin_kana(t.holder_name), 30)
        + _n(t.amount, 10)
        + "0"  # 新規コード: 0 = その他
        + _x(t.customer_code_1, 10)
        + _x(t.customer_code_2, 10)
        + " "  # 振込指定区分
        + " "  # 識別表示
        + " " * 7
    )


def trailer(count: int, total: int) -> str:
    return "8" + _n(count, 6) + _n(total, 12) + " " * 101


def end() -> str:
    return "9" + " " * 119


def encode(record: str) -> bytes:
    raw = record.encode(ENCODING)
    if len(raw) != RECORD_BYTES:
        raise ZenginError(f"レコード長が {len(raw)} バイトです（120 バイトであること）。")
    return raw


def transfer_file(payer: Payer, transfer_date: date, transfers: list[Transfer], separator: bytes = b"\r\n") -> bytes:
    """The whole file: header, one data record per transfer, trailer, end."""
    records = [header(payer, transfer_date), *(data(t) for t in transfers)]
    records += [trailer(len(transfers), sum(t.amount for t in transfers)), end()]
    return separator.join(encode(r) for r in records) + separator


def parse(content: bytes, separator: bytes = b"\r\n") -> list[str]:
    """The records of a file, decoded (for checks and tests)."""
    parts = content.split(separator) if separator else [content[i : i + 120] for i in range(0, len(content), 120)]
    return [p.decode(ENCODING) for p in parts if p]
