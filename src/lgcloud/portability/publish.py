"""The published forms of the standard layout: JSON Schema per entity, code tables as CSV, and the doc.

``write_published(root)`` writes, under ``root`` (docs/ in the repository):

- ``standard-layout/v1/schema/<entity>.schema.json``: one JSON Schema (2020-12) per
  entity, describing one CSV row as an object of item ID → text;
- ``standard-layout/v1/schema/manifest.schema.json``;
- ``standard-layout/v1/codes/<table>.csv``: each code table (UTF-8, RFC 4180);
- ``standard-layout.md``: rendered from those files (not from Python), so the doc
  says exactly what the published files say.

A test regenerates everything and compares it with the committed files.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from .bundle import DIALECT, MANIFEST
from .layout import (
    CODE_TABLES,
    DATE_PATTERN,
    DATETIME_PATTERN,
    ENTITIES,
    KANA_PATTERN,
    LAYOUT_NAME,
    LAYOUT_VERSION,
    Entity,
    Item,
    ItemType,
    code_table,
)

REPO_DOCS = Path(__file__).resolve().parents[3] / "docs"  # in a checkout of the repository
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAJOR = f"v{LAYOUT_VERSION.split('.')[0]}"
_TEXT = "[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\uFFFD]"


def _item_schema(item: Item) -> dict[str, Any]:
    t = item.type
    schema: dict[str, Any] = {"title": item.name, "type": "string"}
    if t in (ItemType.CODE, ItemType.FLAG):
        codes = [c.code for c in code_table(item.code_table).codes]
        schema["enum"] = codes if item.required else ["", *codes]
    else:
        if t is ItemType.DIGITS:
            body = f"[0-9]{{{item.length}}}"
        elif t is ItemType.INTEGER:
            body = f"(?:0|[1-9][0-9]{{0,{item.length - 1}}})"
        elif t is ItemType.DATE:
            body = DATE_PATTERN[1:-1]
            schema["format"] = "date"
        elif t is ItemType.DATETIME:
            body = DATETIME_PATTERN[1:-1]
            schema["format"] = "date-time"
        elif t is ItemType.KANA:
            body = KANA_PATTERN[1:-2] + "+"
        else:
            body = _TEXT + "+"
        if t in (ItemType.TEXT, ItemType.KANA):
            schema["maxLength"] = item.length
        schema["pattern"] = f"^{body}$" if item.required else f"^(?:{body})?$"
    if item.required:
        schema["minLength"] = 1
    schema["x-item-type"] = t.value
    schema["x-length"] = item.length
    schema["x-required"] = item.required
    for key, value in (
        ("x-code-table", item.code_table),
        ("x-law", item.law),
        ("x-official-item", item.official),
        ("x-references", item.references),
        ("description", item.note),
    ):
        if value:
            schema[key] = value
    return schema


def entity_schema(entity: Entity) -> dict[str, Any]:
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:{LAYOUT_NAME}:{LAYOUT_VERSION}:{entity.name}",
        "title": f"{entity.title}（{entity.file_name}）",
        "description": entity.description,
        "type": "object",
        "x-layout": LAYOUT_NAME,
        "x-layout-version": LAYOUT_VERSION,
        "x-file": entity.file_name,
        "x-key": list(entity.key),
        "x-columns": [it.id for it in entity.items],
        "properties": {it.id: _item_schema(it) for it in entity.items},
        "required": [it.id for it in entity.items],
        "additionalProperties": False,
    }


def manifest_schema() -> dict[str, Any]:
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:{LAYOUT_NAME}:{LAYOUT_VERSION}:manifest",
        "title": f"出力の目録（{MANIFEST}）",
        "type": "object",
        "required": ["layout", "layout_version", "municipality", "exported_at", "files"],
        "properties": {
            "layout": {"const": LAYOUT_NAME},
            "layout_version": {"type": "string", "pattern": f"^{LAYOUT_VERSION.split('.')[0]}\\.[0-9]+\\.[0-9]+$"},
            "municipality": {
                "type": "object",
                "required": ["code"],
                "properties": {
                    "code": {
                        "type": "string",
                        "pattern": "^[0-9]{6}$",
                        "description": "全国地方公共団体コード（検査数字つき）",
                    },
                    "name": {"type": "string"},
                },
            },
            "exported_at": {"type": "string", "format": "date-time"},
            "generator": {"type": "string"},
            "excluded": {"type": "array", "items": {"enum": [e.name for e in ENTITIES]}},
            "files": {
                "type": "array",
                "minItems": len(ENTITIES),
                "items": {
                    "type": "object",
                    "required": ["entity", "file", "rows", "sha256"],
                    "properties": {
                        "entity": {"enum": [e.name for e in ENTITIES]},
                        "file": {"type": "string"},
                        "rows": {"type": "integer", "minimum": 0},
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    },
                },
            },
        },
    }


def _json_text(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, dialect=DIALECT)
    writer.writerows(rows)
    return out.getvalue()


def published_files() -> dict[str, str]:
    """Relative path → content of every published file except the doc."""
    base = f"standard-layout/{MAJOR}"
    files = {f"{base}/schema/{e.name}.schema.json": _json_text(entity_schema(e)) for e in ENTITIES}
    files[f"{base}/schema/manifest.schema.json"] = _json_text(manifest_schema())
    for table in CODE_TABLES:
        rows = [["コード", "名称"], *([c.code, c.label] for c in table.codes)]
        files[f"{base}/codes/{table.id}.csv"] = _csv_text(rows)
    return files


def render_doc(root: Path) -> str:
    """docs/standard-layout.md from the published JSON Schema and code table files under ``root``."""
    base = root / "standard-layout" / MAJOR
    schemas = [json.loads((base / "schema" / f"{e.name}.schema.json").read_text(encoding="utf-8")) for e in ENTITIES]
    out = [_INTRO.format(version=LAYOUT_VERSION, name=LAYOUT_NAME, major=MAJOR)]
    out.append("## ファイル一覧\n\n| ファイル | 実体 | キー（並び順） | 項目数 |\n|---|---|---|---|")
    for s in schemas:
        out.append(
            f"| `{s['x-file']}` | {s['title'].split('（')[0]} | {', '.join(s['x-key'])} | {len(s['x-columns'])} |"
        )
    out.append("")
    for s in schemas:
        out.append(f"## {s['title']}\n\n{s['description']}\n")
        out.append(f"キー（一意・昇順）: {', '.join(s['x-key'])}\n")
        out.append("| 項目ID | 項目名 | 型 | 桁 | 必須 | コード表 | 根拠 | 公式項目（名称での対応） | 参照先・備考 |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for item_id in s["x-columns"]:
            p = s["properties"][item_id]
            notes = "; ".join(x for x in (p.get("x-references", ""), p.get("description", "")) if x)
            code = (
                f"[{p['x-code-table']}](standard-layout/{MAJOR}/codes/{p['x-code-table']}.csv)"
                if "x-code-table" in p
                else ""
            )
            out.append(
                f"| `{item_id}` | {p['title']} | {p['x-item-type']} | {p['x-length']} | "
                f"{'○' if p['x-required'] else ''} | {code} | {p.get('x-law', '')} | "
                f"{p.get('x-official-item', '')} | {notes} |"
            )
        out.append("")
    out.append("## コード表\n")
    for table in CODE_TABLES:
        path = base / "codes" / f"{table.id}.csv"
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        out.append(f"### {table.name}（`{table.id}`）\n")
        if table.note:
            out.append(f"{table.note}\n")
        out.append("| " + " | ".join(rows[0]) + " |\n|---|---|")
        out.extend("| " + " | ".join(r) + " |" for r in rows[1:])
        out.append("")
    out.append(_RULES)
    return "\n".join(out)


def write_published(root: Path) -> list[Path]:
    written = []
    for rel, text in published_files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        written.append(path)
    doc = root / "standard-layout.md"
    with open(doc, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(render_doc(root))
    written.append(doc)
    return written


_INTRO = """# 標準レイアウト {version}（住民記録） / Standard layout

