"""全件出力の承認: a full export from the pages or the API needs a second member of staff, is audited
at every step, and is written only under settings.EXPORT_DIR.

Staff and residents are made through the real actions; the export is the real one
(files on disk under a temporary EXPORT_DIR), checked against its own manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from lgcloud.accounts.actions import set_staff_active
from lgcloud.accounts.context import context_for
from lgcloud.accounts.models import Staff
from lgcloud.audit.models import AuditRecord
from lgcloud.core.models import Job
from lgcloud.core.permissions import Role
from lgcloud.core.problems import Problem
from lgcloud.core.tenancy import TenantContext
from lgcloud.portability.approvals import actions
from lgcloud.portability.models import ExportRequest
from lgcloud.registry.actions import NewPerson, register_move_in

CHIYODA = "131016"
SHINJUKU = "131041"
NUMBER = "621498320257"
State = ExportRequest.State
API = "/api/v1/municipalities/{}/exports"


@dataclass(frozen=True)
class Office:
    clerk: Staff  # 住民記録担当: may request
    admin: Staff  # 団体管理者: may request and approve
    admin2: Staff  # a second 団体管理者
    counter: Staff  # 窓口: may do neither
    other_admin: Staff  # 新宿区's 団体管理者
    export_dir: Path


def ctx_of(staff: Staff) -> TenantContext:
    return context_for(staff, purpose="test", request_id="t")


@pytest.fixture
def office(make_staff: Callable[..., Staff], settings: Any, tmp_path: Path) -> Office:
    settings.EXPORT_DIR = tmp_path / "exports"
    settings.EXPORT_SYNC_MAX_PERSONS = 1000
    clerk = make_staff(CHIYODA, "juki", Role.REGISTRY_CLERK)
    register_move_in(
        ctx_of(clerk),
        persons=[
            NewPerson("髙橋", "太郎", "タカハシ", "タロウ", date(1980, 4, 1), "1", "head", individual_number=NUMBER),
            NewPerson("髙橋", "花子", "タカハシ", "ハナコ", date(1982, 5, 5), "2", "wife"),
        ],
        address="東京都千代田区霞が関一丁目1番1号",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 2),
        previous_address="大阪府大阪市北区梅田一丁目1番1号",
    )
    return Office(
        clerk=clerk,
        admin=make_staff(CHIYODA, "kanri", Role.MUNICIPAL_ADMIN),
        admin2=make_staff(CHIYODA, "kanri2", Role.MUNICIPAL_ADMIN),
        counter=make_staff(CHIYODA, "madoguchi", Role.COUNTER),
        other_admin=make_staff(SHINJUKU, "kanri", Role.MUNICIPAL_ADMIN),
        export_dir=tmp_path / "exports",
    )


def audit_actions(subject: int) -> list[tuple[str, str]]:
    rows = AuditRecord.objects.filter(subject_type="export_request", subject_id=str(subject)).order_by("id")
    return [(r.action, r.actor_name) for r in rows]


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def request(staff: Staff, purpose: str = "標準準拠システムへの移行（テスト）", numbers: bool = False) -> ExportRequest:
    return actions.request_export(ctx_of(staff), purpose=purpose, include_individual_numbers=numbers)


# --- the whole way through the API ---------------------------------------------------------


def test_request_then_approval_by_another_writes_the_bundle_under_the_export_dir(
    office: Office, login_as: Callable[[Staff], Client]
) -> None:
    clerk, admin = login_as(office.clerk), login_as(office.admin)
    stick = office.export_dir.parent / "usb-stick"
    # A path in the body is not a parameter: nobody chooses where the export goes.
    created = clerk.post(
        API.format(CHIYODA),
        {"purpose": "移行のため", "include_individual_numbers": True, "out_dir": str(stick)},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "requested"
    assert body["requester_name"] == office.clerk.display_name
    rid = body["id"]

    approved = admin.post(f"{API.format(CHIYODA)}/{rid}/approve")
    assert approved.status_code == 200, approved.content
    out = approved.json()
    assert out["state"] == "completed", out["error"]
    assert out["decided_by_name"] == office.admin.display_name
    assert out["job_state"] == "succeeded"

    # <EXPORT_DIR>/<lg_code>/<YYYYmmddTHHMMSS>-<id>/ and nowhere else.
    assert out["bundle"].startswith(f"{CHIYODA}/") and out["bundle"].endswith(f"-{rid}")
    stamp = out["bundle"].split("/")[1].split("-")[0]
    assert len(stamp) == 15 and stamp[8] == "T"
    folder = office.export_dir / out["bundle"]
    assert sorted(p.relative_to(office.export_dir).parts[0] for p in office.export_dir.iterdir()) == [CHIYODA]
    assert not stick.exists()
    manifest_bytes = (folder / "manifest.json").read_bytes()
    assert out["manifest_sha256"] == hashlib.sha256(manifest_bytes).hexdigest()
    manifest = json.loads(manifest_bytes)
    assert manifest["municipality"]["code"] == CHIYODA
    assert out["files"] == manifest["files"]
    rows = {f["entity"]: f["rows"] for f in out["files"]}
    assert rows["person"] == 2 and rows["household"] == 1 and rows["individual_number"] == 1
    for f in out["files"]:
        assert hashlib.sha256((folder / f["file"]).read_bytes()).hexdigest() == f["sha256"]

    # Every step audited, the export by the approver; the register's own export record too.
    assert audit_actions(rid) == [
        ("portability.export.requested", office.clerk.display_name),
        ("portability.export.approved", office.admin.display_name),
        ("portability.export.completed", office.admin.display_name),
    ]
    exported = AuditRecord.objects.get(action="registry.exported", subject_id=folder.name)
    assert exported.actor_id == office.admin.pk and "individual_number" in exported.fields

    listed = clerk.get(API.format(CHIYODA)).json()
    assert [r["id"] for r in listed] == [rid]
    assert clerk.get(f"{API.format(CHIYODA)}/{rid}").json()["state"] == "completed"


def test_the_requester_cannot_approve_or_reject_their_own_request(
    office: Office, login_as: Callable[[Staff], Client]
) -> None:
    admin = login_as(office.admin)
    rid = admin.post(
        API.format(CHIYODA), {"purpose": "自分で承認しようとする"}, content_type="application/json"
    ).json()["id"]
    problem(admin.post(f"{API.format(CHIYODA)}/{rid}/approve"), 403, "export_self_approval")
    problem(
        admin.post(f"{API.format(CHIYODA)}/{rid}/reject", {"reason": "x"}, content_type="application/json"),
        403,
        "export_self_approval",
    )
    with pytest.raises(Problem) as refused:
        actions.approve_export(ctx_of(office.admin), rid)
    assert refused.value.code == "export_self_approval"
    req = ExportRequest.objects.get(pk=rid)
    assert req.state == State.REQUESTED and req.decided_by_id is None
    assert not office.export_dir.exists()
    assert audit_actions(rid) == [("portability.export.requested", office.admin.display_name)]
    # Another 団体管理者 may.
    assert actions.approve_export(ctx_of(office.admin2), rid).state == State.APPROVED


def test_who_may_request_approve_and_see(office: Office, login_as: Callable[[Staff], Client]) -> None:
    clerk, counter, other = login_as(office.clerk), login_as(office.counter), login_as(office.other_admin)
    rid = request(office.admin).pk
    # 住民記録担当 may request and see, not approve or reject.
    problem(clerk.post(f"{API.format(CHIYODA)}/{rid}/approve"), 403, "forbidden")
    problem(
        clerk.post(f"{API.format(CHIYODA)}/{rid}/reject", {"reason": "x"}, content_type="application/json"),
        403,
        "forbidden",
    )
    # 窓口 may do nothing here.
    problem(counter.get(API.format(CHIYODA)), 403, "forbidden")
    problem(counter.post(API.format(CHIYODA), {"purpose": "x"}, content_type="application/json"), 403, "forbidden")
    # Another municipality: the same 404 as a request that does not exist, for every route.
    for path in (f"{API.format(CHIYODA)}/{rid}", f"{API.format(SHINJUKU)}/{rid}"):
        problem(other.get(path), 404, "not_found")
    problem(other.get(API.format(CHIYODA)), 404, "not_found")
    problem(other.post(f"{API.format(SHINJUKU)}/{rid}/approve"), 404, "not_found")
    problem(other.post(f"{API.format(SHINJUKU)}/{rid}/cancel"), 404, "not_found")
    problem(other.post(f"{API.format(CHIYODA)}/{rid}/approve"), 404, "not_found")
    problem(login_as(office.admin2).get(f"{API.format(CHIYODA)}/{rid + 1000}"), 404, "not_found")
    assert ExportRequest.objects.get(pk=rid).state == State.REQUESTED


def test_only_a_pending_request_can_be_decided(office: Office, login_as: Callable[[Staff], Client]) -> None:
    admin2 = login_as(office.admin2)
    rid = request(office.clerk).pk
    assert admin2.post(f"{API.format(CHIYODA)}/{rid}/approve").json()["state"] == "completed"
    body = problem(admin2.post(f"{API.format(CHIYODA)}/{rid}/approve"), 409, "export_not_pending")
    assert "出力済" in body["detail"]
    problem(
        admin2.post(f"{API.format(CHIYODA)}/{rid}/reject", {"reason": "遅い"}, content_type="application/json"),
        409,
        "export_not_pending",
    )
    problem(login_as(office.clerk).post(f"{API.format(CHIYODA)}/{rid}/cancel"), 409, "export_not_pending")
    assert len(list((office.export_dir / CHIYODA).iterdir())) == 1  # exported once


def test_reject_needs_a_reason_and_cancel_only_the_requester(
    office: Office, login_as: Callable[[Staff], Client]
) -> None:
    admin, clerk = login_as(office.admin), login_as(office.clerk)
    first, second = request(office.clerk).pk, request(office.clerk).pk
    body = problem(
        admin.post(f"{API.format(CHIYODA)}/{first}/reject", {"reason": ""}, content_type="application/json"),
        422,
        "validation_error",
    )
    assert body["errors"][0]["field"] == "reason"
    rejected = admin.post(
        f"{API.format(CHIYODA)}/{first}/reject", {"reason": "目的が不明確"}, content_type="application/json"
    ).json()
    assert (rejected["state"], rejected["decision_reason"]) == ("rejected", "目的が不明確")

    problem(admin.post(f"{API.format(CHIYODA)}/{second}/cancel"), 403, "export_not_requester")
    assert clerk.post(f"{API.format(CHIYODA)}/{second}/cancel").json()["state"] == "cancelled"
    problem(admin.post(f"{API.format(CHIYODA)}/{second}/approve"), 409, "export_not_pending")

    assert [a for a, _ in audit_actions(first)] == ["portability.export.requested", "portability.export.rejected"]
    assert [a for a, _ in audit_actions(second)] == ["portability.export.requested", "portability.export.cancelled"]
    assert not office.export_dir.exists()


def test_a_purpose_is_required(office: Office, login_as: Callable[[Staff], Client]) -> None:
    clerk = login_as(office.clerk)
    problem(clerk.post(API.format(CHIYODA), {"purpose": ""}, content_type="application/json"), 422, "validation_error")
    problem(clerk.post(API.format(CHIYODA), {}, content_type="application/json"), 422, "validation_error")
    with pytest.raises(Exception, match="目的"):
        request(office.clerk, purpose="   ")
    assert ExportRequest.objects.count() == 0


def test_a_request_not_approved_within_seven_days_expires(office: Office, login_as: Callable[[Staff], Client]) -> None:
    t0 = timezone.now() - timedelta(days=7, seconds=1)
    late = actions.request_export(ctx_of(office.clerk), purpose="古い申請", include_individual_numbers=False, now=t0)
    fresh = actions.request_export(
        ctx_of(office.clerk), purpose="新しい申請", include_individual_numbers=False, now=t0 + timedelta(seconds=2)
    )
    assert late.expires_at == t0 + timedelta(days=7)
    admin = login_as(office.admin)
    assert admin.get(f"{API.format(CHIYODA)}/{late.pk}").json()["state_label"] == "期限切れ"
    problem(admin.post(f"{API.format(CHIYODA)}/{late.pk}/approve"), 409, "export_expired")
    assert ExportRequest.objects.get(pk=late.pk).state == State.EXPIRED  # committed though the approval was refused
    assert [a for a, _ in audit_actions(late.pk)][-1] == "portability.export.expired"
    assert not office.export_dir.exists()
    # The worker lapses the rest once their time is up.
    system = TenantContext.system(CHIYODA, purpose="test")
    assert actions.expire_stale(system) == 0
    assert actions.expire_stale(system, now=t0 + timedelta(days=8)) == 1
    assert ExportRequest.objects.get(pk=fresh.pk).state == State.EXPIRED


def test_a_large_town_is_exported_by_the_worker_as_a_job(
    office: Office, settings: Any, login_as: Callable[[Staff], Client]
) -> None:
    settings.EXPORT_SYNC_MAX_PERSONS = 1  # the town has 2 residents
    rid = request(office.clerk, numbers=False).pk
    out = login_as(office.admin).post(f"{API.format(CHIYODA)}/{rid}/approve").json()
    assert (out["state"], out["job_id"], out["bundle"]) == ("approved", None, "")
    assert not office.export_dir.exists()

    call_command("run_exports", municipality=CHIYODA, stdout=(log := _Sink()))
    req = ExportRequest.objects.get(pk=rid)
    assert req.state == State.COMPLETED and f"申請 {rid}: 出力済 {req.bundle}" in log.text
    job = Job.objects.get(pk=req.job_id or 0)
    assert (job.kind, job.key, job.state, job.actor_name) == ("portability.export", str(rid), "succeeded", "kanri 職員")
    assert job.result["rows"]["person"] == 2 and "individual_number" not in {
        f["entity"] for f in req.files if f["rows"]
    }
    manifest = json.loads((office.export_dir / req.bundle / "manifest.json").read_text("utf-8"))
    assert manifest["excluded"] == ["individual_number"]
    # A second pass finds nothing to do.
    call_command("run_exports", municipality=CHIYODA, stdout=_Sink())
    assert len(list((office.export_dir / CHIYODA).iterdir())) == 1


def test_an_approver_who_lost_the_role_before_the_run_exports_nothing(office: Office, settings: Any) -> None:
    settings.EXPORT_SYNC_MAX_PERSONS = 0
    rid = request(office.clerk).pk
    actions.approve_export(ctx_of(office.admin), rid)
    set_staff_active(ctx_of(office.admin2), office.admin.pk, False)
    done = actions.run_approved(TenantContext.system(CHIYODA, purpose="test"))
    assert [(r.pk, r.state) for r in done] == [(rid, State.FAILED)]
    assert "承認者が無効" in done[0].error
    assert not office.export_dir.exists()
    assert [a for a, _ in audit_actions(rid)][-1] == "portability.export.failed"


def test_a_failed_write_is_recorded_without_personal_data(office: Office, settings: Any) -> None:
    blocker = office.export_dir.parent / "not-a-folder"
    blocker.write_text("x")
    settings.EXPORT_DIR = blocker  # mkdir under a file fails
    rid = request(office.clerk, numbers=True).pk
    actions.approve_export(ctx_of(office.admin), rid)
    assert actions.run_if_small(ctx_of(office.admin), rid) is True
    req = ExportRequest.objects.get(pk=rid)
    assert req.state == State.FAILED and req.bundle == "" and req.files == []
    assert "書き込めません" in req.error and NUMBER not in req.error and "髙橋" not in req.error
    assert Job.objects.get(pk=req.job_id or 0).state == "failed"
    assert [a for a, _ in audit_actions(rid)] == [
        "portability.export.requested",
        "portability.export.approved",
        "portability.export.failed",
    ]


def test_the_routes_are_in_the_openapi_document(office: Office, login_as: Callable[[Staff], Client]) -> None:
    paths = login_as(office.clerk).get("/api/v1/openapi.json").json()["paths"]
    base = "/api/v1/municipalities/{lg_code}/exports"
    assert {"get", "post"} <= set(paths[base])
    assert "get" in paths[base + "/{request_id}"]
    for step in ("approve", "reject", "cancel"):
        assert "post" in paths[f"{base}/{{request_id}}/{step}"]


# --- pages ------------------------------------------------------------------------------------


def test_pages_show_each_person_only_the_buttons_they_may_press(
    office: Office, login_as: Callable[[Staff], Client]
) -> None:
    clerk, admin, counter = login_as(office.clerk), login_as(office.admin), login_as(office.counter)
    assert "全件出力" in clerk.get("/dashboard/").content.decode()
    assert "全件出力" not in counter.get("/dashboard/").content.decode()
    assert counter.get("/portability/exports/").status_code == 403
    assert counter.get("/portability/exports/new/").status_code == 403

    empty = clerk.post("/portability/exports/new/", {"purpose": ""})
    assert empty.status_code == 400 and "出力の目的・理由を入力してください。" in empty.content.decode()
    made = clerk.post("/portability/exports/new/", {"purpose": "ベンダー移行", "include_individual_numbers": "on"})
    assert made.status_code == 302
    req = ExportRequest.objects.get()
    assert made["Location"] == f"/portability/exports/{req.pk}/"
    assert req.include_individual_numbers and req.requester_id == office.clerk.pk

    own = clerk.get(made["Location"]).content.decode()
    assert "申請を取り消す" in own and "承認して出力する" not in own and "却下する" not in own
    theirs = admin.get(made["Location"]).content.decode()
    assert "承認して出力する" in theirs and "却下する" in theirs and "申請を取り消す" not in theirs

    # Posting a step one may not take is refused on the server too, with the reason on the page.
    refused = clerk.post(made["Location"], {"op": "approve"})
    assert refused.status_code == 403
    assert ExportRequest.objects.get().state == State.REQUESTED
    no_reason = admin.post(made["Location"], {"op": "reject", "reason": ""})
    assert no_reason.status_code == 400 and "却下の理由を入力してください。" in no_reason.content.decode()

    approved = admin.post(made["Location"], {"op": "approve"}, follow=True)
    page = approved.content.decode()
    req.refresh_from_db()
    assert req.state == State.COMPLETED
    assert "承認し、出力しました。" in page and req.bundle in page and req.manifest_sha256 in page
    assert "download" not in page.lower() and 'href="/exports' not in page
    assert "承認して出力する" not in page
    listing = clerk.get("/portability/exports/").content.decode()
    assert f"申請 {req.pk}" in listing and "出力済" in listing
    # Another municipality's request is not found.
    assert login_as(office.other_admin).get(made["Location"]).status_code == 404


def test_page_forms_need_the_csrf_token(office: Office) -> None:
    from tests.conftest import signed_in

    browser = signed_in(Client(enforce_csrf_checks=True), office.clerk)
    assert browser.post("/portability/exports/new/", {"purpose": "CSRF なし"}).status_code == 403
    assert ExportRequest.objects.count() == 0


class _Sink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> None:
        self.text += s

    def flush(self) -> None:
        pass
