"""Who read my data: roles, systems and municipalities that read a person's data, when and why."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry import queries as registry_queries
from tests.conftest import StaffFactory, signed_in
from tests.linkage.conftest import CHIYODA, SHINJUKU, clerk_of, move_in_family
from tests.linkage.test_clients_and_feed import BASE, system

pytestmark = pytest.mark.django_db


def test_the_access_log_lists_staff_by_role_and_systems_by_name(tokyo: list[str], make_staff: StaffFactory) -> None:
    family = move_in_family(clerk_of(CHIYODA, name="住記 太郎"))
    head, wife = family.atena_numbers
    registry_queries.get_record(clerk_of(CHIYODA, name="住記 太郎"), head)
    registry_queries.get_record(clerk_of(CHIYODA), wife)  # someone else's record: not listed for head
    tax = system(["tax.resident_tax"], name="税務システム")
    assert tax.get(f"{BASE}/linkage/persons/{head}", {"purpose": "tax.resident_tax"}).status_code == 200

    portal = system(["self.access_log"], name="住民ポータル")
    response = portal.get(f"{BASE}/persons/{head}/access-log")
    assert response.status_code == 200, response.content
    entries = response.json()
    kinds = [(e["kind"], e["who"], e["action_label"], e["purpose_label"]) for e in entries]
    assert (
        "system",
        "税務システム（〇〇株式会社） [" + kinds[0][1].split("[")[1],
        "外部システムによる項目の参照",
        "個人住民税の賦課徴収",
    ) == kinds[0]
    assert ("staff", "住民記録担当", "住民票の閲覧", "test") in kinds
    assert "住記" not in response.content.decode()  # staff appear by role, never by name
    system_read = entries[0]
    assert "address" in system_read["items"] and "resident_code" not in system_read["items"]
    # Asking is itself audited, and shows up next time.
    again = portal.get(f"{BASE}/persons/{head}/access-log").json()
    assert again[0]["action"] == "linkage.access_log.read" and again[0]["kind"] == "system"


def test_the_access_log_needs_its_purpose_or_a_registry_role(tokyo: list[str], make_staff: StaffFactory) -> None:
    head = move_in_family(clerk_of(CHIYODA)).atena_numbers[0]
    url = f"{BASE}/persons/{head}/access-log"
    refused = system(["tax.resident_tax"], name="tax").get(url)
    assert refused.status_code == 403 and refused.json()["code"] == "purpose_not_granted"
    assert system(["self.access_log"], name="other", lg_code=SHINJUKU).get(url).status_code == 404
    counter = signed_in(Client(), make_staff(CHIYODA, "madoguchi", Role.COUNTER))
    assert counter.get(url).status_code == 200
    assert counter.get(f"{BASE}/persons/0000009999/access-log").status_code == 404
    auditor = signed_in(Client(), make_staff(CHIYODA, "kansa", Role.AUDITOR))
    assert auditor.get(url).status_code == 403


def test_system_commands_appear_as_the_platform(tokyo: list[str]) -> None:
    from lgcloud.linkage.queries import access_history

    head = move_in_family(clerk_of(CHIYODA)).atena_numbers[0]
    registry_queries.get_record(TenantContext.system(CHIYODA, purpose="batch"), head)
    entries = access_history(clerk_of(CHIYODA), head)
    assert ("platform", "lgcloud（システムによる処理）") in [(e.kind, e.who) for e in entries]


def test_each_sealed_entry_has_an_inclusion_proof_that_verifies_offline(tokyo: list[str]) -> None:
    """「だれが私の情報を見たか」: every sealed entry links to a proof; a fresh one says 封印待ち."""
    from lgcloud.audit import proofcheck
    from tests.conftest import seal_audit

    head = move_in_family(clerk_of(CHIYODA, name="住記 太郎")).atena_numbers[0]
    registry_queries.get_record(clerk_of(CHIYODA, name="住記 太郎"), head)
    portal = system(["self.access_log"], name="住民ポータル")
    fresh = portal.get(f"{BASE}/persons/{head}/access-log").json()
    assert fresh and all(e["seal_status"] == "封印待ち" and e["proof_url"] is None for e in fresh)
    waiting = portal.get(f"{BASE}/persons/{head}/access-log/{fresh[0]['id']}/proof")
    assert waiting.status_code == 409 and waiting.json()["code"] == "not_sealed"

    seal_audit()
    entries = portal.get(f"{BASE}/persons/{head}/access-log").json()
    sealed = [e for e in entries if e["sealed"]]
    assert sealed == entries and all(e["seal_status"] == "封印済み" for e in entries)
    assert entries[0]["action"] == "linkage.access_log.read"  # the first listing, sealed since
    viewed = next(e for e in sealed if e["action"] == "registry.person.viewed")
    assert viewed["proof_url"] == f"{BASE}/persons/{head}/access-log/{viewed['id']}/proof"
    bundle = portal.get(viewed["proof_url"]).json()
    assert bundle["entry"]["seq"] == viewed["seq"] and bundle["entry"]["subject_id"] == head
    assert bundle["entry"]["action"] == "registry.person.viewed" and bundle["entry"]["actor_role"] == "registry_clerk"
    assert "住記" not in json.dumps(bundle, ensure_ascii=False)  # staff stay anonymous in the proof too
    assert proofcheck.check(bundle).ok
    # Issuing it is audited, and shows up in the list.
    again = portal.get(f"{BASE}/persons/{head}/access-log").json()
    assert again[0]["action"] == "linkage.access_log.proof_issued" and again[0]["seal_status"] == "封印待ち"


def test_a_proof_is_only_for_the_persons_own_entries(tokyo: list[str]) -> None:
    from tests.conftest import seal_audit

    head, wife = move_in_family(clerk_of(CHIYODA)).atena_numbers
    registry_queries.get_record(clerk_of(CHIYODA), wife)
    seal_audit()
    portal = system(["self.access_log"], name="住民ポータル")
    wifes = portal.get(f"{BASE}/persons/{wife}/access-log").json()
    entry_id = next(e["id"] for e in wifes if e["action"] == "registry.person.viewed")
    assert portal.get(f"{BASE}/persons/{wife}/access-log/{entry_id}/proof").status_code == 200
    assert portal.get(f"{BASE}/persons/{head}/access-log/{entry_id}/proof").status_code == 404
    other = system(["self.access_log"], name="other", lg_code=SHINJUKU)
    assert other.get(f"{BASE}/persons/{wife}/access-log/{entry_id}/proof").status_code == 404
    refused = system(["tax.resident_tax"], name="tax").get(f"{BASE}/persons/{wife}/access-log/{entry_id}/proof")
    assert refused.status_code == 403