<!-- このファイルは `lgcloud publish_layout` が standard-layout/{major}/ の JSON Schema と
     コード表から生成します。手で編集しないでください。 -->

lgcloud が住民記録（住民基本台帳）のデータを持ち運ぶための**版つきの標準レイアウト**です
（名前 `{name}`、版 `{version}`）。団体がアプリやベンダーを替えるとき、全件をこの形で出力し、
別のシステムに検証つきで取り込みます。契約はこのレイアウトであって lgcloud のコードではありません:
別の実装が書いたファイルも同じ検査を通り、取り込んで再出力すると同じバイト列になります（テストで確認）。

機械可読な定義:

- 実体ごとの JSON Schema: [`standard-layout/{major}/schema/`](standard-layout/{major}/schema/)
  （CSV の1行を「項目ID → 文字列」のオブジェクトとして記述）
- 目録（manifest.json）の JSON Schema:
  [`manifest.schema.json`](standard-layout/{major}/schema/manifest.schema.json)
- コード表（CSV）: [`standard-layout/{major}/codes/`](standard-layout/{major}/codes/)

## 公式の項目との関係（正直な説明）

項目ID・型・桁数は、デジタル庁の「基本データリスト」（データ要件・連携要件標準仕様書、
例: `001_住民基本台帳_基本データリスト【第2.1版】`）と総務省・J-LIS の「中間標準レイアウト仕様」の
形（業務番号・項目名・型・桁・必須・コード）に倣っています。ただし、これらの公式ファイルの項目ID体系と
型の表記は手元で確認できていません。そのため:

- **項目IDは lgcloud 独自**です（`001-P006` = 業務番号 001〈住民基本台帳〉、実体 P〈住民〉、連番 006）。
- 「公式項目（名称での対応）」欄は、住民基本台帳法 第7条などの記載事項と、基本データリスト・中間標準
  レイアウトの**項目名**での対応です。公式の項目IDとの対応表は、公式ファイルを確認したうえで次の版で加えます。
