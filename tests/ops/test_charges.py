"""The charge formula: every municipality's charge, line by line, adding up to the platform cost.

The formula and its parameters: docs/charges.md and src/lgcloud/ops/parameters/charges.yaml.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.ops import metering
from lgcloud.ops.charges import PARAMETERS, compute_month
from lgcloud.ops.daily import close_day
from lgcloud.ops.rules.charges import apportion
from tests.conftest import CHIYODA, HACHIOJI, SHINJUKU

pytestmark = pytest.mark.django_db


@given(
    st.integers(min_value=0, max_value=10**10),
    st.dictionaries(st.text(min_size=1, max_size=4), st.integers(min_value=0, max_value=10**12), min_size=1),
)
def test_apportion_adds_up_to_the_yen_and_never_strays_a_yen_from_the_exact_share(total: int, weights) -> None:  # type: ignore[no-untyped-def]
    shares = apportion(total, weights)
    assert sum(shares.values()) == total
    whole = sum(weights.values())
    for key, yen in shares.items():
        exact = total * weights[key] / whole if whole else total / len(weights)
        assert abs(yen - exact) < 1


def test_apportion_refuses_negative_amounts() -> None:
    with pytest.raises(ValueError):
        apportion(-1, {"a": 1})
    with pytest.raises(ValueError):
        apportion(1, {"a": -1})


@pytest.fixture
def used(make_staff, login_as, tokyo: list[str]):  # type: ignore[no-untyped-def]
    """新宿区 uses the platform three times as much as 千代田区; 八王子市 is on the platform but idle."""
    from lgcloud.municipalities.actions import update_municipality

    platform = TenantContext.system(None, "test")
    for code in (CHIYODA, SHINJUKU, HACHIOJI):
        update_municipality(platform, code, on_platform=True)
    metering.TALLY.drain()
    chiyoda = login_as(make_staff(CHIYODA, "clerk", Role.REGISTRY_CLERK))
    shinjuku = login_as(make_staff(SHINJUKU, "clerk", Role.REGISTRY_CLERK))
    for _ in range(2):
        chiyoda.get("/registry/")
    for _ in range(6):
        shinjuku.get("/registry/")
    close_day(timezone.localdate(), [CHIYODA, SHINJUKU, HACHIOJI])
    return timezone.localdate().strftime("%Y-%m")


def test_charges_of_all_municipalities_add_up_to_the_platform_cost(used: str) -> None:
    month = compute_month(used)
    cost = int(PARAMETERS.value("platform_cost.monthly_yen", month.first))
    assert month.cost_yen == cost
    assert set(month.charges) == {CHIYODA, SHINJUKU, HACHIOJI}
    assert sum(c.total_yen for c in month.charges.values()) == cost
    for line_code in month.pools:
        assert (
            sum(next(li.yen for li in c.lines if li.code == line_code) for c in month.charges.values())
            == (month.pools[line_code])
        )
    chiyoda, shinjuku, hachioji = (month.charges[c] for c in (CHIYODA, SHINJUKU, HACHIOJI))
    requests = {c.lg_code: next(li for li in c.lines if li.code == "requests") for c in (chiyoda, shinjuku, hachioji)}
    assert requests[SHINJUKU].yen > requests[CHIYODA].yen > 0
    assert requests[HACHIOJI].yen == 0  # idle: pays the 均等割 and what it stores, not requests
    equal = [next(li.yen for li in c.lines if li.code == "equal") for c in (chiyoda, shinjuku, hachioji)]
    assert max(equal) - min(equal) <= 1 and sum(equal) == month.pools["equal"]
    assert all(li.yen >= 0 for c in month.charges.values() for li in c.lines)
    # Line by line: the share printed is the measured quantity over the total.
    assert requests[SHINJUKU].quantity == "6 件" and requests[SHINJUKU].total == "8 件"
    assert requests[SHINJUKU].share_percent == "75.000%"


def test_usage_report_prints_the_csv_of_one_municipality(used: str, capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("usage_report", "--municipality", SHINJUKU, "--month", used)
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].startswith("団体コード,団体名,年月,区分")
    assert lines[-1].startswith(f"{SHINJUKU},新宿区,{used},合計")
    total = int(lines[-1].rsplit(",", 1)[1])
    assert total == compute_month(used).charges[SHINJUKU].total_yen
    assert sum(int(line.rsplit(",", 1)[1]) for line in lines[1:-1]) == total


def test_usage_report_refuses_a_bad_month(used: str) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("usage_report", "--municipality", SHINJUKU, "--month", "2026-13")


def test_the_admin_sees_the_report_downloads_it_and_compares_with_fy2018(used: str, make_staff, login_as) -> None:  # type: ignore[no-untyped-def]
    admin = login_as(make_staff(SHINJUKU, "admin", Role.MUNICIPAL_ADMIN))
    page = admin.get("/usage/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "利用料の明細" in text and "平成30年度の経費が登録されていません" in text
    bad = admin.post("/usage/", {"annual_yen": "abc", "note": ""})
    assert bad.status_code == 400
    assert "金額は半角数字（円、整数）で入力してください。" in bad.content.decode()
    ok = admin.post(f"/usage/?month={used}", {"annual_yen": "120000000", "note": "平成30年度決算 情報システム費"})
    assert ok.status_code == 302
    compared = admin.get(f"/usage/?month={used}").content.decode()
    assert "国の目標（3割削減）" in compared and "120,000,000 円" in compared
    csv = admin.get(f"/usage/{used}/report.csv")
    assert csv["Content-Type"].startswith("text/csv") and "合計" in csv.content.decode("utf-8-sig")
    pdf = admin.get(f"/usage/{used}/report.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert admin.get("/usage/?month=2026-13").status_code == 400


def test_a_municipality_sees_only_its_own_report(used: str, make_staff, login_as) -> None:  # type: ignore[no-untyped-def]
    admin = login_as(make_staff(CHIYODA, "admin", Role.MUNICIPAL_ADMIN))
    assert admin.get(f"/api/v1/municipalities/{CHIYODA}/usage", {"month": used}).status_code == 200
    other = admin.get(f"/api/v1/municipalities/{SHINJUKU}/usage", {"month": used})
    missing = admin.get(f"/api/v1/municipalities/{CHIYODA}/usage", {"month": "1999-01"})
    assert other.status_code == missing.status_code == 404
    assert other.json()["code"] == missing.json()["code"]
    clerk = login_as(make_staff(CHIYODA, "clerk2", Role.REGISTRY_CLERK))
    assert clerk.get("/usage/").status_code == 403
    assert clerk.get("/operator/usage/").status_code == 403


def test_the_operator_sees_every_municipality_and_the_sum(used: str, make_staff, login_as) -> None:  # type: ignore[no-untyped-def]
    operator = login_as(make_staff(None, "operator", Role.OPERATOR))
    page = operator.get("/operator/usage/", {"month": used})
    assert page.status_code == 200
    text = page.content.decode()
    assert "（経費と一致）" in text and "新宿区" in text and "八王子市" in text
    assert operator.get(f"/operator/usage/{SHINJUKU}/", {"month": used}).status_code == 200
    csv = operator.get("/operator/usage/", {"month": used, "format": "csv"}).content.decode("utf-8-sig")
    assert csv.count(",合計,") == 3


def test_the_price_list_is_public_and_shows_the_parameters_in_force(client: Client, tokyo: list[str]) -> None:
    page = client.get("/pricing/")
    assert page.status_code == 200
    text = page.content.decode()
    today = timezone.localdate()
    assert f"{int(PARAMETERS.value('platform_cost.monthly_yen', today)):,} 円" in text
    assert "均等割" in text and "人口割" in text and "利用割" in text
    assert str(PARAMETERS.lookup("shares.usage_permille", today).reference) in text
    assert PARAMETERS.value("platform_cost.monthly_yen", today - timedelta(days=1)) is not None
