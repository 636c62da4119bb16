import csv
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from lgcloud.core.checkdigits import validate_lg_code
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.actions import create_municipality, load_municipalities, shipped_rows
from lgcloud.municipalities.models import Municipality

pytestmark = pytest.mark.django_db


def test_shipped_list_is_every_municipality_of_japan() -> None:
    rows = shipped_rows()
    assert len(rows) == 1741
    kinds = Counter(r["kind"] for r in rows)
    assert kinds == {"city": 792, "special_ward": 23, "town": 743, "village": 183}
    for row in rows:
        validate_lg_code(row["lg_code"])
    assert len({r["lg_code"] for r in rows}) == 1741


def test_tokyo_has_its_62_municipalities_with_kyuchi() -> None:
    tokyo = [r for r in shipped_rows() if r["prefecture_code"] == "13"]
    assert len(tokyo) == 62
    assert Counter(r["kind"] for r in tokyo) == {"special_ward": 23, "city": 26, "town": 5, "village": 8}
    assert all(r["kyuchi"] for r in tokyo)
    by_code = {r["lg_code"]: r for r in tokyo}
    assert by_code["131016"]["name"] == "千代田区"
    assert by_code["131041"]["name"] == "新宿区"
    assert by_code["132012"]["name"] == "八王子市"
    assert by_code["132012"]["name_kana"] == "ハチオウジシ"


def test_load_municipalities_command_is_idempotent() -> None:
    out = StringIO()
    call_command("load_municipalities", stdout=out)
    assert "1741 団体（新規 1741、更新 0）" in out.getvalue()
    out = StringIO()
    call_command("load_municipalities", stdout=out)
    assert "新規 0、更新 0" in out.getvalue()
    assert Municipality.objects.count() == 1741
    chiyoda = Municipality.objects.get(lg_code="131016")
    assert (chiyoda.name, chiyoda.kind, chiyoda.prefecture) == ("千代田区", "special_ward", "東京都")


def test_a_reload_keeps_on_platform(tokyo: list[str]) -> None:
    Municipality.objects.filter(lg_code="131016").update(on_platform=True)
    call_command("load_municipalities", "--prefecture", "13", stdout=StringIO())
    assert Municipality.objects.get(lg_code="131016").on_platform


def _write(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "list.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_file_with_a_bad_check_digit_loads_nothing(tmp_path: Path) -> None:
    rows = [dict(r) for r in shipped_rows()[:3]]
    rows[2]["lg_code"] = rows[2]["lg_code"][:5] + str((int(rows[2]["lg_code"][5]) + 1) % 10)
    with pytest.raises(CommandError) as exc:
        call_command("load_municipalities", "--file", str(_write(tmp_path, rows)), stdout=StringIO())
    assert "4行目" in str(exc.value)
    assert "検査数字" in str(exc.value)
    assert Municipality.objects.count() == 0


def test_dry_run_writes_nothing() -> None:
    out = StringIO()
    call_command("load_municipalities", "--dry-run", stdout=out)
    assert "検証OK: 1741" in out.getvalue()
    assert Municipality.objects.count() == 0


def test_create_refuses_an_invalid_code_with_a_clear_message() -> None:
    ctx = TenantContext.system(None, purpose="test")
    with pytest.raises(ValidationError) as exc:
        create_municipality(
            ctx,
            lg_code="131017",
            name="千代田区",
            name_kana="チヨダク",
            prefecture_code="13",
            prefecture="東京都",
            kind="special_ward",
        )
    assert "団体コード 131017 の検査数字（6桁目）が正しくありません。正しくは 131016 です。" in exc.value.messages
    assert not Municipality.objects.exists()


def test_create_refuses_a_duplicate(tokyo: list[str]) -> None:
    ctx = TenantContext.system(None, purpose="test")
    with pytest.raises(ValidationError, match="既に登録されています"):
        create_municipality(
            ctx,
            lg_code="131016",
            name="千代田区",
            name_kana="チヨダク",
            prefecture_code="13",
            prefecture="東京都",
            kind="special_ward",
        )


def test_only_the_operator_may_write(tokyo: list[str]) -> None:
    from django.core.exceptions import PermissionDenied

    from lgcloud.core.permissions import Role

    clerk = TenantContext(
        lg_code="131016", actor_id=1, actor_name="x", roles=frozenset({Role.MUNICIPAL_ADMIN}), purpose="test"
    )
    with pytest.raises(PermissionDenied):
        load_municipalities(clerk, shipped_rows()[:1])
