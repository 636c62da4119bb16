"""The procedures engine names no app: approval effects, prefill items and choices come from the apps
the municipality uses (their manifests), and a procedure whose app it does not use is not offered."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.utils import timezone

from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.models import AppChoice
from lgcloud.procedures import actions, hooks, queries
from tests.conftest import CHIYODA

from .conftest import Resident
from .test_core_actions import ACCOUNT, WELFARE, approve, file

pytestmark = pytest.mark.django_db
ENGINE = Path(__file__).resolve().parents[2] / "src" / "lgcloud" / "procedures"


def test_the_engine_imports_no_app() -> None:
    for path in ENGINE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            node.module or ""
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lgcloud.")
        }
        apps = {m for m in imported if m.split(".")[1] in {"registry", "tax", "benefits"}}
        assert not apps, f"{path.name} imports {sorted(apps)}"


def test_effects_and_items_are_the_apps_own() -> None:
    assert {"registry.address_change", "registry.certificate_by_post", "benefits.flat_benefit"} <= set(hooks.effects())
    assert hooks.effects()["benefits.child_allowance"][0].app.id == "lgcloud-benefits"
    assert hooks.prefill_items()["public_funds_account"][0].app.id == "lgcloud-benefits"
    assert hooks.prefill_items()["address"][0].spec.compare


def _stop_using(gyomu: str) -> None:
    AppChoice.objects.filter(municipality_id=CHIYODA, gyomu=gyomu).delete()


def test_a_procedure_whose_app_the_municipality_does_not_use_is_not_offered(resident: Resident) -> None:
    offered = {p.code for p in queries.published_procedures(resident.ctx, open_only=True)}
    assert {"address_change", "child_allowance"} <= offered
    _stop_using("012")
    offered = {p.code for p in queries.published_procedures(resident.ctx, open_only=True)}
    assert "child_allowance" not in offered and "emergency_benefit" not in offered
    assert "address_change" in offered


def test_approval_needs_the_app_the_effect_belongs_to(resident: Resident) -> None:
    child_born = (timezone.localdate()).isoformat()
    number = file(resident, "child_allowance", {"children": "山田 花子", "event_on": child_born} | ACCOUNT)
    _stop_using("012")
    actions.claim(WELFARE, number)
    with pytest.raises(actions.SubmissionInvalid, match="児童手当の業務アプリを利用していない"):
        actions.approve(WELFARE, number, today=timezone.localdate())


def test_the_resident_reads_the_apps_message_when_approved(resident: Resident, clerk_ctx: TenantContext) -> None:
    number = file(resident, "certificate_by_post", {"kind": "individual", "copies": "1", "purpose": "就職"})
    result = approve(clerk_ctx, number)
    assert str(result["message"]).startswith("住民票の写しを交付しました（交付番号")
