"""The service view: each municipality's and 業務's indicators against the SLOs (docs/service.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.actions import update_municipality
from lgcloud.ops import actions, metering, service
from tests.conftest import CHIYODA, SHINJUKU

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_platform(tokyo: list[str]) -> None:
    platform = TenantContext.system(None, "test")
    for code in (CHIYODA, SHINJUKU):
        update_municipality(platform, code, on_platform=True)
    metering.TALLY.drain()
    service._gauges_at = 0.0


def book(lg_code: str, gyomu: str, *, requests: int, slow: int = 0, errors: int = 0, refused: int = 0) -> None:
    """A day of traffic as the workers' flush books it (the action the flush calls)."""
    today = timezone.localdate()
    fast = requests - slow
    meters = {
        "requests.page_read": requests,
        "latency.le_100": fast,
        "latency.le_3000": slow,
        "status.5xx": errors,
        "status.429": refused,
    }
    actions.add_usage(
        TenantContext.system(None, "test"), {(lg_code, today, gyomu, m): q for m, q in meters.items() if q}
    )


def test_percentiles_come_from_the_buckets() -> None:
    buckets = {"latency.le_100": 90, "latency.le_1000": 9, "latency.le_inf": 1}
    assert service.percentile_ms(buckets, 0.5) == 100
    assert service.percentile_ms(buckets, 0.95) == 1000
    assert service.percentile_ms(buckets, 0.999) == -1
    assert service.percentile_ms({}, 0.5) is None


def test_the_operator_sees_each_municipality_against_its_slos_and_the_alerts(on_platform, make_staff, login_as) -> None:  # type: ignore[no-untyped-def]
    book(CHIYODA, "001", requests=100, slow=10, errors=2)  # p95 in the 3000 ms bucket, 20‰ errors
    book(SHINJUKU, "001", requests=100)
    book(SHINJUKU, "004", requests=5, errors=5)  # too few requests to judge
    operator = login_as(make_staff(None, "operator", Role.OPERATOR))
    page = operator.get("/operator/service/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "千代田区" in text and "新宿区" in text
    assert "応答時間 p95" in text and "エラー率" in text
    views = {v.lg_code: v for v in service.all_services("test")}
    chiyoda = next(g for g in views[CHIYODA].gyomu if g.gyomu == "001")
    assert chiyoda.p95_ms == 3000 and chiyoda.error_rate_permille == 20.0
    assert {a.indicator for a in views[CHIYODA].alerts} == {"応答時間 p95", "エラー率"}
    assert views[SHINJUKU].alerts == []  # its 業務 004 has 5 errors in 5 requests: under the minimum
    # Older traffic leaves the window.
    assert service.WINDOW_DAYS == 7
    old = timezone.localdate() - timedelta(days=8)
    actions.add_usage(
        TenantContext.system(None, "test"),
        {(SHINJUKU, old, "001", "status.5xx"): 1000, (SHINJUKU, old, "001", "requests.page_read"): 1000},
    )
    assert {v.lg_code: v for v in service.all_services("test")}[SHINJUKU].alerts == []


def test_a_municipal_admin_sees_only_its_own_municipality(on_platform, make_staff, login_as) -> None:  # type: ignore[no-untyped-def]
    book(CHIYODA, "001", requests=50, errors=50)
    book(SHINJUKU, "001", requests=50)
    admin = login_as(make_staff(SHINJUKU, "admin", Role.MUNICIPAL_ADMIN))
    text = admin.get("/service/").content.decode()
    assert "新宿区" in text and "千代田区" not in text
    assert "目標値を外れている指標はありません。" in text
    assert "監査ログの封印の遅れ" in text and "未計測" in text  # the sealer's hook is not installed yet
    assert admin.get("/operator/service/").status_code == 403


def test_the_audit_sealer_lag_is_judged_once_its_hook_is_there(on_platform, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(service, "_sealer_lag", lambda: lambda ctx: 900.0)
    view = service.service(TenantContext.system(CHIYODA, "test"), "千代田区")
    assert view.sealer_lag_seconds == 900.0
    assert [a.indicator for a in view.alerts] == ["封印の遅れ"]


def test_metrics_carry_municipality_and_gyomu_labels(on_platform, make_staff, login_as) -> None:  # type: ignore[no-untyped-def]
    clerk = login_as(make_staff(CHIYODA, "clerk", Role.REGISTRY_CLERK))
    clerk.get("/registry/")
    metering.flush()
    text = Client().get("/metrics").content.decode()
    assert f'lgcloud_tenant_requests_total{{gyomu="001",lg_code="{CHIYODA}",status_class="2xx"}}' in text
    assert f'lgcloud_tenant_cpu_seconds_total{{gyomu="001",lg_code="{CHIYODA}"}}' in text
    assert 'lgcloud_gyomu_request_duration_seconds_bucket{gyomu="001",le="0.1"}' in text
    assert f'lgcloud_slo_value{{gyomu="001",indicator="requests",lg_code="{CHIYODA}"}}' in text


def test_the_municipality_label_is_capped(settings) -> None:  # type: ignore[no-untyped-def]
    from lgcloud.ops import metrics

    settings.METRICS_MAX_MUNICIPALITIES = len(metrics._labelled)
    assert metrics.municipality_label("999999") == "other"
    assert metrics.municipality_label(None) == "platform"


def test_the_grafana_dashboard_queries_only_series_lgcloud_exports() -> None:
    import json
    import re
    from pathlib import Path

    from lgcloud.ops.metrics import REGISTRY

    dashboard = json.loads(
        (Path(__file__).resolve().parents[2] / "deploy" / "grafana-lgcloud-service.json").read_text()
    )
    names = {m.name for m in REGISTRY.collect()}
    exported = names | {f"{n}_total" for n in names} | {f"{n}_bucket" for n in names}
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(lgcloud_[a-z_]+)\b", target["expr"])
    }
    queried |= {
        name
        for v in dashboard["templating"]["list"]
        for name in re.findall(r"\b(lgcloud_[a-z_]+)\b", v.get("query", ""))
    }
    assert queried and queried <= exported, queried - exported
    assert {v["name"] for v in dashboard["templating"]["list"]} >= {"lg_code", "gyomu"}
