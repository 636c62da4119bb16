"""Attachments: type and size limits, stored under the municipality, never served to another, the scan hook."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from lgcloud.core.permissions import Role
from lgcloud.procedures.actions import Filing, SubmissionInvalid, UploadedFile, submit
from lgcloud.procedures.models import Attachment
from lgcloud.procedures.storage import ScanVerdict
from tests.conftest import CHIYODA, SHINJUKU, signed_in

from .conftest import Resident

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EICAR = b"%PDF-1.4 X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
VALUES = {"kind": "individual", "copies": "1", "purpose": "就職"}


def refuse_eicar(data: bytes, *, filename: str, content_type: str) -> ScanVerdict:
    """A scanner plugged into the hook for the test: refuses the EICAR test signature."""
    if b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in data:
        return ScanVerdict(False, "ウイルス（EICAR テスト）を検出しました。")
    return ScanVerdict(True)


def _file(r: Resident, data: bytes, name: str = "kawase.pdf") -> int:
    return submit(
        r.ctx,
        code="certificate_by_post",
        atena_number=r.atena_number,
        filing=Filing(values=VALUES, files={"payment_proof": UploadedFile(name, data)}),
        today=date.today(),
        resident_account_id=r.account_id,
    )


def test_stored_under_the_municipality_and_never_served_to_another(
    resident: Resident, make_staff: Any, settings: Any
) -> None:
    number = _file(resident, PDF)
    attachment = Attachment.objects.get(municipality_id=CHIYODA, submission__number=number)
    assert attachment.storage_path.startswith(f"{CHIYODA}/") and attachment.scan_status == "not_scanned"
    assert (Path(settings.ATTACHMENT_DIR) / attachment.storage_path).read_bytes() == PDF
    url = f"/procedures/review/{number}/attachments/{attachment.pk}/"
    chiyoda = signed_in(Client(), make_staff(CHIYODA, "juki", Role.REGISTRY_CLERK))
    got = chiyoda.get(url)
    assert got.status_code == 200 and got.content == PDF and got["Content-Type"] == "application/pdf"
    shinjuku = signed_in(Client(), make_staff(SHINJUKU, "juki", Role.REGISTRY_CLERK))
    assert shinjuku.get(url).status_code == 404  # the same number in 新宿区 does not exist
    auditor = signed_in(Client(), make_staff(CHIYODA, "kansa", Role.AUDITOR))
    assert auditor.get(url).status_code == 403


def test_type_and_size_limits(resident: Resident, settings: Any) -> None:
    with pytest.raises(SubmissionInvalid, match="形式"):
        _file(resident, b"MZ\x90\x00 not a pdf", "kawase.pdf.exe")
    settings.ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(SubmissionInvalid, match="大きすぎ"):
        _file(resident, PDF + b"0" * 200)
    assert not Attachment.objects.exists()
    assert (
        not any(p.is_file() for p in Path(settings.ATTACHMENT_DIR).rglob("*"))
        if Path(settings.ATTACHMENT_DIR).exists()
        else True
    )


def test_the_scan_hook_refuses_before_anything_is_written(resident: Resident, settings: Any) -> None:
    settings.ATTACHMENT_SCANNER = "tests.procedures.test_attachments.refuse_eicar"
    with pytest.raises(SubmissionInvalid, match="EICAR"):
        _file(resident, EICAR)
    assert not Attachment.objects.exists()
    number = _file(resident, PDF)
    assert Attachment.objects.get(submission__number=number).scan_status == "clean"
