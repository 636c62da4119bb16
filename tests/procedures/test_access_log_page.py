"""The resident's 「だれが私の情報を見たか」 page on the portal: entries by role, a proof per sealed entry."""

from __future__ import annotations

import json

from django.test import Client

from lgcloud.accounts.models import ResidentAccount
from lgcloud.audit import proofcheck
from lgcloud.audit.models import AuditRecord
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry import queries as registry_queries
from tests.conftest import CHIYODA, seal_audit
from tests.procedures.conftest import Resident, resident_client

URL = f"/portal/{CHIYODA}/access-log/"


def _clerk() -> TenantContext:
    return TenantContext(
        lg_code=CHIYODA,
        actor_id=9001,
        actor_name="住記 太郎",
        roles=frozenset({Role.REGISTRY_CLERK}),
        purpose="staff.work",
    )


def test_the_page_lists_who_read_my_data_with_a_proof_once_sealed(resident: Resident) -> None:
    registry_queries.get_record(_clerk(), resident.atena_number)
    client = resident_client(resident)
    page = client.get(URL).content.decode()
    assert "だれが" in page and "住民記録担当" in page and "住民票の閲覧" in page
    assert "住記" not in page  # staff by role, never by name
    assert "封印待ち" in page and "proof.json" not in page

    seal_audit()
    page = client.get(URL).content.decode()
    assert "proof.json" in page
    assert "ご本人（オンライン）" in page  # the first visit of this page, read back
    proof_links = [part.split('"', 1)[0] for part in page.split('href="')[1:] if "proof.json" in part.split('"', 1)[0]]
    assert proof_links
    response = client.get(proof_links[-1])  # the oldest entry: the clerk's view
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(f'attachment; filename="audit-proof-{CHIYODA}-')
    bundle = json.loads(response.content)
    assert bundle["entry"]["subject_id"] == resident.atena_number
    assert bundle["entry"]["action"] == "registry.person.viewed"
    assert "住記" not in response.content.decode()
    assert proofcheck.check(bundle).ok


def test_an_entry_still_waiting_redirects_back_with_a_notice(resident: Resident) -> None:
    client = resident_client(resident)
    client.get(URL)
    seal_audit()
    page = client.get(URL).content.decode()  # its own read is not sealed yet
    assert "封印待ち" in page
    newest = AuditRecord.objects.filter(subject_id=resident.atena_number).order_by("-id").first()
    assert newest is not None
    response = client.get(f"/portal/{CHIYODA}/access-log/{newest.pk}/proof.json", follow=True)
    assert response.redirect_chain[-1][0] == URL
    assert "まだ封印待ち" in response.content.decode()


def test_another_residents_entries_are_not_reachable(resident: Resident) -> None:
    wife = resident.members[1]
    account = ResidentAccount.objects.create(
        municipality_id=CHIYODA, issuer="https://idp.test", subject="sub-wife", atena_number=wife, email=""
    )
    other = Resident(CHIYODA, account.pk, wife, resident.members)
    registry_queries.get_record(_clerk(), other.atena_number)
    seal_audit()
    theirs = AuditRecord.objects.filter(subject_id=other.atena_number).order_by("-id").first()
    assert theirs is not None
    mine = resident_client(resident)
    assert mine.get(f"/portal/{CHIYODA}/access-log/{theirs.pk}/proof.json").status_code == 404
    assert resident_client(other).get(f"/portal/{CHIYODA}/access-log/{theirs.pk}/proof.json").status_code == 200


def test_signed_out_visitors_go_to_the_portal_home(resident: Resident) -> None:
    response = Client().get(URL)
    assert response.status_code == 302 and response["Location"] == f"/portal/{CHIYODA}/"
