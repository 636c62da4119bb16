"""全件出力の承認 on PostgreSQL: requests stay inside their municipality under row-level security, and
an approved export runs as the approver through the app role into the export directory."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from django.db import connection
from django.test import Client

from lgcloud.accounts.actions import create_staff
from lgcloud.accounts.models import Staff
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.portability.approvals import actions, queries
from lgcloud.portability.models import ExportRequest
from lgcloud.registry import actions as registry

from .conftest import CHIYODA, PASSWORD, SHINJUKU, RawConnection, Seed, as_tenant, committed_municipality, sign_in

API = "/api/v1/municipalities/{}/exports"
HACHIOJI = "132012"  # a municipality of its own: what the export commits touches no other test's counts


def _seeded_request(superuser_db: RawConnection, lg_code: str) -> int:
    row = superuser_db.execute(
        "SELECT id FROM portability_exportrequest WHERE municipality_id = %s ORDER BY id LIMIT 1", [lg_code]
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_requests_stay_in_their_municipality(
    seed: Seed, db: None, superuser_db: RawConnection, app_db: RawConnection
) -> None:
    a_id, b_id = _seeded_request(superuser_db, CHIYODA), _seeded_request(superuser_db, SHINJUKU)
    with as_tenant(app_db, CHIYODA) as conn:
        seen = {r[0] for r in conn.execute("SELECT municipality_id FROM portability_exportrequest")}
        assert seen == {CHIYODA}
    # The app role outside any tenant sees none.
    assert app_db.execute("SELECT count(*) FROM portability_exportrequest").fetchone() == (0,)

    ctx = TenantContext(CHIYODA, seed.a.admin_id, "x", frozenset({Role.MUNICIPAL_ADMIN}), "test")
    assert [r.pk for r in queries.list_export_requests(ctx)] == [a_id]
    # Even without the application's filter, the database returns only this municipality's rows.
    with bound(ctx):
        assert set(ExportRequest.objects.values_list("municipality_id", flat=True)) == {CHIYODA}

    admin = sign_in(Client(), seed.a.admin_id, device=seed.a.admin_device)
    assert [r["id"] for r in admin.get(API.format(CHIYODA)).json()] == [a_id]
    for response in (
        admin.get(f"{API.format(CHIYODA)}/{b_id}"),
        admin.post(f"{API.format(CHIYODA)}/{b_id}/approve"),
        admin.get(f"{API.format(SHINJUKU)}/{b_id}"),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    # The seeded request is the admin's own: refused, and nothing changes.
    refused = admin.post(f"{API.format(CHIYODA)}/{a_id}/approve")
    assert (refused.status_code, refused.json()["code"]) == (403, "export_self_approval")
    state = superuser_db.execute("SELECT state FROM portability_exportrequest WHERE id = %s", [a_id]).fetchone()
    assert state == ("requested",)


def _hachioji() -> None:
    committed_municipality(HACHIOJI)


def test_an_approved_export_runs_as_the_approver_through_the_app_role(
    seed: Seed, autocommit_db: None, superuser_db: RawConnection, settings: Any, tmp_path: Path
) -> None:
    """Committed for real (the export reads one REPEATABLE READ snapshot, which a test transaction
    would not allow). The staff made here are deleted again; append-only rows stay in 八王子市."""
    settings.EXPORT_DIR = tmp_path / "exports"
    _hachioji()
    system = TenantContext.system(HACHIOJI, purpose="test")
    made = [
        create_staff(system, username=f"exp{n}", display_name=f"出力 {n}", roles=[role], password=PASSWORD).staff
        for n, role in ((1, Role.REGISTRY_CLERK), (2, Role.MUNICIPAL_ADMIN))
    ]
    clerk, admin = (
        TenantContext(HACHIOJI, s.pk, s.display_name, frozenset({r}), "test")
        for s, r in zip(made, (Role.REGISTRY_CLERK, Role.MUNICIPAL_ADMIN), strict=True)
    )
    try:
        registry.register_move_in(
            clerk,
            persons=[registry.NewPerson("出力", "確認", "シュツリョク", "カクニン", date(1990, 1, 1), "1", "head")],
            address="東京都八王子市元本郷町三丁目24番1号",
            effective_date=date(2025, 1, 6),
            filed_on=date(2025, 1, 6),
            previous_address="",
            confirm_duplicates=True,
        )
        req = actions.request_export(clerk, purpose="PostgreSQL での出力確認", include_individual_numbers=False)
        actions.approve_export(admin, req.pk)
        assert not connection.in_atomic_block
        done = actions.run_export(admin, req.pk)
        assert done.state == ExportRequest.State.COMPLETED, done.error
        folder = settings.EXPORT_DIR / done.bundle
        assert done.bundle.startswith(f"{HACHIOJI}/")
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        assert manifest["municipality"]["code"] == HACHIOJI
        rows = {f["entity"]: f["rows"] for f in manifest["files"]}
        assert rows["person"] >= 1 and done.files == manifest["files"]
        # The audit trail, as the database holds it: the export by the approver.
        actions_seen = superuser_db.execute(
            "SELECT action, actor_id FROM audit_auditrecord WHERE municipality_id = %s AND"
            " (subject_id = %s OR subject_id = %s) ORDER BY id",
            [HACHIOJI, str(req.pk), folder.name],
        ).fetchall()
        assert actions_seen == [
            ("portability.export.requested", made[0].pk),
            ("portability.export.approved", made[1].pk),
            ("registry.exported", made[1].pk),
            ("portability.export.completed", made[1].pk),
        ]
    finally:
        with bound(system):
            Staff.objects.filter(pk__in=[s.pk for s in made]).delete()


def test_an_export_survives_audited_work_committed_while_it_reads(
    seed: Seed, autocommit_db: None, tmp_path: Path
) -> None:
    """Staff keep working during a long export: an audited action commits after the export's
    snapshot began. The export's own audit record must still be written (not refused with
    "could not serialize access" by the REPEATABLE READ snapshot)."""
    import threading

    from django.db import connections

    from lgcloud.audit.actions import record
    from lgcloud.portability.actions import export_bundle

    _hachioji()
    system = TenantContext.system(HACHIOJI, purpose="test")
    registry.register_move_in(
        system,
        persons=[registry.NewPerson("並行", "出力", "ヘイコウ", "シュツリョク", date(1991, 2, 3), "2", "head")],
        address="東京都八王子市元本郷町三丁目24番2号",
        effective_date=date(2025, 1, 6),
        filed_on=date(2025, 1, 6),
        previous_address="",
        confirm_duplicates=True,
    )
    meanwhile: list[str] = []

    def other_staff_work() -> None:
        try:
            with bound(system):
                record(system, "test.meanwhile", subject_type="test", subject_id="x")
            meanwhile.append("committed")
        finally:
            connections.close_all()

    def progress(entity: str, _n: int) -> None:
        if entity == "household" and not meanwhile:  # inside the snapshot, after its first read
            worker = threading.Thread(target=other_staff_work)
            worker.start()
            worker.join()

    result = export_bundle(system, tmp_path / "bundle", municipality_name="八王子市", progress=progress)
    assert meanwhile == ["committed"]
    assert (result.directory / "manifest.json").is_file()
