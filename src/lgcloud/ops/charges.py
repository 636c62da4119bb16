"""The monthly charge of each municipality: the platform's cost split by the published formula.

For a month, the platform cost (``platform_cost.monthly_yen`` in force on the month's first
day) is cut into three pools (均等割, 人口割, 利用割) and the 利用割 into one pool per metered
item (``usage_weights``); each pool is apportioned among the municipalities on the platform
in proportion to their share (equal, residents at month end, or measured use), to the yen
by largest remainders (ops.rules.charges). So the charges of all municipalities add up to the
platform cost exactly, and every yen of a municipality's charge is on a line that says what
was measured, against what total, at which share. docs/charges.md states the formula.
"""

from __future__ import annotations

import calendar
import csv
import io
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path

from django.utils import timezone

from lgcloud.contract import GYOMU, ParameterError, ParameterSet, TenantContext
from lgcloud.municipalities.queries import get_municipality, list_lg_codes

from . import queries
from .models import PLATFORM
from .rules.charges import apportion

PARAMETERS = ParameterSet(Path(__file__).resolve().parent / "parameters")


@dataclass(frozen=True)
class Component:
    code: str
    label: str
    unit: str
    basis: str  # how the quantity is measured, in Japanese


USAGE_COMPONENTS: dict[str, Component] = {
    c.code: c
    for c in (
        Component("cpu_seconds", "利用割（サーバ CPU 時間）", "秒", "各リクエストのサーバ CPU 時間の月合計"),
        Component("db_bytes", "利用割（データベース容量）", "バイト", "自団体の行のバイト数の日次計測の月平均"),
        Component(
            "storage_bytes",
            "利用割（ファイル保管容量）",
            "バイト",
            "全件出力・添付・交付証明書のファイル容量の日次計測の月平均",
        ),
        Component("requests", "利用割（リクエスト数）", "件", "画面・API のリクエスト数の月合計"),
        Component("job_minutes", "利用割（バッチ処理時間）", "分", "バッチ処理の実行時間の月合計"),
        Component("events_delivered", "利用割（連携イベント配信）", "件", "Webhook で配信したイベント数の月合計"),
    )
}


def month_range(month: str) -> tuple[date, date]:
    """(first, last day) of ``YYYY-MM``; ValueError in Japanese for anything else."""
    try:
        year, mon = (int(p) for p in month.split("-"))
        first = date(year, mon, 1)
    except (ValueError, TypeError):
        raise ValueError(f"月は YYYY-MM の形で指定してください（指定値: {month!r}）。") from None
    if len(month) != 7:
        raise ValueError(f"月は YYYY-MM の形で指定してください（指定値: {month!r}）。")
    return first, date(year, mon, calendar.monthrange(year, mon)[1])


def formula_exists(month: str) -> None:
    """ValueError (in Japanese) unless ``month`` is a month the published formula covers."""
    first, _last = month_range(month)
    try:
        PARAMETERS.lookup("platform_cost.monthly_yen", first)
    except ParameterError:
        since = PARAMETERS.national["platform_cost.monthly_yen"].values[0].since
        raise ValueError(f"{month} の料金表はありません（料金は {since:%Y-%m} から）。") from None


@dataclass
class Measured:
    """One municipality's measured use in a month (integers in the finest unit)."""

    lg_code: str
    residents: int = 0
    usage: dict[str, int] = field(default_factory=dict)  # component code → quantity (cpu: µs, job: ms)
    by_gyomu: dict[str, dict[str, int]] = field(default_factory=dict)  # 業務 → meter → quantity
    info: dict[str, int] = field(default_factory=dict)  # certificates issued, procedures filed …


