"""The standard layout: export, verify, import all-or-nothing, and byte-identical round trips."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from lgcloud.audit.models import AuditRecord
from lgcloud.core.tenancy import TenantContext
from lgcloud.portability import actions
from lgcloud.portability.layout import ENTITIES
from lgcloud.portability.validate import verify_bundle
from lgcloud.registry import queries, restore
from lgcloud.registry.models import Change, Household, Person, PersonVersion, ProtectionOrder

from .conftest import CHIYODA, MINATO, SHINJUKU, build_register

pytestmark = pytest.mark.django_db

FILES = [e.file_name for e in ENTITIES]


def system(lg_code: str) -> TenantContext:
    return TenantContext.system(lg_code, purpose="test")


def export(lg_code: str, out: Path) -> actions.ExportResult:
    return actions.export_bundle(system(lg_code), out, municipality_name="test")


def files_of(directory: Path) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in FILES}


def rewrite(directory: Path, name: str, edit: Callable[[list[list[str]]], list[list[str]]]) -> None:
    """Edit one CSV's rows and keep the manifest's SHA-256 and counts true, so only the edit is wrong."""
    path = directory / name
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows = edit(rows)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        if entry["file"] == name:
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
            entry["rows"] = len(rows) - 1
    (directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def test_round_trip_into_another_municipality_is_byte_identical(register: str, tmp_path: Path) -> None:
    first = export(CHIYODA, tmp_path / "first")
    result = actions.import_bundle(system(SHINJUKU), tmp_path / "first", allow_other_municipality=True)
    assert result.report.ok and result.stats is not None
    second = export(SHINJUKU, tmp_path / "second")

    assert files_of(tmp_path / "first") == files_of(tmp_path / "second")
    assert [f.sha256 for f in first.files] == [f.sha256 for f in second.files]
    # Everything the issue lists is really in there, not just consistently empty.
    counts = {f.entity: f.rows for f in first.files}
    assert counts["person"] > 60 and counts["address"] == counts["person"]
    assert counts["foreign_resident"] >= 1 and counts["protection"] == 2 and counts["individual_number"] >= 2
    assert counts["change_record"] > counts["change"] > counts["household"]
    assert result.stats.persons == counts["person"] and result.stats.versions == counts["change_record"]
    from lgcloud.linkage.models import Event

    event = Event.objects.filter(municipality_id=SHINJUKU).get()  # 連携: one event for the whole import
    assert event.type == "registry.changes.bulk_loaded" and event.data["persons"] == counts["person"]


def test_names_text_and_history_survive_exactly(register: str, tmp_path: Path) -> None:
    export(CHIYODA, tmp_path / "b")
    actions.import_bundle(system(SHINJUKU), tmp_path / "b", allow_other_municipality=True)
    source = {p.atena_number: p for p in Person.objects.filter(municipality_id=CHIYODA)}
    copied = {p.atena_number: p for p in Person.objects.filter(municipality_id=SHINJUKU)}
    assert source.keys() == copied.keys()
    for atena, person in source.items():
        assert copied[atena].record == person.record
        assert (copied[atena].name_key, copied[atena].kana_key) == (person.name_key, person.kana_key)
    names = {p.family_name + p.given_name for p in copied.values()}
    assert {"山﨑朗", "佐藤𠮷子", "葛\U000e0100西一郎"} <= names  # U+FA11, U+F929, U+20BB7 and an IVS, unchanged
    assert "ﾔ" not in "".join(p.family_name_kana for p in copied.values())  # readings stored full-width

    wife = next(a for a, p in copied.items() if p.family_name == "佐藤")
    for lg_code in (CHIYODA, SHINJUKU):  # the state on past dates, and the correction chain, as before
        ctx = system(lg_code)
        before = queries.get_record_as_of(ctx, wife, __import__("datetime").date(2026, 7, 1))
        assert before is not None and before.family_name == "山﨑"
        history = queries.get_history(ctx, wife)
        assert history[-1].corrects == history[-2].change_number
        assert queries.reveal_individual_number(ctx, wife, purpose="test") == "000000000019"
    reason = Change.objects.get(municipality_id=SHINJUKU, reason__startswith="入国後").reason
    assert reason == '入国後の転入, 在留カード確認済み\n"原本"確認'
    assert ProtectionOrder.objects.filter(municipality_id=SHINJUKU, adversary_display="加害 太郎").count() == 2


def test_new_numbers_continue_after_an_import(register: str, tmp_path: Path) -> None:
    export(CHIYODA, tmp_path / "b")
    actions.import_bundle(system(SHINJUKU), tmp_path / "b", allow_other_municipality=True)
    highest = max(
        int(a) for a in Person.objects.filter(municipality_id=SHINJUKU).values_list("atena_number", flat=True)
    )
    from lgcloud.registry.actions import register_birth

    from .conftest import clerk_of, new

    household = Household.objects.filter(municipality_id=SHINJUKU).order_by("household_number").first()
    assert household is not None
    born = register_birth(
        clerk_of(SHINJUKU),
        household_number=household.household_number,
        person=new("新宿", "一", ("シンジュク", "ハジメ"), __import__("datetime").date(2026, 11, 1), "1", "child"),
        filed_on=__import__("datetime").date(2026, 11, 2),
    )
    assert int(born.atena_numbers[0]) == highest + 1
    assert born.change_number == Change.objects.filter(municipality_id=SHINJUKU).count()


def test_export_is_audited_and_needs_the_permission(register: str, tmp_path: Path) -> None:
    from django.core.exceptions import PermissionDenied

    from .conftest import clerk_of

    with pytest.raises(PermissionDenied):
        actions.export_bundle(clerk_of(CHIYODA), tmp_path / "no", municipality_name="x")
    assert not (tmp_path / "no").exists()
    export(CHIYODA, tmp_path / "b")
    audit = AuditRecord.objects.filter(municipality_id=CHIYODA, action="registry.exported").get()
    assert "individual_number" in audit.fields
    assert list(tmp_path.iterdir()) == [tmp_path / "b"]  # no partial folder left behind


def test_export_refuses_a_folder_that_has_files(register: str, tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "keep.txt").write_text("x")
    with pytest.raises(actions.ExportError, match="空ではありません"):
        export(CHIYODA, tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["keep.txt"]


def test_without_individual_numbers(register: str, tmp_path: Path) -> None:
    actions.export_bundle(system(CHIYODA), tmp_path / "b", municipality_name="x", individual_numbers=False)
    assert (tmp_path / "b" / "individual_number.csv").read_bytes() == b"001-N001,001-N002\r\n"
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["excluded"] == ["individual_number"]
    assert "000000000019" not in "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "b").iterdir())


# --- verification: every error named, nothing imported ------------------------------------------


@pytest.fixture
def bundle(register: str, tmp_path: Path) -> Path:
    export(CHIYODA, tmp_path / "b")
    return tmp_path / "b"


def assert_refused(bundle: Path, *expected: tuple[str, str, str]) -> list[str]:
    """Import into 港区 must write nothing and report each (file:line, item, reason fragment)."""
    result = actions.import_bundle(system(MINATO), bundle, allow_other_municipality=True)
    assert result.stats is None
    assert not Person.objects.filter(municipality_id=MINATO).exists()
    assert not Change.objects.filter(municipality_id=MINATO).exists()
    found = [str(f) for f in result.report.findings]
    for where, item, reason in expected:
        assert any(f.startswith(where) and item in f and reason in f for f in found), (where, item, reason, found)
    return found


def test_each_kind_of_bad_value_is_reported_with_file_line_and_item(bundle: Path) -> None:
    def spoil(rows: list[list[str]]) -> list[list[str]]:
        rows[2][3] = "99"  # 続柄 not in the code table
        rows[3][8] = "2023-02-30"  # no such day
        rows[4][4] = "山\ufffd"  # the mark of a lossy conversion
        rows[5][6] = "ﾔﾏﾀﾞ"  # half-width kana
        rows[6][4] = "長" * 101  # too long
        rows[7][1] = "0000000000"[:9]  # 9 digits
        return rows

    rewrite(bundle, "person.csv", spoil)
    assert_refused(
        bundle,
        ("person.csv:3", "001-P004", "続柄コードにないコード「99」"),
        ("person.csv:4", "001-P009", "存在しない日付"),
        ("person.csv:5", "001-P005", "U+FFFD"),
        ("person.csv:6", "001-P007", "全角カタカナ"),
        ("person.csv:7", "001-P005", "長すぎます（最大100文字、101文字）"),
        ("person.csv:8", "001-P002", "半角数字10桁"),
    )


def test_a_bad_individual_number_is_reported_without_the_number(bundle: Path) -> None:
    def spoil(rows: list[list[str]]) -> list[list[str]]:
        rows[1][1] = rows[1][1][:11] + str((int(rows[1][1][11]) + 1) % 10)
        return rows

    rewrite(bundle, "individual_number.csv", spoil)
    bad = (bundle / "individual_number.csv").read_text().splitlines()[1].split(",")[1]
    found = assert_refused(bundle, ("individual_number.csv:2", "001-N002", "検査用数字"))
    assert not any(bad in f for f in found)


def test_references_keys_and_consistency_are_checked(bundle: Path) -> None:
    rewrite(bundle, "household.csv", lambda rows: [rows[0], *rows[2:]])  # the first household disappears
    rewrite(bundle, "change.csv", lambda rows: [rows[0], rows[2], rows[1], *rows[3:]])  # out of order
    assert_refused(
        bundle,
        ("person.csv:2", "001-P002", "世帯番号が household にありません"),
        ("change.csv:3", "001-C001", "昇順に並んでいません"),
    )


def test_a_current_record_that_differs_from_its_last_history_is_refused(bundle: Path) -> None:
    def spoil(rows: list[list[str]]) -> list[list[str]]:
        rows[1][4] = rows[1][4] + "変"
        return rows

    rewrite(bundle, "person.csv", spoil)
    assert_refused(bundle, ("person.csv:2", "", "最後の異動履歴"))


def test_a_changed_file_or_a_missing_one_is_caught_by_the_manifest(bundle: Path) -> None:
    with open(bundle / "address.csv", "ab") as handle:
        handle.write(b"")
    data = (bundle / "address.csv").read_bytes().replace("千代田".encode(), "千代由".encode(), 1)
    (bundle / "address.csv").write_bytes(data)
    (bundle / "protection.csv").unlink()
    assert_refused(
        bundle,
        ("address.csv", "", "SHA-256 が manifest.json の値と一致しません"),
        ("protection.csv", "", "ファイルがありません"),
    )


def test_errors_are_capped_but_all_counted(bundle: Path) -> None:
    def spoil(rows: list[list[str]]) -> list[list[str]]:
        for row in rows[1:]:
            row[10] = "9"  # 性別
            row[11] = "9"  # 住民状態
        return rows

    rewrite(bundle, "person.csv", spoil)
    report = verify_bundle(bundle, cap=25)
    persons = len((bundle / "person.csv").read_text().splitlines()) - 1
    assert len(report.findings) == 25
    assert report.total >= 2 * persons


def test_a_failure_while_writing_leaves_nothing(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = restore._Writer.write
    written: list[str] = []

    def failing(self: restore._Writer, rows: list[tuple[object, ...]]) -> None:
        if "personversion" in self.sql:
            raise RuntimeError("disk full")
        written.append(self.sql.split()[2])
        real(self, rows)

    monkeypatch.setattr(restore._Writer, "write", failing)
    with pytest.raises(RuntimeError):
        actions.import_bundle(system(MINATO), bundle, allow_other_municipality=True)
    assert len(written) >= 3  # households, persons and changes had been written…
    for model in (Household, Person, Change, PersonVersion):
        assert not model.objects.filter(municipality_id=MINATO).exists()  # …and were rolled back


@pytest.mark.parametrize("parallel", [True, False])
def test_verification_beside_or_before_the_write_gives_the_same_outcome(bundle: Path, parallel: bool) -> None:
    # A dangling reference makes the write itself fail before the verifier finishes: the report still says why.
    rewrite(bundle, "household.csv", lambda rows: [rows[0], *rows[2:]])
    result = actions.import_bundle(system(MINATO), bundle, allow_other_municipality=True, parallel=parallel)
    assert result.stats is None
    assert any("世帯番号が household にありません" in str(f) for f in result.report.findings)
    assert not Household.objects.filter(municipality_id=MINATO).exists()


def test_import_only_into_an_empty_municipality_of_the_bundle(bundle: Path) -> None:
    refused = actions.import_bundle(system(SHINJUKU), bundle)
    assert refused.stats is None
    assert any("131016 の出力" in str(f) for f in refused.report.findings)
    build_register(SHINJUKU)
    with pytest.raises(ValidationError, match="すでにあります"):
        actions.import_bundle(system(SHINJUKU), bundle, allow_other_municipality=True)


# --- the commands -------------------------------------------------------------------------------


def test_commands_export_verify_and_import(register: str, tmp_path: Path) -> None:
    out = StringIO()
    call_command("export_standard", municipality=CHIYODA, out=str(tmp_path / "b"), no_progress=True, stdout=out)
    assert "person.csv" in out.getvalue() and "出力しました" in out.getvalue()
    out = StringIO()
    call_command("verify_standard", str(tmp_path / "b"), stdout=out)
    assert "誤りはありません" in out.getvalue()
    out = StringIO()
    call_command(
        "import_standard",
        str(tmp_path / "b"),
        municipality=SHINJUKU,
        as_other_municipality=True,
        no_progress=True,
        stdout=out,
    )
    assert "取り込みました" in out.getvalue()
    assert (
        Person.objects.filter(municipality_id=SHINJUKU).count()
        == Person.objects.filter(municipality_id=CHIYODA).count()
    )


def test_commands_report_errors_and_exit_non_zero(register: str, tmp_path: Path) -> None:
    call_command("export_standard", municipality=CHIYODA, out=str(tmp_path / "b"), no_progress=True, stdout=StringIO())
    rewrite(tmp_path / "b", "person.csv", lambda rows: [rows[0], [*rows[1][:10], "7", *rows[1][11:]], *rows[2:]])
    err = StringIO()
    with pytest.raises(CommandError, match="誤りが 1 件"):  # one bad value, not a cascade of references
        call_command("verify_standard", str(tmp_path / "b"), stderr=err)
    assert "person.csv:2 001-P011 住民状態コードにないコード「7」" in err.getvalue()
    err = StringIO()
    with pytest.raises(CommandError, match="何も取り込みませんでした"):
        call_command(
            "import_standard",
            str(tmp_path / "b"),
            municipality=SHINJUKU,
            as_other_municipality=True,
            no_progress=True,
            stdout=StringIO(),
            stderr=err,
        )
    assert not Person.objects.filter(municipality_id=SHINJUKU).exists()
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_standard", str(tmp_path), stderr=err)
    assert "manifest.json がありません" in err.getvalue()


def test_the_published_layout_is_current() -> None:
    call_command("publish_layout", check=True, stdout=StringIO())
