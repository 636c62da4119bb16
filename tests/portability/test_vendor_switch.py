"""Vendor switch: a bundle written by another system (not our exporter) goes in and comes back out unchanged.

The writer below knows only the published layout: the column order comes from the JSON Schema files in
docs/standard-layout/v1/schema/, and the CSV is serialised by hand (RFC 4180), without the csv module or any
lgcloud code. If lgcloud's import or export drifted from the published layout, these bytes would differ.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lgcloud.core.tenancy import TenantContext
from lgcloud.portability import actions
from lgcloud.portability.validate import verify_bundle
from lgcloud.registry import queries

from .conftest import CHIYODA

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "standard-layout" / "v1" / "schema"
ENTITIES = (
    "household",
    "person",
    "address",
    "foreign_resident",
    "change",
    "change_record",
    "protection",
    "individual_number",
)


def schema(entity: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{entity}.schema.json").read_text(encoding="utf-8"))
    return loaded


def field(value: str) -> str:
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_csv(path: Path, columns: list[str], rows: list[list[str]]) -> None:
    lines = [",".join(field(v) for v in row) for row in [columns, *rows]]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))


# One household: 中村 (head), her husband, a child born here, and a foreign lodger who moved in from abroad.
HEAD = {
    "001-R005": "0000000501", "001-R006": "1", "001-R007": "01", "001-R008": "中村", "001-R009": "美﨑",
    "001-R010": "ナカムラ", "001-R011": "ミサキ", "001-R012": "1985-02-03", "001-R013": "2", "001-R014": "1",
    "001-R015": "2020-04-01", "001-R016": "2020-04-03", "001-R017": "", "001-R018": "",
    "001-R019": "京都府京都市左京区北白川1番地", "001-R020": "中村　一", "001-R021": "12345678901",
    "001-R022": "1", "001-R023": "1", "001-R024": "0", "001-R025": "0", "001-R026": "1号",
    "001-R027": "1", "001-R028": "", "001-R029": "", "001-R030": "0",
    "001-R031": "東京都千代田区一番町1番地", "001-R032": "一番町ハイツ「朗」201", "001-R033": "2020-04-01",
    "001-R034": "京都府京都市左京区北白川1番地", "001-R035": "", "001-R036": "",
    "001-R037": "", "001-R038": "", "001-R039": "", "001-R040": "", "001-R041": "", "001-R042": "",
}  # fmt: skip


def person_of(rec: dict[str, str], **changes: str) -> dict[str, str]:
    return {**rec, **changes}


HUSBAND = person_of(HEAD, **{"001-R006": "0", "001-R007": "03", "001-R008": "中村", "001-R009": "𠮷郎",
                             "001-R011": "キチロウ", "001-R012": "1983-11-30", "001-R013": "1", "001-R021": "",
                             "001-R026": "", "001-R027": "0", "001-R014": "1"})  # fmt: skip
CHILD = person_of(HEAD, **{"001-R006": "0", "001-R007": "06", "001-R009": "葵", "001-R011": "アオイ",
                           "001-R012": "2021-06-01", "001-R013": "2", "001-R015": "2021-06-01",
                           "001-R016": "2021-06-05", "001-R019": "", "001-R020": "", "001-R021": "",
                           "001-R022": "0", "001-R023": "0", "001-R026": "", "001-R027": "0",
                           "001-R033": "2021-06-01", "001-R034": ""})  # fmt: skip
LODGER = person_of(HEAD, **{"001-R006": "0", "001-R007": "15", "001-R008": "SILVA", "001-R009": "ANA, MARIA",
                            "001-R010": "シルヴァ", "001-R011": "アナマリア", "001-R012": "1999-09-09",
                            "001-R015": "2022-01-10", "001-R016": "2022-01-12", "001-R018": "アナ",
                            "001-R019": "", "001-R020": "", "001-R021": "", "001-R022": "0", "001-R023": "0",
                            "001-R026": "", "001-R027": "0", "001-R030": "1", "001-R033": "2022-01-10",
                            "001-R034": "", "001-R037": "ブラジル", "001-R038": "留学", "001-R039": "2年3月",
                            "001-R040": "2027-03-31", "001-R041": "XY98765432ZZ", "001-R042": "1"})  # fmt: skip
MOVED = person_of(HEAD, **{"001-R031": "東京都千代田区二番町2番地", "001-R032": "", "001-R033": "2024-08-01",
                           "001-R035": "東京都千代田区一番町1番地"})  # fmt: skip


def vendor_bundle(directory: Path) -> None:
    """Write the bundle as another vendor's system would, from the published schema only."""
    directory.mkdir()
    atena = {"head": "0000001001", "husband": "0000001002", "child": "0000001003", "lodger": "0000001004"}
    changes = [
        ["1", "11", "2020-04-01", "2020-04-03", "2020-04-03T01:02:03.000004Z", "旧システム", "", "", "0", "1",
         "京都府京都市左京区北白川1番地", "", ""],
        ["2", "21", "2021-06-01", "2021-06-05", "2021-06-05T00:00:00.000000Z", "旧システム", "", "", "0", "", "", "",
         ""],
        ["3", "11", "2022-01-10", "2022-01-12", "2022-01-12T09:30:00.500000Z", "旧システム",
         '国外から, 在留カード "確認"\n済み', "", "0", "2", "", "", ""],
        ["4", "14", "2024-08-01", "2024-08-20", "2024-08-20T03:00:00.000000Z", "旧システム", "", "", "1", "", "", "",
         ""],
        ["5", "42", "2024-08-01", "", "2024-08-21T03:00:00.000000Z", "旧システム", "住所の誤記", "4", "0", "", "", "",
         "001-R032"],
    ]  # fmt: skip
    for change in changes:  # 転出先団体コード, 連携ID: none of these 異動 has them
        change += ["", ""]
    moved_husband = person_of(HUSBAND, **{k: MOVED[k] for k in ("001-R031", "001-R032", "001-R033", "001-R035")})
    moved_child = person_of(CHILD, **{k: MOVED[k] for k in ("001-R031", "001-R032", "001-R033", "001-R035")})
    moved_lodger = person_of(LODGER, **{k: MOVED[k] for k in ("001-R031", "001-R032", "001-R033", "001-R035")})
    fixed = {"001-R032": "二番町ビル3階"}
    history = {  # per person: (change number, effective date, record)
        "head": [("1", "2020-04-01", HEAD), ("4", "2024-08-01", MOVED), ("5", "2024-08-01", {**MOVED, **fixed})],
        "husband": [("1", "2020-04-01", HUSBAND), ("4", "2024-08-01", moved_husband),
                    ("5", "2024-08-01", {**moved_husband, **fixed})],
        "child": [("2", "2021-06-01", CHILD), ("4", "2024-08-01", moved_child),
                  ("5", "2024-08-01", {**moved_child, **fixed})],
        "lodger": [("3", "2022-01-10", LODGER), ("4", "2024-08-01", moved_lodger),
                   ("5", "2024-08-01", {**moved_lodger, **fixed})],
    }  # fmt: skip
    record_columns = schema("change_record")["x-columns"][4:]
    rows: dict[str, list[list[str]]] = {e: [] for e in ENTITIES}
    rows["household"] = [["0000000501", "2020-04-01"]]
    rows["change"] = changes
    for who in sorted(atena, key=atena.get):  # type: ignore[arg-type]
        for seq, (number, effective, rec) in enumerate(history[who], start=1):
            rows["change_record"].append([number, atena[who], str(seq), effective, *(rec[c] for c in record_columns)])
        current = history[who][-1][2]
        by_name = dict(zip(record_columns, (current[c] for c in record_columns), strict=True))
        rows["person"].append([atena[who], *(by_name[f"001-R{n:03d}"] for n in range(5, 31))])
        rows["address"].append([atena[who], *(by_name[f"001-R{n:03d}"] for n in range(31, 37))])
        if by_name["001-R030"] == "1":
            rows["foreign_resident"].append([atena[who], *(by_name[f"001-R{n:03d}"] for n in range(37, 43))])
    rows["protection"] = [
        [
            "1",
            atena["head"],
            atena["head"],
            "2024-09-01",
            "2025-08-31",
            "",
            "相手方 某",
            "",
            "",
            "2024-09-01T00:00:00.000000Z",
        ]
    ]
    rows["individual_number"] = [[atena["head"], "123456789018"]]
    files = []
    for entity in ENTITIES:
        columns = schema(entity)["x-columns"]
        path = directory / f"{entity}.csv"
        write_csv(path, columns, rows[entity])
        files.append(
            {"entity": entity, "file": path.name, "rows": len(rows[entity]),
             "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        )  # fmt: skip
    manifest = {
        "layout": "lgcloud-standard-layout",
        "layout_version": "1.0.0",
        "municipality": {"code": CHIYODA, "name": "千代田区"},
        "exported_at": "2026-11-01T00:00:00Z",
        "generator": "another vendor's system",
        "excluded": [],
        "files": files,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def test_another_vendors_bundle_round_trips_byte_for_byte(tokyo: list[str], tmp_path: Path) -> None:
    vendor_bundle(tmp_path / "vendor")
    report = verify_bundle(tmp_path / "vendor")
    assert report.ok, [str(f) for f in report.findings]
    ctx = TenantContext.system(CHIYODA, purpose="test")
    result = actions.import_bundle(ctx, tmp_path / "vendor")
    assert result.stats is not None and result.stats.persons == 4 and result.stats.versions == 12
    actions.export_bundle(ctx, tmp_path / "ours", municipality_name="千代田区")
    for entity in ENTITIES:
        assert (tmp_path / "ours" / f"{entity}.csv").read_bytes() == (
            tmp_path / "vendor" / f"{entity}.csv"
        ).read_bytes()

    # And the data means what the vendor meant: the register answers from it.
    head = queries.get_record(ctx, "0000001001")
    assert (head.family_name, head.given_name, head.address_detail) == ("中村", "美﨑", "二番町ビル3階")
    before_move = queries.get_record_as_of(ctx, "0000001001", __import__("datetime").date(2024, 7, 31))
    assert before_move is not None and before_move.address == "東京都千代田区一番町1番地"
    lodger = queries.get_record(ctx, "0000001004")
    assert lodger.is_foreign and lodger.foreign.nationality == "ブラジル" and lodger.given_name == "ANA, MARIA"
    assert queries.reveal_individual_number(ctx, "0000001001", purpose="test") == "123456789018"


def test_every_row_of_an_export_fits_the_published_json_schema(tokyo: list[str], tmp_path: Path) -> None:
    vendor_bundle(tmp_path / "vendor")
    ctx = TenantContext.system(CHIYODA, purpose="test")
    actions.import_bundle(ctx, tmp_path / "vendor")
    actions.export_bundle(ctx, tmp_path / "ours", municipality_name="千代田区")
    checked = 0
    for entity in ENTITIES:
        s = schema(entity)
        validator = jsonschema.Draft202012Validator(s)
        lines = (tmp_path / "ours" / f"{entity}.csv").read_bytes().decode("utf-8").split("\r\n")
        rows = list(csv.reader((tmp_path / "ours" / f"{entity}.csv").open(encoding="utf-8", newline="")))
        assert rows[0] == s["x-columns"] and lines[0].split(",") == s["x-columns"]
        for row in rows[1:]:
            validator.validate(dict(zip(rows[0], row, strict=True)))
            checked += 1
    manifest = json.loads((tmp_path / "ours" / "manifest.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema("manifest")).validate(manifest)
    assert checked == 1 + 4 + 4 + 1 + 5 + 12 + 1 + 1  # household, person, address, foreign, change, …


@pytest.mark.parametrize(
    ("entity", "column", "value"),
    [
        ("person", "001-P004", "99"),  # not a 続柄 code
        ("person", "001-P007", "ﾅｶﾑﾗ"),  # half-width kana
        ("person", "001-P005", "中\ufffd"),  # U+FFFD
        ("person", "001-P005", "長" * 101),
        ("person", "001-P009", "1985/02/03"),
        ("change", "001-C005", "2020-04-03 01:02:03"),
        ("household", "001-H001", "501"),
    ],
)
def test_the_schema_and_the_verifier_refuse_the_same_bad_values(
    tokyo: list[str], tmp_path: Path, entity: str, column: str, value: str
) -> None:
    vendor_bundle(tmp_path / "vendor")
    path = tmp_path / "vendor" / f"{entity}.csv"
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    rows[1][rows[0].index(column)] = value
    write_csv(path, rows[0], rows[1:])
    manifest = json.loads((tmp_path / "vendor" / "manifest.json").read_text(encoding="utf-8"))
    for f in manifest["files"]:
        if f["entity"] == entity:
            f["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "vendor" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    errors = list(jsonschema.Draft202012Validator(schema(entity)).iter_errors(dict(zip(rows[0], rows[1], strict=True))))
    assert errors, "the published schema accepted it"
    report = verify_bundle(tmp_path / "vendor")
    assert any(f.item == column and f.line == 2 for f in report.findings), [str(f) for f in report.findings]
