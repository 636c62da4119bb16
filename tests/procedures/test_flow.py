"""Filing, review and approval: once-only prefill, differences marked, the core action in one transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from lgcloud.audit.models import AuditRecord
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.procedures import actions
from lgcloud.procedures.models import Submission, SubmissionEvent
from lgcloud.registry.queries import get_history, get_record
from tests.conftest import CHIYODA, SHINJUKU

from .conftest import Mailbox, Resident, make_resident, resident_client

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
MOVED = TODAY - timedelta(days=3)


def _address_change(r: Resident, **extra: str) -> int:
    values = {
        "moved_on": MOVED.isoformat(),
        "new_address": "東京都千代田区丸の内二丁目2番2号",
        "new_address_detail": "丸の内ハイツ101",
        "scope": "household",
        "contact_email": "taro@example.jp",
    } | extra
    return actions.submit(
        r.ctx,
        code="address_change",
        atena_number=r.atena_number,
        filing=actions.Filing(values=values, disputes={"full_name_kana": "ヤマダ タロウではなくヤマタ タロウです"}),
        today=TODAY,
        resident_account_id=r.account_id,
    )


def test_the_form_is_prefilled_from_the_registry_with_its_source(resident: Resident) -> None:
    page = resident_client(resident).get(f"/portal/{CHIYODA}/procedures/address_change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "山田　太郎" in html and "東京都千代田区霞が関一丁目1番1号" in html
    assert "千代田区の住民記録" in html  # the source of each prefilled item
    # The resident is never asked to type what the registry knows: no input named like a prefilled item.
    assert 'name="full_name"' not in html and 'name="current_address"' not in html
    assert "転居した日から14日以内" in html


def test_approval_moves_the_household_in_the_registry_in_the_same_transaction(
    resident: Resident, clerk_ctx: TenantContext, smtp: Mailbox, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        number = _address_change(resident)
    submission = Submission.objects.get(municipality_id=CHIYODA, number=number)
    # "This is wrong" reached the clerk as a note; the registry was not touched.
    assert submission.disputes == {"full_name_kana": "ヤマダ タロウではなくヤマタ タロウです"}
    assert get_record(clerk_ctx, resident.atena_number).family_name_kana == "ヤマダ"
    assert get_record(clerk_ctx, resident.atena_number).address == "東京都千代田区霞が関一丁目1番1号"

    client = resident_client(resident)
    from lgcloud.accounts.actions import create_staff
    from tests.conftest import signed_in

    staff = create_staff(
        TenantContext.system(CHIYODA, "test"),
        username="juki",
        display_name="住記 次郎",
        roles=[Role.REGISTRY_CLERK],
        password="correct-horse-battery-staple",
    ).staff
    from django.test import Client

    clerk = signed_in(Client(), staff)
    queue = clerk.get("/procedures/review/")
    assert queue.status_code == 200 and f"/procedures/review/{number}/" in queue.content.decode()
    detail = clerk.get(f"/procedures/review/{number}/").content.decode()
    assert "相違あり" in detail and "<mark>東京都千代田区丸の内二丁目2番2号</mark>" in detail
    assert "ヤマタ タロウです" in detail  # the resident's note beside the item

    assert clerk.post(f"/procedures/review/{number}/", {"op": "claim"}).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert clerk.post(f"/procedures/review/{number}/", {"op": "approve"}).status_code == 302

    submission.refresh_from_db()
    assert submission.status == "approved"
    for atena in resident.members:
        rec = get_record(clerk_ctx, atena)
        assert rec.address == "東京都千代田区丸の内二丁目2番2号" and rec.address_detail == "丸の内ハイツ101"
        assert rec.address_since == MOVED  # the 異動日 is the day the resident moved, not the approval day
        assert rec.pre_move_address == "東京都千代田区霞が関一丁目1番1号"
    change = get_history(clerk_ctx, resident.atena_number)[-1]
    assert change.change_number == submission.result["change_number"]
    assert change.effective_date == MOVED and change.filed_on == TODAY
    assert f"受付番号 {number}" in change.reason
    actions_logged = set(AuditRecord.objects.filter(chain=CHIYODA).values_list("action", flat=True))
    assert {"procedures.submission.submitted", "procedures.submission.approved", "registry.change.address_change"} & (
        actions_logged
    ) >= {"procedures.submission.submitted", "procedures.submission.approved"}

    # The resident sees it on the portal, and got e-mail at each step (real SMTP on loopback).
    status = client.get(f"/portal/{CHIYODA}/submissions/{number}/").content.decode()
    assert "承認（処理済み）" in status and "住民記録に反映しました" in status
    subjects = smtp.subjects()
    assert any("受け付けました" in s for s in subjects) and any("承認されました" in s for s in subjects)
    assert all(m["X-Envelope-To"] == "taro@example.jp" for m in smtp.messages)
    assert all("霞が関" not in m.get_payload(decode=True).decode() for m in smtp.messages)  # no registry data


def test_a_failing_core_action_leaves_the_submission_unapproved(resident: Resident, clerk_ctx: TenantContext) -> None:
    # 本人のみ as 世帯主 with the wife staying: the registry needs a new head and refuses.
    number = _address_change(resident, scope="self")
    actions.claim(clerk_ctx, number)
    before = len(get_history(clerk_ctx, resident.atena_number))
    with pytest.raises(ValidationError):  # the registry refuses: a new 世帯主 is needed
        actions.approve(clerk_ctx, number, today=TODAY)
    submission = Submission.objects.get(municipality_id=CHIYODA, number=number)
    assert submission.status == "in_review" and submission.result == {}
    assert len(get_history(clerk_ctx, resident.atena_number)) == before
    assert not SubmissionEvent.objects.filter(submission=submission, kind="approved").exists()


def test_return_for_correction_and_resubmission_against_the_same_version(
    resident: Resident, clerk_ctx: TenantContext
) -> None:
    number = _address_change(resident)
    actions.claim(clerk_ctx, number)
    with pytest.raises(actions.SubmissionInvalid):
        actions.return_for_correction(clerk_ctx, number, reason="  ")
    actions.return_for_correction(clerk_ctx, number, reason="番地を確認してください。")
    client = resident_client(resident)
    page = client.get(f"/portal/{CHIYODA}/submissions/{number}/").content.decode()
    assert "番地を確認してください。" in page and "再提出する" in page
    bad = client.post(f"/portal/{CHIYODA}/submissions/{number}/", {"moved_on": "", "new_address": "", "scope": "x"})
    assert bad.status_code == 400
    ok = client.post(
        f"/portal/{CHIYODA}/submissions/{number}/",
        {"moved_on": MOVED.isoformat(), "new_address": "東京都千代田区丸の内二丁目2番3号", "scope": "household"},
    )
    assert ok.status_code == 302
    s = Submission.objects.get(municipality_id=CHIYODA, number=number)
    assert s.status == "submitted" and s.values["new_address"].endswith("3号")


def test_reject_needs_a_reason_and_only_the_claimant_decides(resident: Resident, clerk_ctx: TenantContext) -> None:
    number = _address_change(resident)
    with pytest.raises(actions.SubmissionInvalid):
        actions.approve(clerk_ctx, number, today=TODAY)  # not claimed yet
    actions.claim(clerk_ctx, number)
    other = TenantContext(CHIYODA, 9002, "住記 三郎", frozenset({Role.REGISTRY_CLERK}), "test")
    with pytest.raises(actions.SubmissionInvalid):
        actions.claim(other, number)
    with pytest.raises(actions.SubmissionInvalid):
        actions.reject(other, number, reason="重複")
    actions.reject(clerk_ctx, number, reason="同じ届出が窓口で処理済みです。")
    assert Submission.objects.get(municipality_id=CHIYODA, number=number).status == "rejected"


def test_only_the_reviewing_role_reviews_and_other_municipalities_see_nothing(
    resident: Resident, clerk_ctx: TenantContext
) -> None:
    number = _address_change(resident)
    welfare = TenantContext(CHIYODA, 9003, "福祉 花子", frozenset({Role.WELFARE_CLERK}), "test")
    with pytest.raises(PermissionDenied):
        actions.claim(welfare, number)  # 転居届 is reviewed by 住民記録担当
    shinjuku = TenantContext(SHINJUKU, 9004, "新宿 太郎", frozenset({Role.REGISTRY_CLERK}), "test")
    with pytest.raises(Http404):
        actions.claim(shinjuku, number)
    other = make_resident(SHINJUKU)
    from lgcloud.procedures.access import get_submission_for_resident

    with pytest.raises(Http404):
        get_submission_for_resident(other.ctx, other.account_id, number)
    assert resident_client(other).get(f"/portal/{SHINJUKU}/submissions/{number}/").status_code == 404
    assert resident_client(other).get(f"/portal/{CHIYODA}/").content.decode().count("ログアウト") == 0


def test_invalid_input_writes_nothing(resident: Resident) -> None:
    before = Submission.objects.count()
    with pytest.raises(actions.SubmissionInvalid) as refused:
        _address_change(resident, moved_on=(TODAY + timedelta(days=1)).isoformat(), new_address="")
    assert set(refused.value.error_dict) == {"moved_on", "new_address"}
    assert Submission.objects.count() == before


def test_counter_assisted_filing_records_both_identities(resident: Resident) -> None:
    counter = TenantContext(CHIYODA, 9005, "窓口 花子", frozenset({Role.COUNTER}), "test")
    number = actions.submit(
        counter,
        code="move_out",
        atena_number=resident.atena_number,
        filing=actions.Filing(
            values={
                "planned_on": (TODAY + timedelta(days=7)).isoformat(),
                "destination": "大阪府大阪市北区1-1",
                "scope": "household",
            }
        ),
        today=TODAY,
    )
    s = Submission.objects.get(municipality_id=CHIYODA, number=number)
    assert s.channel == "counter" and s.entered_by_name == "窓口 花子" and s.atena_number == resident.atena_number
    event = SubmissionEvent.objects.get(submission=s, kind="submitted")
    assert "代理入力" in event.message and "窓口 花子" in event.message and "山田　太郎" in event.message
    with pytest.raises(PermissionDenied):
        actions.claim(counter, number)  # the counter files; 住民記録担当 reviews


def test_certificate_by_post_shows_the_fee_and_approval_issues_it(resident: Resident, clerk_ctx: TenantContext) -> None:
    page = resident_client(resident).get(f"/portal/{CHIYODA}/procedures/certificate_by_post/").content.decode()
    assert "300円" in page  # registry/parameters/fees.json, the value in force today
    number = actions.submit(
        resident.ctx,
        code="certificate_by_post",
        atena_number=resident.atena_number,
        filing=actions.Filing(values={"kind": "individual", "copies": "2", "purpose": "年金の手続"}),
        today=TODAY,
        resident_account_id=resident.account_id,
    )
    actions.claim(clerk_ctx, number)
    result = actions.approve(clerk_ctx, number, today=TODAY)
    assert result["fee_yen"] == 600 and len(result["issue_numbers"]) == 2


def test_child_allowance_filing_checks_the_account_fields(resident: Resident) -> None:
    values = {
        "children": "山田 一郎",
        "event_on": (TODAY - timedelta(days=2)).isoformat(),
        "bank_code": "0001",
        "branch_code": "001",
        "account_number": "1234567",
        "account_holder_kana": "ヤマダ タロウ",
    }
    with pytest.raises(actions.SubmissionInvalid) as bad:
        actions.submit(
            resident.ctx,
            code="child_allowance",
            atena_number=resident.atena_number,
            filing=actions.Filing(values=values | {"account_holder_kana": "yamada", "bank_code": "1"}),
            today=TODAY,
            resident_account_id=resident.account_id,
        )
    assert set(bad.value.error_dict) == {"account_holder_kana", "bank_code"}
    # Approval into the benefits app: tests/procedures/test_core_actions.py.


def test_display_switches_add_ruby_and_large_text(resident: Resident) -> None:
    client = resident_client(resident)
    plain = client.get(f"/portal/{CHIYODA}/procedures/address_change/").content.decode()
    assert "<ruby>" not in plain and "large-text" not in plain
    client.post("/portal/display/", {"furigana": "on", "large_text": "on", "next": "/portal/131016/"})
    page = client.get(f"/portal/{CHIYODA}/procedures/address_change/").content.decode()
    assert "<ruby>転居届<rp>（</rp><rt>てんきょとどけ</rt>" in page and 'class="portal large-text"' in page
    assert client.get(f"/portal/{CHIYODA}/help/").status_code == 200


def test_paper_form_is_a_prefilled_pdf(resident: Resident, tmp_path: object) -> None:
    import subprocess
    from pathlib import Path

    response = resident_client(resident).get(f"/portal/{CHIYODA}/procedures/address_change/paper.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    pdf = Path(str(tmp_path)) / "form.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    assert "転居届" in text and "霞が関" in text and "署名" in text