def measure(lg_code: str, first: date, last: date) -> Measured:
    ctx = TenantContext.system(lg_code, purpose="ops.charges", actor_name="charges")
    totals = queries.usage_totals(ctx, first, last)
    m = Measured(lg_code)
    by_meter: dict[str, int] = {}
    for (gyomu, meter), q in totals.items():
        by_meter[meter] = by_meter.get(meter, 0) + q
        m.by_gyomu.setdefault(gyomu, {})[meter] = q
    days_db = queries.days_with(ctx, first, last, "db_bytes") or 1
    days_files = queries.days_with(ctx, first, last, "storage.exports") or 1
    storage = sum(by_meter.get(f"storage.{k}", 0) for k in ("exports", "attachments", "certificates"))
    m.usage = {
        "cpu_seconds": by_meter.get("cpu_us", 0),
        "db_bytes": by_meter.get("db_bytes", 0) // days_db,
        "storage_bytes": storage // days_files,
        "requests": sum(q for k, q in by_meter.items() if k.startswith("requests.")),
        "job_minutes": by_meter.get("job_ms", 0),
        "events_delivered": by_meter.get("events_delivered", 0),
    }
    m.residents = queries.last_reading(ctx, last, "residents")
    m.info = {
        "certificates_issued": by_meter.get("certificates_issued", 0),
        "procedures_filed_online": by_meter.get("procedures_filed.online", 0),
        "procedures_filed_counter": by_meter.get("procedures_filed.counter", 0),
        "status_5xx": by_meter.get("status.5xx", 0),
    }
    return m


@dataclass(frozen=True)
class ChargeLine:
    code: str
    label: str
    basis: str
    quantity: str  # this municipality's measured quantity, formatted
    total: str  # all municipalities' total, formatted
    share: Fraction  # of the pool
    pool_yen: int
    yen: int

    @property
    def share_percent(self) -> str:
        return f"{float(self.share) * 100:.3f}%"


@dataclass(frozen=True)
class GyomuUse:
    gyomu: str
    name: str
    requests: int
    cpu_seconds: float
    db_bytes: int
    job_minutes: float


@dataclass(frozen=True)
class Charge:
    lg_code: str
    name: str
    month: str
    provisional: bool  # the month is not over yet
    lines: list[ChargeLine]
    total_yen: int
    gyomu: list[GyomuUse]
    info: dict[str, int]
    residents: int


@dataclass(frozen=True)
class MonthCharges:
    month: str
    first: date
    last: date
    cost_yen: int
    cost_reference: str
    pools: dict[str, int]
    charges: dict[str, Charge]
    provisional: bool

    @property
    def total_yen(self) -> int:
        return sum(c.total_yen for c in self.charges.values())


def _fmt(component: str, quantity: int) -> str:
    if component == "cpu_seconds":
        return f"{quantity / 1_000_000:,.1f} 秒"
    if component == "job_minutes":
        return f"{quantity / 60_000:,.2f} 分"
    if component in ("db_bytes", "storage_bytes"):
        return f"{quantity / 1_000_000:,.2f} MB"
    return f"{quantity:,} 件"


def gyomu_name(code: str) -> str:
    return "基盤（共通）" if code == PLATFORM else f"{GYOMU[code].name}（{code}）" if code in GYOMU else code


