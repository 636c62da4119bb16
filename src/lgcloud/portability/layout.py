"""lgcloud standard layout v1 for 住民記録 (住民基本台帳): entities, items and code tables.

This module is the single place the layout is written down. The published
forms — one JSON Schema per entity, the code tables as CSV, and
docs/standard-layout.md — are generated from it (``lgcloud publish_layout``),
and the exporter, the importer and the validator all read it, so the files and
the code cannot drift apart (a test regenerates the published files and
compares).

Item IDs follow the shape of the Digital Agency's 基本データリスト: the 業務 number
(001 = 住民基本台帳), then an entity letter and a serial (``001-P006`` = 氏).
Every later 業務 adds its own entities the same way under its own number.

Pure: no ORM, no clock, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

LAYOUT_NAME = "lgcloud-standard-layout"
LAYOUT_VERSION = "1.0.0"
BUSINESS = "001"  # 住民基本台帳 (numbered as in the 基本データリスト file names)


class ItemType(StrEnum):
    TEXT = "文字列"  # any characters (length = Unicode code points)
    KANA = "カナ"  # full-width katakana
    DIGITS = "数字"  # a fixed number of ASCII digits (identifiers: leading zeros matter)
    INTEGER = "整数"  # a non-negative decimal integer without leading zeros
    DATE = "日付"  # YYYY-MM-DD (西暦); 和暦 is for display only
    DATETIME = "日時"  # YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC)
    CODE = "コード"  # a code of the item's code table
    FLAG = "フラグ"  # 1 (あり) or 0 (なし)


@dataclass(frozen=True)
class Code:
    code: str
    label: str
    value: str  # what lgcloud stores (its internal value); not part of the contract


@dataclass(frozen=True)
class CodeTable:
    id: str
    name: str
    codes: tuple[Code, ...]
    note: str = ""

    def by_code(self) -> dict[str, str]:
        return {c.code: c.value for c in self.codes}

    def by_value(self) -> dict[str, str]:
        return {c.value: c.code for c in self.codes}


@dataclass(frozen=True)
class Item:
    id: str
    name: str  # 日本語名
    key: str  # the field it carries in lgcloud (a path in the 住民票 record for record items)
    type: ItemType
    length: int  # maximum length (exact length for DIGITS)
    required: bool = False
    code_table: str = ""
    law: str = ""  # the 住民基本台帳法 (or other) provision the item carries
    official: str = ""  # the corresponding official item, where known
    references: str = ""  # ``entity.item_id`` this item must name a row of
    note: str = ""


@dataclass(frozen=True)
class Entity:
    name: str  # file stem: ``<name>.csv``
    title: str
    description: str
    items: tuple[Item, ...]
    key: tuple[str, ...]  # item IDs: unique, and the sort order of the file
    parent: str = ""  # for one-to-one extensions of person: the entity they extend

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"


def _codes(*rows: tuple[str, str, str]) -> tuple[Code, ...]:
    return tuple(Code(code, label, value) for code, label, value in rows)


CODE_TABLES: tuple[CodeTable, ...] = (
    CodeTable(
        "sex",
        "性別コード",
        _codes(("1", "男", "1"), ("2", "女", "2")),
        note="住民基本台帳法 第7条第3号「男女の別」。",
    ),
    CodeTable(
        "relationship",
        "続柄コード",
        _codes(
            ("01", "世帯主", "head"),
            ("02", "妻", "wife"),
            ("03", "夫", "husband"),
            ("04", "妻（未届）", "wife_unregistered"),
            ("05", "夫（未届）", "husband_unregistered"),
            ("06", "子", "child"),
            ("07", "父", "father"),
            ("08", "母", "mother"),
            ("09", "孫", "grandchild"),
            ("10", "祖父母", "grandparent"),
            ("11", "兄弟姉妹", "sibling"),
            ("12", "子の配偶者", "child_in_law"),
            ("13", "配偶者の父母", "parent_in_law"),
            ("14", "縁故者", "relative"),
            ("15", "同居人", "cohabitant"),
        ),
        note="世帯主との続柄。1995年3月1日以降、子はすべて「子」と記載する。",
    ),
    CodeTable(
        "change_type",
        "異動事由コード",
        _codes(
            ("11", "転入", "move_in"),
            ("12", "転出（予定）", "move_out_planned"),
            ("13", "転出（確定）", "move_out_confirmed"),
            ("14", "転居", "address_change"),
            ("21", "出生", "birth"),
            ("22", "死亡", "death"),
            ("31", "世帯主変更", "household_head_change"),
            ("32", "世帯分離", "household_split"),
            ("33", "世帯合併", "household_merge"),
            ("34", "世帯構成変更", "household_composition"),
            ("41", "職権記載", "ex_officio_entry"),
            ("42", "職権修正", "ex_officio_correction"),
            ("43", "職権消除", "ex_officio_removal"),
            ("44", "職権回復", "ex_officio_restoration"),
            ("51", "氏名変更", "name_change"),
        ),
        note="届出（法22〜25条）と職権の異動。公開された機械可読の公式コード表が見つからないため lgcloud 独自の番号。",
    ),
    CodeTable(
        "status",
        "住民状態コード",
        _codes(("1", "住民", "resident"), ("2", "転出予定", "moving_out"), ("3", "除票", "removed")),
    ),
    CodeTable(
        "removal_reason",
        "消除事由コード",
        _codes(("1", "転出", "moved_out"), ("2", "死亡", "died"), ("3", "職権消除", "ex_officio")),
    ),
    CodeTable(
        "origin",
        "転入元区分コード",
        _codes(("1", "他市区町村から", "domestic"), ("2", "国外から", "abroad")),
    ),
    CodeTable(
        "foreign_category",
        "外国人住民区分コード",
        _codes(
            ("1", "中長期在留者", "medium_long_term"),
            ("2", "特別永住者", "special_permanent"),
            ("3", "一時庇護許可者", "temporary_protection"),
            ("4", "仮滞在許可者", "provisional_stay"),
            ("5", "出生による経過滞在者又は国籍喪失による経過滞在者", "birth_or_loss"),
        ),
        note="住民基本台帳法 第30条の45 の区分。",
    ),
    CodeTable("flag", "有無区分コード", _codes(("0", "なし", "0"), ("1", "あり", "1"))),
)

_TABLES = {t.id: t for t in CODE_TABLES}


def code_table(table_id: str) -> CodeTable:
    return _TABLES[table_id]


T, K, D, INT, DT, C, F, DG = (
    ItemType.TEXT,
    ItemType.KANA,
    ItemType.DATE,
    ItemType.INTEGER,
    ItemType.DATETIME,
    ItemType.CODE,
    ItemType.FLAG,
    ItemType.DIGITS,
)
ATENA = "person.001-P001"
LAW = "住民基本台帳法"


def _it(
    entity: str,
    n: int,
    name: str,
    key: str,
    typ: ItemType,
    length: int,
    *,
    required: bool = False,
    code: str = "",
    law: str = "",
    official: str = "",
    references: str = "",
    note: str = "",
) -> Item:
    if typ is F:
        code = "flag"
    return Item(f"{BUSINESS}-{entity}{n:03d}", name, key, typ, length, required, code, law, official, references, note)


# The items of one 住民票 (a record), shared by the current person tables and the 異動履歴.
# (name, key, type, length, required, code table, law, official item name)
_RECORD: tuple[tuple[str, str, ItemType, int, bool, str, str, str], ...] = (
    ("世帯番号", "household_number", DG, 10, True, "", f"{LAW} 第7条第4号", "世帯番号"),
    ("世帯主フラグ", "is_household_head", F, 1, True, "", f"{LAW} 第7条第4号", "世帯主である旨"),
    ("続柄", "relationship", C, 2, True, "relationship", f"{LAW} 第7条第4号", "続柄"),
    ("氏", "family_name", T, 100, True, "", f"{LAW} 第7条第1号", "氏名（氏）"),
    ("名", "given_name", T, 100, False, "", f"{LAW} 第7条第1号", "氏名（名）"),
    ("氏カナ", "family_name_kana", K, 100, True, "", "", "氏名カナ（氏）"),
    ("名カナ", "given_name_kana", K, 100, False, "", "", "氏名カナ（名）"),
    ("生年月日", "birth_date", D, 10, True, "", f"{LAW} 第7条第2号", "生年月日"),
    ("性別", "sex", C, 1, True, "sex", f"{LAW} 第7条第3号", "性別"),
    ("住民状態", "status", C, 1, True, "status", "", "住民状態"),
    ("住民となった年月日", "resident_since", D, 10, True, "", f"{LAW} 第7条第6号", "住民となった年月日"),
    ("届出日", "filed_on", D, 10, False, "", f"{LAW} 第7条第8号", "届出の年月日"),
    ("旧氏", "former_family_name", T, 100, False, "", "住民基本台帳法施行令 第30条の13", "旧氏"),
    ("通称", "alias", T, 100, False, "", "住民基本台帳法施行令 第30条の26", "通称"),
    ("本籍", "registered_domicile", T, 200, False, "", f"{LAW} 第7条第5号", "本籍"),
    ("筆頭者", "domicile_head", T, 100, False, "", f"{LAW} 第7条第5号", "筆頭者"),
    ("住民票コード", "resident_code", DG, 11, False, "", f"{LAW} 第7条第13号", "住民票コード"),
    ("選挙人名簿登録", "voter_registered", F, 1, True, "", f"{LAW} 第7条第9号", "選挙人名簿に登録された者である旨"),
    (
        "国民健康保険",
        "qualifications.national_health_insurance",
        F,
        1,
        True,
        "",
        f"{LAW} 第7条第10号",
        "国民健康保険の被保険者である旨",
    ),
    (
        "後期高齢者医療",
        "qualifications.late_elderly_medical",
        F,
        1,
        True,
        "",
        f"{LAW} 第7条第10号の2",
        "後期高齢者医療の被保険者である旨",
    ),
    (
        "介護保険",
        "qualifications.long_term_care",
        F,
        1,
        True,
        "",
        f"{LAW} 第7条第10号の3",
        "介護保険の被保険者である旨",
    ),
    (
        "国民年金種別",
        "qualifications.national_pension",
        T,
        10,
        False,
        "",
        f"{LAW} 第7条第11号",
        "国民年金の被保険者の種別",
    ),
    (
        "児童手当",
        "qualifications.child_allowance",
        F,
        1,
        True,
        "",
        f"{LAW} 第7条第11号の2",
        "児童手当の支給を受けている者である旨",
    ),
    ("消除事由", "removal_reason", C, 1, False, "removal_reason", "", "消除事由"),
    ("消除日", "removed_on", D, 10, False, "", "", "消除の年月日"),
    ("外国人住民フラグ", "is_foreign", F, 1, True, "", f"{LAW} 第30条の45", "外国人住民である旨"),
)
_ADDRESS: tuple[tuple[str, str, ItemType, int, bool, str, str, str], ...] = (
    ("住所", "address", T, 200, True, "", f"{LAW} 第7条第7号", "住所"),
    ("方書", "address_detail", T, 100, False, "", f"{LAW} 第7条第7号", "方書"),
    ("住定日", "address_since", D, 10, True, "", f"{LAW} 第7条第7号", "住所を定めた年月日"),
    ("転入前住所", "previous_address", T, 200, False, "", f"{LAW} 第7条第8号", "従前の住所"),
    ("異動前住所", "pre_move_address", T, 200, False, "", "", "異動前住所"),
    ("転出先", "moving_out_to", T, 200, False, "", f"{LAW} 第24条", "転出先"),
)
_FOREIGN: tuple[tuple[str, str, ItemType, int, bool, str, str, str], ...] = (
    ("国籍・地域", "foreign.nationality", T, 50, True, "", f"{LAW} 第30条の45", "国籍・地域"),
    ("在留資格", "foreign.residence_status", T, 50, False, "", f"{LAW} 第30条の45", "在留資格"),
    ("在留期間", "foreign.period_of_stay", T, 30, False, "", f"{LAW} 第30条の45", "在留期間"),
    ("在留期間の満了の日", "foreign.stay_expires_on", D, 10, False, "", f"{LAW} 第30条の45", "在留期間の満了の日"),
    (
        "在留カード等の番号",
        "foreign.residence_card_number",
        T,
        12,
        False,
        "",
        f"{LAW} 第30条の45",
        "在留カード等の番号",
    ),
    (
        "外国人住民区分",
        "foreign.category",
        C,
        1,
        False,
        "foreign_category",
        f"{LAW} 第30条の45",
        "第30条の45の表の区分",
    ),
)


def _record_items(
    letter: str,
    first: int,
    rows: tuple[tuple[str, str, ItemType, int, bool, str, str, str], ...],
    *,
    optional: bool = False,
) -> tuple[Item, ...]:
    return tuple(
        _it(
            letter,
            first + i,
            name,
            key,
            typ,
            length,
            required=required and not optional,
            code=code,
            law=law,
            official=official,
            references="household.001-H001" if key == "household_number" else "",
        )
        for i, (name, key, typ, length, required, code, law, official) in enumerate(rows)
    )


def _atena(letter: str, n: int = 1, *, key: str = "atena_number", name: str = "宛名番号") -> Item:
    return _it(letter, n, name, key, DG, 10, required=True, references=ATENA, official="宛名番号")


HOUSEHOLD = Entity(
    "household",
    "世帯",
    "住民基本台帳の世帯。世帯員は住民（person）の世帯番号で結び付く。除票の人だけの世帯も残る。",
    (
        _it("H", 1, "世帯番号", "household_number", DG, 10, required=True, law=f"{LAW} 第6条", official="世帯番号"),
        _it("H", 2, "世帯の成立日", "created_on", D, 10, required=True),
    ),
    key=("001-H001",),
)

PERSON = Entity(
    "person",
    "住民",
    "住民票の現在の記載（除票を含む）。住所は address、外国人住民の項目は foreign_resident に分けて持つ。",
    (
        _it("P", 1, "宛名番号", "atena_number", DG, 10, required=True, official="宛名番号", note="団体内で一意。"),
        *_record_items("P", 2, _RECORD),
    ),
    key=("001-P001",),
)

ADDRESS = Entity(
    "address",
    "住所",
    "住民の現在の住所（住民1人につき1行）。",
    (_atena("A"), *_record_items("A", 2, _ADDRESS)),
    key=("001-A001",),
    parent="person",
)

FOREIGN_RESIDENT = Entity(
    "foreign_resident",
    "外国人住民",
    "外国人住民（外国人住民フラグが1の住民）だけが1行ずつ持つ第30条の45の項目。",
    (_atena("F"), *_record_items("F", 2, _FOREIGN)),
    key=("001-F001",),
    parent="person",
)

CHANGE = Entity(
    "change",
    "異動",
    "異動（届出・職権）1件につき1行。異動は変更されない。職権修正は修正する異動を指す新しい異動になる。",
    (
        _it("C", 1, "異動番号", "change_number", INT, 18, required=True, official="異動履歴番号"),
        _it("C", 2, "異動事由", "change_type", C, 2, required=True, code="change_type", official="異動事由"),
        _it("C", 3, "異動日", "effective_date", D, 10, required=True, official="異動年月日"),
        _it("C", 4, "届出日", "filed_on", D, 10, law=f"{LAW} 第7条第8号", official="届出年月日"),
        _it("C", 5, "処理日時", "processed_at", DT, 27, required=True, official="処理年月日"),
        _it("C", 6, "処理者", "actor_name", T, 150, required=True),
        _it("C", 7, "理由・備考", "reason", T, 2000),
        _it("C", 8, "修正対象異動番号", "corrects", INT, 18, references="change.001-C001"),
        _it("C", 9, "届出期間経過", "late_filing", F, 1, required=True, law=f"{LAW} 第22条〜第25条（14日以内）"),
        _it("C", 10, "転入元区分", "details.origin", C, 1, code="origin", note="転入・職権記載のときだけ。"),
        _it(
            "C",
            11,
            "従前の住所",
            "details.previous_address",
            T,
            200,
            law=f"{LAW} 第22条",
            note="転入・職権記載のときだけ。",
        ),
        _it("C", 12, "転出先", "details.destination", T, 200, law=f"{LAW} 第24条", note="転出（予定）のときだけ。"),
        _it(
            "C",
            13,
            "修正項目",
            "details.corrected_fields",
            T,
            2000,
            note="職権修正のときだけ。修正した項目の異動履歴（change_record）の項目IDを半角空白で区切って並べる。",
        ),
        _it(
            "C",
            14,
            "転出先団体コード",
            "details.destination_lg_code",
            DG,
            6,
            law="住民基本台帳法施行令 第23条（転出証明書）",
            note="転出（予定）で、転出先が同じ基盤の団体のとき（ワンスオンリーの転入に使う）。検査数字を検査する。",
        ),
        _it(
            "C",
            15,
            "転出証明書情報の連携ID",
            "details.transfer_id",
            T,
            64,
            note="転入で、他団体から連携で受け取った転出証明書情報によるとき。その連携の識別子。",
        ),
    ),
    key=("001-C001",),
)

CHANGE_RECORD = Entity(
    "change_record",
    "異動履歴",
    "異動ごとの住民票の全記載（その異動で記載された人1人につき1行）。適用日以後、次の履歴までの記載を表す。"
    "同じ人の履歴は履歴連番の順に適用する。",
    (
        _it("R", 1, "異動番号", "change_number", INT, 18, required=True, references="change.001-C001"),
        _atena("R", 2),
        _it("R", 3, "履歴連番", "seq", INT, 9, required=True, note="同じ人の中で1から連続する番号。"),
        _it("R", 4, "適用日", "effective_date", D, 10, required=True),
        *_record_items("R", 5, _RECORD),
        *_record_items("R", 5 + len(_RECORD), _ADDRESS),
        *_record_items("R", 5 + len(_RECORD) + len(_ADDRESS), _FOREIGN, optional=True),
    ),
    key=("001-R002", "001-R003"),
)

PROTECTION = Entity(
    "protection",
    "支援措置",
    "DV等支援措置（住民基本台帳事務処理要領）。申出者と併せて措置する同一世帯の人は、1人1行。",
    (
        _it("S", 1, "支援措置番号", "number", INT, 9, required=True, note="ファイル内で1から連続する番号。"),
        _atena("S", 2),
        _it("S", 3, "申出者宛名番号", "applicant", DG, 10, references=ATENA),
        _it("S", 4, "開始日", "starts_on", D, 10, required=True),
        _it("S", 5, "終了予定日", "expires_on", D, 10, required=True, note="開始日から1年。延長で1年ずつ延びる。"),
        _it("S", 6, "終了日", "ended_on", D, 10),
        _it("S", 7, "相手方", "adversary_display", T, 200),
        _it("S", 8, "相手方生年月日", "adversary_birth_date", D, 10),
        _it("S", 9, "理由", "reason", T, 2000),
        _it("S", 10, "登録日時", "created_at", DT, 27, required=True),
    ),
    key=("001-S001",),
)

INDIVIDUAL_NUMBER = Entity(
    "individual_number",
    "個人番号",
    "個人番号（番号法）。取扱いに注意する特定個人情報なので、他の項目と別のファイルにする。"
    "出力時に除くこともできる（manifest の excluded に記録）。",
    (
        _atena("N"),
        _it(
            "N",
            2,
            "個人番号",
            "individual_number",
            DG,
            12,
            required=True,
            law="行政手続における特定の個人を識別するための番号の利用等に関する法律 第2条第5項",
            official="個人番号",
            note="検査用数字を検査する。",
        ),
    ),
    key=("001-N001",),
    parent="person",
)

ENTITIES: tuple[Entity, ...] = (
    HOUSEHOLD,
    PERSON,
    ADDRESS,
    FOREIGN_RESIDENT,
    CHANGE,
    CHANGE_RECORD,
    PROTECTION,
    INDIVIDUAL_NUMBER,
)


def entity(name: str) -> Entity:
    for e in ENTITIES:
        if e.name == name:
            return e
    raise KeyError(name)


# The 住民票 record keys in the order of the 異動履歴 items, and item ID ↔ record key (for 修正項目).
RECORD_ITEMS: tuple[Item, ...] = CHANGE_RECORD.items[4:]
RECORD_ITEM_ID = {it.key: it.id for it in RECORD_ITEMS}
RECORD_KEY = {it.id: it.key for it in RECORD_ITEMS}

# Value patterns shared by the validator and the JSON Schema.
DATE_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
DATETIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$"
INTEGER_PATTERN = r"^(0|[1-9][0-9]*)$"
KANA_PATTERN = r"^[\u30A1-\u30FA\u30FC-\u30FE\u3000]*$"
# Characters never allowed in a value: C0/C1 controls other than tab/newline, and U+FFFD (the mark of a lossy
# conversion). Private-use characters are allowed: 行政事務標準文字 places its added characters there.
FORBIDDEN_PATTERN = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\uFFFD]"


def digits_pattern(length: int) -> str:
    return rf"^[0-9]{{{length}}}$"


@dataclass(frozen=True)
class LayoutInfo:
    name: str = LAYOUT_NAME
    version: str = LAYOUT_VERSION
    business: str = BUSINESS
    entities: tuple[Entity, ...] = ENTITIES
    code_tables: tuple[CodeTable, ...] = CODE_TABLES
    extra: dict[str, str] = field(default_factory=dict)


LAYOUT = LayoutInfo()


def _self_check() -> None:
    """Fail at import if the layout is inconsistent (unique IDs, known code tables, keys and references)."""
    seen: set[str] = set()
    for ent in ENTITIES:
        ids = [it.id for it in ent.items]
        problems = []
        if len(set(ids)) != len(ids) or set(ids) & seen:
            problems.append("duplicate item IDs")
        if not set(ent.key) <= set(ids):
            problems.append("key items missing")
        for it in ent.items:
            if not re.fullmatch(r"[0-9]{3}-[A-Z][0-9]{3}", it.id):
                problems.append(f"bad item ID {it.id}")
            if (it.type in (ItemType.CODE, ItemType.FLAG)) != bool(it.code_table) or (
                it.code_table and it.code_table not in _TABLES
            ):
                problems.append(f"code table of {it.id}")
            if it.references:
                target, target_item = it.references.split(".")
                entity(target).item(target_item)
        if problems:
            raise ValueError(f"layout entity {ent.name}: {', '.join(problems)}")
        seen |= set(ids)


_self_check()