- 異動事由コードは公開された機械可読の公式コード表が見つからないため lgcloud 独自の番号です。
  続柄・性別のコードは一般的な住基の表記に合わせています。

## 版の決め方

`主版.副版.修正`。項目の削除・意味の変更・桁の縮小は主版を上げます（`{major}` の読み手は読めなくなる）。
任意項目やコードの追加は副版、説明の修正は修正版です。取込みは同じ主版の出力を受け付けます。
後から標準化される業務（個人住民税 = 業務番号 004 など）は、同じ形で自分の実体とファイルを追加します。

## ファイルの形式

- 文字コードは UTF-8（BOM なし）。CSV は RFC 4180: カンマ区切り、改行は CRLF、1行目は**項目IDの見出し行**
  （レイアウトの順序どおり）。値にカンマ・二重引用符・改行を含むときだけ `"` で囲み、`"` は `""` と書きます。
- 各ファイルは実体のキーで**昇順に並べ**、キーは一意です（検査します）。並びが決まっているので、
  同じデータからは同じバイト列ができます。
- 値が無いときは空欄。必須項目（○）は空欄にできません。
- 日付は `YYYY-MM-DD`（西暦。和暦は画面の表示だけ）、日時は UTC で `YYYY-MM-DDTHH:MM:SS.ffffffZ`。
- フラグは `1`（あり）か `0`（なし）。コードは各コード表のコード。
- 桁（文字列の最大長）は Unicode の符号位置の数で数えます（IVS の異体字セレクタも1つと数える）。
- 氏名は入力どおりに保存します。正規化（NFC/NFKC）も幅の変換もしません。IVS と互換漢字（U+FA11 﨑 など）、
  私用領域の文字（行政事務標準文字の追加文字は現在私用領域にある）もそのまま持ち運びます。
- 制御文字と U+FFFD（置換文字: 変換で失われた文字の印）は使えません。
- カナは全角カタカナ。
- 個人番号は `individual_number.csv` に分けてあり、出力時に除けます（manifest の `excluded`）。

## 目録（manifest.json）

`layout`（`{name}`）、`layout_version`、`municipality`（団体コードと名称）、`exported_at`（UTC）、
`generator`、`excluded`、`files`（実体・ファイル名・行数・SHA-256）。取込みと検査は、行数と SHA-256 が
目録どおりかを確かめます。再出力で変わるのは `exported_at` だけです。
"""

_RULES = """## 検査する規則

`lgcloud verify_standard DIR` と取込み（`lgcloud import_standard`）では、次をすべて検査します。
取込みは検査と書込みを別々のプロセスで並行して行い、書込みは検査に通ったときだけ確定します
（それまでは誰にも見えず、誤りがあれば取り消すので、先に検査するのと結果は同じです）。誤りは
ファイル・行・項目ID・理由で示し（上限つき。件数はすべて数える）、1件でもあれば何も取り込みません。
誤りの理由に個人の値（個人番号など）は書きません。

- 目録: レイアウト名と主版、団体コードの検査数字、全実体のファイルがあること、行数と SHA-256。
- 各ファイル: UTF-8 として読めること、RFC 4180 の CSV であること、見出し行、1行の項目数。
- 各値: 必須、型（数字の桁・整数・実在する日付・UTC の日時・全角カタカナ・コード表・フラグ）、長さ、
  使えない文字、個人番号の検査用数字。
- キー: 一意で昇順。
- 参照: 世帯番号（person・異動履歴 → household）、宛名番号（address・foreign_resident・異動履歴・支援措置・
  個人番号 → person）、異動番号（異動履歴 → change）、修正対象の異動番号（それより前の異動）。
- 住民1人に住所1行。外国人住民フラグが1の住民だけに foreign_resident が1行。
- 除票でない世帯主は1世帯に1人まで。
- 異動履歴の履歴連番は住民ごとに1からの連番で、異動履歴がない住民はいない。
- 住民の現在の記載（person + address + foreign_resident）は、その人の最後の異動履歴と一致する。
- 同じ個人番号を2人が持たない。支援措置番号は1からの連番で、終了予定日は開始日より後。

## コマンド

| コマンド | すること |
|---|---|
| `lgcloud export_standard --municipality CODE --out DIR` | 全件を出力（一定のメモリ、進捗バーつき）。\
`--without-individual-numbers` で個人番号を除く |
| `lgcloud verify_standard DIR` | 出力フォルダだけを検査（ベンダーが自分の出力を確かめる用途） |
| `lgcloud import_standard --municipality CODE DIR` | 検査して、誤りがなければ空の団体へ\
一度に取り込む（途中の状態は誰にも見えない） |
| `lgcloud publish_layout` | この文書と JSON Schema・コード表を `layout.py` から作り直す |

職員画面と API からの全件出力は、別の職員の承認が必要です（[portability.md](portability.md)）。旧システムの
Shift_JIS・外字を含む出力の変換は [legacy-import.md](legacy-import.md) を見てください。
"""