def compute_month(month: str, *, lg_codes: list[str] | None = None) -> MonthCharges:
    """Every participating municipality's charge for ``month`` (participants: on the platform)."""
    first, last = month_range(month)
    participants = lg_codes if lg_codes is not None else list_lg_codes(on_platform_only=True)
    formula_exists(month)
    cost = PARAMETERS.lookup("platform_cost.monthly_yen", first)
    cost_yen = int(cost.value)
    shares = {
        "equal": int(PARAMETERS.value("shares.equal_permille", first)),
        "population": int(PARAMETERS.value("shares.population_permille", first)),
        "usage": int(PARAMETERS.value("shares.usage_permille", first)),
    }
    weights: dict[str, int] = {k: int(v) for k, v in PARAMETERS.value("usage_weights", first).items()}
    if sum(shares.values()) != 1000 or sum(weights.values()) != 1000 or set(weights) != set(USAGE_COMPONENTS):
        raise ValueError("料金の按分割合の合計が 1000‰ になっていません（ops/parameters/charges.yaml）。")
    top = apportion(cost_yen, shares)
    usage_pools = apportion(top["usage"], weights)
    pools = {"equal": top["equal"], "population": top["population"], **usage_pools}
    measured = {code: measure(code, first, last) for code in participants}
    allocations = {
        "equal": apportion(pools["equal"], dict.fromkeys(participants, 1)),
        "population": apportion(pools["population"], {c: m.residents for c, m in measured.items()}),
    }
    totals: dict[str, int] = {"equal": len(participants), "population": sum(m.residents for m in measured.values())}
    for component in USAGE_COMPONENTS:
        use = {c: m.usage[component] for c, m in measured.items()}
        allocations[component] = apportion(pools[component], use)
        totals[component] = sum(use.values())
    provisional = last >= timezone.localdate()
    charges: dict[str, Charge] = {}
    for code, m in measured.items():
        lines = [
            ChargeLine(
                "equal",
                "均等割",
                "利用中の団体で等分",
                "1 団体",
                f"{totals['equal']:,} 団体",
                Fraction(1, max(totals["equal"], 1)),
                pools["equal"],
                allocations["equal"][code],
            ),
            ChargeLine(
                "population",
                "人口割",
                "月末の住民数の比",
                f"{m.residents:,} 人",
                f"{totals['population']:,} 人",
                Fraction(m.residents, totals["population"]) if totals["population"] else Fraction(1, len(measured)),
                pools["population"],
                allocations["population"][code],
            ),
        ]
        for component, spec in USAGE_COMPONENTS.items():
            mine, whole = m.usage[component], totals[component]
            lines.append(
                ChargeLine(
                    component,
                    spec.label,
                    spec.basis,
                    _fmt(component, mine),
                    _fmt(component, whole),
                    Fraction(mine, whole) if whole else Fraction(1, len(measured)),
                    pools[component],
                    allocations[component][code],
                )
            )
        municipality = get_municipality(code)
        gyomu = [
            GyomuUse(
                g,
                gyomu_name(g),
                sum(q for k, q in meters.items() if k.startswith("requests.")),
                meters.get("cpu_us", 0) / 1_000_000,
                meters.get("db_bytes", 0),
                meters.get("job_ms", 0) / 60_000,
            )
            for g, meters in sorted(m.by_gyomu.items())
        ]
        charges[code] = Charge(
            code,
            municipality.name if municipality is not None else code,
            month,
            provisional,
            lines,
            sum(line.yen for line in lines),
            gyomu,
            m.info,
            m.residents,
        )
    return MonthCharges(month, first, last, cost_yen, cost.reference, pools, charges, provisional)


@dataclass(frozen=True)
class Comparison:
    baseline_yen: int  # FY2018, per year
    annualised_yen: int  # this month's charge × 12
    ratio: Fraction
    target: Fraction  # 1 − the reduction target
    met: bool


def compare(charge: Charge, baseline_yen: int | None, on: date) -> Comparison | None:
    if not baseline_yen:
        return None
    annual = charge.total_yen * 12
    target = 1 - Fraction(int(PARAMETERS.value("reduction_target_permille", on)), 1000)
    ratio = Fraction(annual, baseline_yen)
    return Comparison(baseline_yen, annual, ratio, target, ratio <= target)


def charge_csv(charge: Charge, month: MonthCharges) -> str:
    """The charge report as CSV (UTF-8): one row per line, then the total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "団体コード",
            "団体名",
            "年月",
            "区分",
            "算定方法",
            "自団体の数量",
            "全団体の合計",
            "按分率",
            "按分対象額（円）",
            "金額（円）",
        ]
    )
    for line in charge.lines:
        writer.writerow(
            [
                charge.lg_code,
                charge.name,
                charge.month,
                line.label,
                line.basis,
                line.quantity,
                line.total,
                line.share_percent,
                line.pool_yen,
                line.yen,
            ]
        )
    writer.writerow(
        [charge.lg_code, charge.name, charge.month, "合計", "", "", "", "", month.cost_yen, charge.total_yen]
    )
    return out.getvalue()
