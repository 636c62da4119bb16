"""Legacy conversion: real cp932 files on disk → column map + 外字 table → the normal verified import.

Every legacy file here is written by the test as bytes (Shift_JIS with the legacy
system's 外字 bytes spliced in), so what is read is what a legacy system writes.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from fontTools.ttLib import TTFont

from lgcloud.core.tenancy import TenantContext
from lgcloud.portability.actions import export_bundle
from lgcloud.portability.legacy import (
    IPAMJ_FONT,
    MapError,
    convert,
    import_legacy,
    load_gaiji,
    load_map,
    parse_map,
)
from lgcloud.portability.rules import sjis
from lgcloud.portability.validate import verify_bundle
from lgcloud.registry import restore

CHIYODA = "131016"
MINATO = "131032"
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "legacy"

# The legacy system's bytes: 﨑 as the IBM extension FAB1 and 朗 (U+F929) as the NEC-selected EDC4.
SAKI = b"\xfa\xb1"
AKIRA = b"\xed\xc4"
KATSU_IVS = b"\xf0\x40"  # user-defined area → U+E000, mapped to 葛 + IVS
KATSU_MJ = b"\xf0\x42"  # → U+E002, mapped to MJ022336
TAKA = b"\xeb\x40"  # a code cp932 cannot decode, mapped to 髙
REVIEW_PUA = b"\xf0\x50"  # → U+E010, REVIEW in GAIJI.csv
UNDECODABLE = b"\x85\x41"  # cp932 has no character here

GAIJI = """code,target,note
F040,U+845B U+E0100,葛 IVS
U+E002,MJ022336,葛 via the font
EB40,U+9AD9,髙
U+E010,REVIEW,check the glyph
"""

HEADER = (
    "宛名,世帯,主,続柄,氏,名,氏カナ,名カナ,生年月日,性別,住民日,住定日,住所,方書,"
    "届出日,本籍,筆頭者,住民票コード,個人番号\r\n"
)


def sj(text: str) -> bytes:
    return text.encode("cp932")


def row(*fields: bytes) -> bytes:
    return b",".join(fields) + b"\r\n"


def person(
    atena: str,
    household: str,
    head: str,
    rel: str,
    family: bytes,
    given: bytes,
    kana: tuple[str, str],
    birth: str,
    since: str,
    address: bytes = "東京都千代田区千代田1番1号".encode("cp932"),
) -> bytes:
    return row(
        sj(atena),
        sj(household),
        sj(head),
        sj(rel),
        family,
        given,
        sj(kana[0]),
        sj(kana[1]),
        sj(birth),
        b"1",
        sj(since),
        sj(since),
        address,
        b"",
        b"",
        b"",
        b"",
        b"",
        b"",
    )


def juki(tmp_path: Path, *rows: bytes, name: str = "JUKI20261101.CSV") -> Path:
    path = tmp_path / name
    path.write_bytes(sj(HEADER) + b"".join(rows))
    return path


@pytest.fixture
def gaiji_csv(tmp_path: Path) -> Path:
    path = tmp_path / "GAIJI.csv"
    path.write_text(GAIJI, encoding="utf-8")
    return path


def exported(lg_code: str, tmp_path: Path) -> dict[str, list[dict[str, str]]]:
    """Export the municipality with the normal exporter and read the CSVs back (also the raw bytes)."""
    out = tmp_path / f"export-{lg_code}"
    export_bundle(TenantContext.system(lg_code, purpose="test"), out, municipality_name="test")
    files = {}
    for name in ("person", "household", "change", "change_record", "foreign_resident", "individual_number"):
        with open(out / f"{name}.csv", encoding="utf-8", newline="") as handle:
            files[name] = list(csv.DictReader(handle))
    files["_bytes"] = [{"person": (out / "person.csv").read_bytes().decode("utf-8")}]
    return files


def run(*args: str) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_legacy", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_csv_export_with_gaiji_ivs_mj_kana_wareki_and_compatibility_ideographs(
    tokyo: list[str], tmp_path: Path, gaiji_csv: Path
) -> None:
    source = juki(
        tmp_path,
        person("00000101", "00000001", "1", "11", sj("山") + SAKI, AKIRA, ("ﾔﾏｻﾞｷ", "ｱｷﾗ"), "H07.04.01", "R3.5.21"),
        person(
            "00000102",
            "00000001",
            "0",
            "12",
            sj("山") + SAKI,
            sj("花子"),
            ("ﾔﾏｻﾞｷ", "ﾊﾅｺ"),
            "平成7年4月1日",
            "令和元年5月1日",
        ),
        person(
            "00000201",
            "00000002",
            "1",
            "11",
            KATSU_IVS + sj("西"),
            TAKA + sj("子"),
            ("ｶｻｲ", "ﾀｶｺ"),
            "S50.1.2",
            "19990401",
        ),
        person(
            "00000202",
            "00000002",
            "0",
            "21",
            KATSU_MJ + sj("西"),
            sj("一郎"),
            ("ｶｻｲ", "ｲﾁﾛｳ"),
            "平成元年1月8日",
            "H元.1.8",
        ),
    )
    out, _err = run(
        "--municipality", CHIYODA, "--map", str(EXAMPLES / "columns.yaml"), "--mapping", str(gaiji_csv), str(source)
    )
    assert "取り込みました: 世帯 2、住民 4、異動 4" in out

    data = exported(CHIYODA, tmp_path)
    persons = {p["001-P001"]: p for p in data["person"]}
    assert sorted(persons) == ["0000000101", "0000000102", "0000000201", "0000000202"]
    yamasaki = persons["0000000101"]
    # Compatibility ideographs survive byte for byte (no NFC: 﨑 stays U+FA11, 朗 stays U+F929).
    assert yamasaki["001-P005"] == "山\ufa11"
    assert yamasaki["001-P006"] == "\uf929"
    assert "山\ufa11" in data["_bytes"][0]["person"] and "\uf929" in data["_bytes"][0]["person"]
    # Readings widened; dates from the three 和暦 forms and 元年.
    assert (yamasaki["001-P007"], yamasaki["001-P008"]) == ("ヤマザキ", "アキラ")
    assert yamasaki["001-P009"] == "1995-04-01"
    assert yamasaki["001-P012"] == "2021-05-21"
    assert persons["0000000102"]["001-P009"] == "1995-04-01"
    assert persons["0000000102"]["001-P012"] == "2019-05-01"
    assert persons["0000000202"]["001-P009"] == "1989-01-08" == persons["0000000202"]["001-P012"]
    # 外字: to a sequence with IVS, to an MJ code through the font, and an undecodable code to 髙.
    assert persons["0000000201"]["001-P005"] == "葛\U000e0100西"
    assert persons["0000000201"]["001-P006"] == "髙子"
    assert persons["0000000202"]["001-P005"] == "葛\U000e0103西"
    # Legacy codes translated: 続柄 11 → 01 (世帯主), 12 → 02 (妻), 21 → 06 (子).
    assert [persons[a]["001-P004"] for a in sorted(persons)] == ["01", "02", "01", "06"]
    # Synthesized: households founded on the earliest 住民となった年月日, one 職権記載 per person.
    assert {h["001-H001"]: h["001-H002"] for h in data["household"]} == {
        "0000000001": "2019-05-01",
        "0000000002": "1989-01-08",
    }
    assert [c["001-C002"] for c in data["change"]] == ["41"] * 4
    assert {c["001-C006"] for c in data["change"]} == {"import_legacy"}
    assert data["change"][0]["001-C003"] == "2021-05-21"
    assert f"{source.name}:2" in data["change"][0]["001-C007"]
    assert f"{source.name}:5" in data["change"][3]["001-C007"]
    assert [r["001-R003"] for r in data["change_record"]] == ["1"] * 4


def test_mj_code_resolves_through_the_font_itself() -> None:
    """The sequence chosen for MJ022336 is one the IPAmj明朝 cmap really maps to that glyph."""
    font = TTFont(str(IPAMJ_FONT), lazy=True)
    uvs = next(t for t in font["cmap"].tables if t.format == 14).uvsDict
    assert (0x845B, "mj022336") in uvs[0xE0103]
    font.close()
    from lgcloud.portability.legacy import MjFont

    assert MjFont().sequence("MJ022336") == "葛\U000e0103"
    with pytest.raises(MapError):
        MjFont().sequence("MJ999999")


def test_fixed_width_with_era_codes_and_a_foreign_resident_file_to_a_bundle(
    tokyo: list[str], tmp_path: Path, gaiji_csv: Path
) -> None:
    def fixed(*parts: tuple[bytes, int]) -> bytes:
        out = b""
        for value, width in parts:
            assert len(value) <= width
            out += value + b" " * (width - len(value))
        return out + b"\r\n"

    # 宛名 1-10, 世帯 11-20, 続柄 21-22, 氏 23-42, 名 43-62, 氏カナ 63-82, 名カナ 83-102, 生年月日 103-109,
    # 性別 110, 住民日 111-117, 住所 118-177 (byte positions, 1-based, inclusive).
    data = fixed(
        (b"0000000301", 10),
        (b"0000000003", 10),
        (b"01", 2),
        (sj("山") + SAKI, 20),
        (sj("太郎"), 20),
        (sj("ﾔﾏｻﾞｷ"), 20),
        (sj("ﾀﾛｳ"), 20),
        (b"4070401", 7),
        (b"1", 1),
        (b"5030521", 7),
        (sj("東京都港区芝公園4丁目2番8号"), 60),
    ) + fixed(
        (b"0000000302", 10),
        (b"0000000003", 10),
        (b"02", 2),
        (sj("ｽﾐｽ"), 20),
        (sj("ｼﾞｪｰﾝ"), 20),
        (sj("ｽﾐｽ"), 20),
        (sj("ｼﾞｪｰﾝ"), 20),
        (b"3550607", 7),
        (b"2", 1),
        (b"5030521", 7),
        (sj("東京都港区芝公園4丁目2番8号"), 60),
    )
    (tmp_path / "KOJIN.DAT").write_bytes(data)
    (tmp_path / "GAIKOKU.DAT").write_bytes(sj("0000000302") + sj("米国").ljust(30) + sj("永住者").ljust(30) + b"\r\n")
    spans = {
        "宛名番号": [1, 10],
        "世帯番号": [11, 20],
        "続柄": [21, 22],
        "氏": [23, 42],
        "名": [43, 62],
        "氏カナ": [63, 82],
        "名カナ": [83, 102],
        "生年月日": [103, 109],
        "性別": [110, 110],
        "住民となった年月日": [111, 117],
        "住所": [118, 177],
    }
    (tmp_path / "map.yaml").write_text(
        "files:\n"
        "  - name: 個人\n    match: KOJIN*.DAT\n    format: fixed\n    items:\n"
        + "".join(f"      {k}: {{bytes: {v}}}\n" for k, v in spans.items())
        + "      世帯主フラグ: {bytes: [21, 22], codes: {'01': '1', '02': '0'}}\n"
        "      住定日: {bytes: [111, 117]}\n"
        "  - name: 外国人\n    match: GAIKOKU*.DAT\n    format: fixed\n    items:\n"
        "      宛名番号: {bytes: [1, 10]}\n      外国人住民フラグ: {value: '1'}\n"
        "      国籍・地域: {bytes: [11, 40]}\n      在留資格: {bytes: [41, 70]}\n"
        "defaults: {住民状態: '1', 外国人住民フラグ: '0', 選挙人名簿登録: '0', 国民健康保険: '0',"
        " 後期高齢者医療: '0', 介護保険: '0', 児童手当: '0'}\n",
        encoding="utf-8",
    )
    bundle = tmp_path / "bundle"
    out, _err = run(
        "--municipality", MINATO, "--map", str(tmp_path / "map.yaml"), "--mapping", str(gaiji_csv),
        "--out", str(bundle), str(tmp_path / "KOJIN.DAT"), str(tmp_path / "GAIKOKU.DAT"),
    )  # fmt: skip
    assert "書き出しました（取り込んでいません）" in out
    assert verify_bundle(bundle).ok
    with open(bundle / "person.csv", encoding="utf-8", newline="") as handle:
        persons = list(csv.DictReader(handle))
    with open(bundle / "foreign_resident.csv", encoding="utf-8", newline="") as handle:
        foreign = list(csv.DictReader(handle))
    assert persons[0]["001-P005"] == "山\ufa11"  # padding removed, the name itself untouched
    assert persons[0]["001-P009"] == "1995-04-01" and persons[0]["001-P012"] == "2021-05-21"
    assert persons[1]["001-P005"] == "ｽﾐｽ"  # a name is never widened: only readings are
    assert persons[1]["001-P007"] == "スミス" and persons[1]["001-P008"] == "ジェーン"
    assert persons[1]["001-P009"] == "1980-06-07"
    assert [p["001-P027"] for p in persons] == ["0", "1"]
    assert [(f["001-F001"], f["001-F002"], f["001-F003"]) for f in foreign] == [("0000000302", "米国", "永住者")]
    # --out imports nothing.
    with_ctx = TenantContext.system(MINATO, purpose="test")
    assert restore.is_empty(with_ctx)


def test_unmapped_gaiji_and_undecodable_bytes_stop_the_import_with_file_line_item_and_code(
    tokyo: list[str], tmp_path: Path, gaiji_csv: Path
) -> None:
    source = juki(
        tmp_path,
        person("00000101", "00000001", "1", "11", sj("山田"), sj("太郎"), ("ﾔﾏﾀﾞ", "ﾀﾛｳ"), "H07.04.01", "R3.5.21"),
        person(
            "00000102", "00000001", "0", "12", sj("山田"), b"\xf0\x45" + sj("子"), ("ﾔﾏﾀﾞ", "ｴｲｺ"), "H8.1.1", "R3.5.21"
        ),
        person("00000103", "00000001", "0", "21", sj("山田"), UNDECODABLE, ("ﾔﾏﾀﾞ", "ｼﾞﾛｳ"), "H9.1.1", "R3.5.21"),
    )
    review = tmp_path / "review.csv"
    with pytest.raises(CommandError, match="2 件"):
        run(
            "--municipality", CHIYODA, "--map", str(EXAMPLES / "columns.yaml"), "--mapping", str(gaiji_csv),
            "--review-list", str(review), str(source),
        )  # fmt: skip
    result = convert([source], load_map(EXAMPLES / "columns.yaml"), load_gaiji(gaiji_csv))
    listed = [str(i) for i in result.issues]
    assert listed == [
        f"{source.name}:3 001-P006 名 U+E005 外字表にない外字です。",
        f"{source.name}:4 001-P006 名 8541 cp932 で読めないバイトです（外字表にありません）。",
    ]
    assert restore.is_empty(TenantContext.system(CHIYODA, purpose="test"))
    assert not review.exists()


def test_review_keeps_private_use_characters_and_withholds_households_with_undecodable_bytes(
    tokyo: list[str], tmp_path: Path
) -> None:
    gaiji = tmp_path / "GAIJI.csv"
    gaiji.write_text(GAIJI + "8541,REVIEW,unknown vendor code\n", encoding="utf-8")
    withheld_row = person(
        "00000202",
        "00000002",
        "0",
        "21",
        sj("佐藤"),
        UNDECODABLE + sj("郎"),
        ("ｻﾄｳ", "ｼﾞﾛｳ"),
        "H9.1.1",
        "R3.5.21",
        address=b'"' + sj("東京都千代田区千代田1番1号,2階") + b'"',
    )
    source = juki(
        tmp_path,
        person(
            "00000101", "00000001", "1", "11", sj("鈴") + REVIEW_PUA, sj("一"), ("ｽｽﾞｷ", "ﾊｼﾞﾒ"), "S40.1.1", "R3.5.21"
        ),
        person("00000201", "00000002", "1", "11", sj("佐藤"), sj("一郎"), ("ｻﾄｳ", "ｲﾁﾛｳ"), "S45.1.1", "R3.5.21"),
        withheld_row,
    )
    review = tmp_path / "review.csv"
    args = ["--municipality", CHIYODA, "--map", str(EXAMPLES / "columns.yaml"), "--mapping", str(gaiji)]
    # Sent to review but no --review-list: nothing happens.
    with pytest.raises(CommandError):
        run(*args, str(source))
    assert restore.is_empty(TenantContext.system(CHIYODA, purpose="test"))

    out, _err = run(*args, "--review-list", str(review), str(source))
    assert "住民 1" in out and "保留 1 世帯 2 人" in out
    data = exported(CHIYODA, tmp_path)
    assert [p["001-P001"] for p in data["person"]] == ["0000000101"]
    assert data["person"][0]["001-P005"] == "鈴\ue010"  # the private-use character kept as is

    raw = review.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    entries = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(e["line"], e["atena_number"], e["item"], e["code"], e["action"]) for e in entries] == [
        ("2", "0000000101", "001-P005 氏", "U+E010", "外字のまま取り込む（要確認）"),
        ("3", "0000000201", "", "", "世帯ごと取り込まない（同じ世帯の判読できないバイトのため）"),
        ("4", "0000000202", "001-P006 名", "8541", "世帯ごと取り込まない（判読できないバイト）"),
    ]
    # The withheld record is kept whole, as raw bytes in hex: nothing is replaced or dropped.
    assert bytes.fromhex(entries[2]["raw_hex"]) == withheld_row.rstrip(b"\r\n")
    assert "\ufffd" not in raw.decode("utf-8-sig")


def test_dry_run_writes_nothing(tokyo: list[str], tmp_path: Path, gaiji_csv: Path) -> None:
    source = juki(
        tmp_path,
        person("00000101", "00000001", "1", "11", sj("山田"), sj("太郎"), ("ﾔﾏﾀﾞ", "ﾀﾛｳ"), "H07.04.01", "R3.5.21"),
    )
    out, _err = run(
        "--municipality", CHIYODA, "--map", str(EXAMPLES / "columns.yaml"), "--mapping", str(gaiji_csv),
        "--dry-run", str(source),
    )  # fmt: skip
    assert "（書き込みません）" in out and "住民 1" in out
    assert restore.is_empty(TenantContext.system(CHIYODA, purpose="test"))


def test_value_problems_name_the_legacy_line_and_item_without_the_value(tmp_path: Path, gaiji_csv: Path) -> None:
    source = juki(
        tmp_path,
        person("00000101", "00000001", "1", "77", sj("山田"), sj("太郎"), ("ﾔﾏﾀﾞ", "ﾀﾛｳ"), "H07.02.30", "R3.5.21"),
        person("00000102", "00000001", "0", "12", sj("山田"), sj("花子"), ("やまだ", "ﾊﾅｺ"), "H7.1.1", "R3.5.21"),
    )
    result = convert([source], load_map(EXAMPLES / "columns.yaml"), load_gaiji(gaiji_csv))
    assert [str(i) for i in result.issues] == [
        f"{source.name}:2 001-P004 続柄 77 旧コードが列定義の codes にありません。",
        f"{source.name}:2 001-P009 生年月日 日付として読めません"
        "（西暦 YYYY-MM-DD・YYYYMMDD、和暦 H07.04.01・平成7年4月1日・R3.5.21 など）。",
        f"{source.name}:3 001-P007 氏カナ 全角カタカナではない文字を含みます。",
    ]
    assert "やまだ" not in " ".join(map(str, result.issues))


def test_the_same_run_as_a_function_imports_and_is_verified_like_any_bundle(
    tokyo: list[str], tmp_path: Path, gaiji_csv: Path
) -> None:
    # Two heads in one household: each value is fine, the bundle check refuses it (same verification as any import).
    source = juki(
        tmp_path,
        person("00000101", "00000001", "1", "11", sj("山田"), sj("太郎"), ("ﾔﾏﾀﾞ", "ﾀﾛｳ"), "H07.04.01", "R3.5.21"),
        person("00000102", "00000001", "1", "11", sj("山田"), sj("花子"), ("ﾔﾏﾀﾞ", "ﾊﾅｺ"), "H7.1.1", "R3.5.21"),
    )
    ctx = TenantContext.system(CHIYODA, purpose="test", actor_name="import_legacy")
    result = import_legacy(
        ctx,
        [source],
        load_map(EXAMPLES / "columns.yaml"),
        load_gaiji(gaiji_csv),
        municipality_name="千代田区",
        processed_at=datetime(2026, 11, 26, tzinfo=UTC),
    )
    assert result.conversion.ok and result.stats is None and result.report is not None
    assert [f.item for f in result.report.findings] == ["001-P003"]
    assert result.conversion.source_of(result.report.findings[0].file, result.report.findings[0].line) == (
        source.name,
        3,
    )
    assert restore.is_empty(ctx)


def test_shift_jis_units_csv_quoting_and_fixed_width_boundaries() -> None:
    # 表 is 0x95 0x5C: its trail byte is the backslash, and ソ (0x83 0x5C) too; quotes hold commas and line breaks.
    data = sj('1,"表,ソ"\r\n2,"a""b\r\nc",') + b"\xf0\x40\xfd\r\n"
    rows = list(sjis.split_csv(data))
    assert [line for line, _f, _r in rows] == [1, 2]
    assert rows[1][2] == sj('2,"a""b\r\nc",') + b"\xf0\x40\xfd"  # the record's own bytes, quotes included
    assert [sjis.decode(f) for f in rows[0][1]] == [["1"], ["表,ソ"]]
    assert rows[1][1][1] == b'a"b\r\nc'
    assert sjis.decode(rows[1][1][2]) == ["\ue000", sjis.Undecodable(b"\xfd")]
    assert sjis.decode(b"\x85\x41" + sj("あ")) == [sjis.Undecodable(b"\x85\x41"), "あ"]
    with pytest.raises(sjis.CsvSyntaxError):
        list(sjis.split_csv(b'1,a"b\r\n'))
    assert 1 not in sjis.unit_boundaries(sj("山田"))


def test_a_byte_range_that_cuts_a_character_in_half_is_reported(tmp_path: Path, gaiji_csv: Path) -> None:
    (tmp_path / "K.DAT").write_bytes(b"0000000001" + sj("山田") + b"\r\n")
    legacy_map = parse_map(
        {
            "files": [
                {
                    "match": "K.DAT",
                    "format": "fixed",
                    "items": {
                        "宛名番号": {"bytes": [1, 10]},
                        "世帯番号": {"value": "0000000001"},
                        "氏": {"bytes": [11, 13]},
                    },
                }
            ],
            "defaults": dict.fromkeys(
                (
                    *("性別", "続柄", "世帯主フラグ", "氏カナ", "生年月日", "住民状態", "住民となった年月日"),
                    *("住所", "住定日", "選挙人名簿登録", "国民健康保険", "後期高齢者医療", "介護保険", "児童手当"),
                    "外国人住民フラグ",
                ),
                "0",
            ),
        }
    )
    result = convert([tmp_path / "K.DAT"], legacy_map, load_gaiji(gaiji_csv))
    assert "11〜13バイト目が2バイト文字の途中で切れています" in str(result.issues[0])
    assert result.issues[0].item == "001-P005 氏"


def test_map_and_table_mistakes_are_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(MapError, match="001-P009 生年月日"):
        parse_map({"files": [{"match": "*", "format": "csv", "items": {"宛名番号": 1, "世帯番号": 2}}]})
    with pytest.raises(MapError, match="項目「生まれ」"):
        parse_map({"files": [{"match": "*", "format": "csv", "items": {"宛名番号": 1, "生まれ": 2}}]})
    with pytest.raises(MapError, match="続柄コードにないコード"):
        parse_map(
            {
                "files": [
                    {
                        "match": "*",
                        "format": "csv",
                        "items": {"宛名番号": 1, "続柄": {"column": 2, "codes": {"1": "99"}}},
                    }
                ]
            }
        )
    with pytest.raises(MapError, match="0x40 未満"):  # "|" (0x7C) can be the trail byte of a kanji
        parse_map({"files": [{"match": "*", "format": "csv", "delimiter": "|", "items": {"宛名番号": 1}}]})
    bad = tmp_path / "G.csv"
    bad.write_text("code,target\n889F,U+4E9C\nU+E000,U+FFFD\nF040,U+845B\nU+E000,U+845B U+E0101\n", encoding="utf-8")
    with pytest.raises(MapError) as exc:
        load_gaiji(bad)
    message = str(exc.value)
    assert "G.csv:2" in message and "外字ではありません" in message  # 889F is 亜, not a 外字
    assert "G.csv:3" in message  # U+FFFD is never a target
    assert "G.csv:5" in message  # F040 and U+E000 are the same 外字 with two targets
