"""The app directory: each municipality's choice of implementation per 業務, and requests routed by it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from lgcloud.accounts.actions import create_api_token
from lgcloud.audit.models import AuditRecord
from lgcloud.contract.discovery import installed
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities import actions, queries
from lgcloud.municipalities.models import AppChoice
from tests.conftest import CHIYODA, SHINJUKU, StaffFactory, signed_in

pytestmark = pytest.mark.django_db

NEWCOMER = "131032"  # 港区: in the list, no app chosen in these tests
SYSTEM = TenantContext.system(None, purpose="test")


@pytest.fixture
def newcomer(tokyo: list[str]) -> str:
    AppChoice.objects.filter(municipality_id=NEWCOMER).delete()
    return NEWCOMER


def test_the_bundled_apps_are_found_through_entry_points() -> None:
    apps = installed()
    assert {"lgcloud-registry", "lgcloud-tax", "lgcloud-benefits"} <= set(apps)
    assert apps["lgcloud-registry"].gyomu == "001"
    assert apps["lgcloud-tax"].gyomu == "004"
    assert actions.default_apps()["001"] == "lgcloud-registry"


def test_a_municipality_that_joined_uses_the_default_implementations(tokyo: list[str]) -> None:
    assert queries.active_apps(CHIYODA) == actions.default_apps()
    assert queries.is_enabled(CHIYODA, "lgcloud-registry")


def test_without_a_choice_the_pages_say_the_gyomu_is_not_used(make_staff: StaffFactory, newcomer: str) -> None:
    clerk = signed_in(Client(), make_staff(newcomer, "juki", Role.REGISTRY_CLERK))
    page = clerk.get("/registry/")
    assert page.status_code == 404
    text = page.content.decode()
    assert "住民基本台帳は利用していません" in text
    assert "lgcloud 住民記録" in text  # the implementations it could choose
    # A municipality that uses the 業務 gets an ordinary 404 for a page that does not exist.
    chiyoda = signed_in(Client(), make_staff(CHIYODA, "juki2", Role.REGISTRY_CLERK))
    assert chiyoda.get("/registry/").status_code == 200
    missing = chiyoda.get("/registry/no-such-page/")
    assert missing.status_code == 404 and "利用していません" not in missing.content.decode()


def test_anonymous_visitors_of_a_gyomu_page_are_sent_to_sign_in(tokyo: list[str]) -> None:
    response = Client().get("/registry/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def _bearer(make_staff: StaffFactory, lg_code: str, username: str) -> dict[str, str]:
    staff = make_staff(lg_code, username, Role.REGISTRY_CLERK)
    token = create_api_token(TenantContext.system(lg_code, purpose="test"), staff.pk, name="t").raw
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_the_api_answers_gyomu_not_enabled_only_to_the_municipalitys_own_staff(
    make_staff: StaffFactory, newcomer: str
) -> None:
    own = _bearer(make_staff, newcomer, "own")
    url = f"/api/v1/municipalities/{newcomer}/persons?name=山田"
    response = Client().get(url, **own)
    body = response.json()
    assert (response.status_code, body["code"]) == (404, "gyomu_not_enabled")
    assert response["Content-Type"] == "application/problem+json"
    assert "住民基本台帳" in body["detail"]
    # Anyone else cannot tell it from a municipality that does not exist.
    other = _bearer(make_staff, SHINJUKU, "other")
    for path in (url, "/api/v1/municipalities/999999/persons?name=山田"):
        answer = Client().get(path, **other)
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert Client().get(url).status_code == 401
    # A path that belongs to no 業務 is not found, for the municipality's own staff too.
    nowhere = Client().get(f"/api/v1/municipalities/{newcomer}/no-such-thing", **own)
    assert (nowhere.status_code, nowhere.json()["code"]) == (404, "not_found")


def test_each_implementation_publishes_its_own_openapi_document(client: Client) -> None:
    doc = client.get("/api/v1/apps/lgcloud-registry/openapi.json").json()
    assert doc["info"]["title"] == "lgcloud 住民記録 API"
    assert "/api/v1/municipalities/{lg_code}/persons" in doc["paths"]
    platform = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/municipalities/{lg_code}/persons" not in platform["paths"]


def _admin(lg_code: str) -> TenantContext:
    return TenantContext(lg_code, 1, "管理 五郎", frozenset({Role.MUNICIPAL_ADMIN}), "test")


OPERATOR = TenantContext(None, 2, "運用 六子", frozenset({Role.OPERATOR}), "test")


def test_the_admin_requests_and_the_operator_approves_both_audited(newcomer: str) -> None:
    today = timezone.localdate()
    before = AuditRecord.objects.count()
    choice = actions.request_app(
        _admin(newcomer), gyomu="001", app_id="lgcloud-registry", effective_from=today, note="移行のため"
    )
    assert choice.state == AppChoice.State.REQUESTED
    assert not queries.is_enabled(newcomer, "lgcloud-registry")
    assert [c.pk for c in queries.pending_app_requests(OPERATOR)] == [choice.pk]
    decided = actions.decide_app_request(OPERATOR, choice.pk, approve=True)
    assert decided.state == AppChoice.State.APPROVED and decided.decided_by_name == "運用 六子"
    assert queries.is_enabled(newcomer, "lgcloud-registry")
    actions_logged = list(AuditRecord.objects.order_by("id").values_list("chain", "action")[before:])
    assert (newcomer, "municipalities.app_choice.requested") in actions_logged
    assert ("platform", "municipalities.app_choice.approved") in actions_logged
    assert (newcomer, "municipalities.app_choice.approved") in actions_logged  # its auditors see it too
    assert queries.app_users(OPERATOR)["lgcloud-registry"].count(newcomer) == 1


def test_a_choice_takes_effect_on_its_date_never_before_and_never_retroactively(newcomer: str) -> None:
    today = timezone.localdate()
    later = today + timedelta(days=10)
    choice = actions.request_app(_admin(newcomer), gyomu="004", app_id="lgcloud-tax", effective_from=later)
    actions.decide_app_request(OPERATOR, choice.pk, approve=True)
    assert "004" not in queries.active_apps(newcomer, today)
    assert queries.active_apps(newcomer, later)["004"] == "lgcloud-tax"
    # Approved after its date has passed: from the day of approval.
    late = actions.request_app(_admin(newcomer), gyomu="012", app_id="lgcloud-benefits", effective_from=today)
    AppChoice.objects.filter(pk=late.pk).update(effective_from=today - timedelta(days=30))
    assert actions.decide_app_request(OPERATOR, late.pk, approve=True).effective_from == today


def test_refusals_are_clear_and_write_nothing(newcomer: str) -> None:
    today = timezone.localdate()
    admin = _admin(newcomer)
    with pytest.raises(actions.AppChoiceRefused, match="インストールされていません"):
        actions.request_app(admin, gyomu="001", app_id="acme-registry", effective_from=today)
    with pytest.raises(actions.AppChoiceRefused, match="個人住民税 の実装ではありません"):
        actions.request_app(admin, gyomu="004", app_id="lgcloud-registry", effective_from=today)
    with pytest.raises(actions.AppChoiceRefused, match="今日以降"):
        actions.request_app(admin, gyomu="001", app_id="lgcloud-registry", effective_from=today - timedelta(days=1))
    clerk = TenantContext(newcomer, 3, "住記 太郎", frozenset({Role.REGISTRY_CLERK}), "test")
    with pytest.raises(PermissionDenied):
        actions.request_app(clerk, gyomu="001", app_id="lgcloud-registry", effective_from=today)
    assert not AppChoice.objects.filter(municipality_id=newcomer).exists()
    first = actions.request_app(admin, gyomu="001", app_id="lgcloud-registry", effective_from=today)
    with pytest.raises(actions.AppChoiceRefused, match="承認待ちの申請"):
        actions.request_app(admin, gyomu="001", app_id="lgcloud-registry", effective_from=today)
    with pytest.raises(actions.AppChoiceRefused, match="却下の理由"):
        actions.decide_app_request(OPERATOR, first.pk, approve=False)
    with pytest.raises(PermissionDenied):
        actions.decide_app_request(admin, first.pk, approve=True)
    rejected = actions.decide_app_request(OPERATOR, first.pk, approve=False, reason="移行計画の確認が必要です")
    assert rejected.state == AppChoice.State.REJECTED and rejected.decision_reason == "移行計画の確認が必要です"
    assert not queries.is_enabled(newcomer, "lgcloud-registry")


def test_changing_the_implementation_in_use_is_a_data_migration_not_an_approval(
    newcomer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = replace(installed()["lgcloud-registry"], id="acme-registry", name="ACME 住民記録", vendor="ACME")
    monkeypatch.setattr(actions, "installed", lambda: {**installed(), other.id: other})
    actions.record_app_choice(
        SYSTEM, newcomer, gyomu="001", app_id="lgcloud-registry", effective_from=date(2020, 4, 1), reason="移行"
    )
    change = actions.request_app(
        _admin(newcomer), gyomu="001", app_id="acme-registry", effective_from=timezone.localdate()
    )
    with pytest.raises(actions.AppChoiceRefused, match="データ移行"):
        actions.decide_app_request(OPERATOR, change.pk, approve=True)
    assert AppChoice.objects.get(pk=change.pk).state == AppChoice.State.REQUESTED
