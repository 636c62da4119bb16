"""The audit log is a hash chain per municipality: tampering through raw SQL is detected."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from lgcloud.audit.actions import record
from lgcloud.audit.models import GENESIS_HASH, AuditRecord
from lgcloud.audit.verify import verify_chain
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext, bound

pytestmark = pytest.mark.django_db


def _ctx(lg_code: str | None) -> TenantContext:
    return TenantContext(
        lg_code=lg_code,
        actor_id=7,
        actor_name="監査 太郎",
        roles=frozenset({Role.COUNTER}),
        purpose="test",
        request_id="req-0001",
    )


def _fill(lg_code: str, n: int) -> list[AuditRecord]:
    ctx = _ctx(lg_code)
    with bound(ctx):
        return [
            record(ctx, "registry.person.viewed", subject_type="person", subject_id=f"A{i}", fields=["name", "address"])
            for i in range(n)
        ]


def test_records_form_a_chain_per_municipality(tokyo: list[str]) -> None:
    a = _fill("131016", 3)
    b = _fill("131041", 2)
    assert [r.seq for r in a] == [1, 2, 3]
    assert [r.seq for r in b] == [1, 2]
    assert a[0].prev_hash == GENESIS_HASH
    assert a[1].prev_hash == a[0].hash
    assert a[0].actor_name == "監査 太郎"
    assert a[0].actor_role == "counter"
    assert a[0].request_id == "req-0001"
    assert a[0].fields == ["address", "name"]
    assert verify_chain("131016").ok
    assert verify_chain("131041").records == 2


def _tamper(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _verify_fails_at(lg_code: str, seq: int) -> str:
    err = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("audit_verify", "--municipality", lg_code, stderr=err, stdout=StringIO())
    assert f"{lg_code} #{seq}" in str(exc.value)
    assert f"first bad record=#{seq}" in err.getvalue()
    return err.getvalue()


def test_intact_chains_exit_zero(tokyo: list[str]) -> None:
    _fill("131016", 4)
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert "OK" in out.getvalue()
    assert "records intact" in out.getvalue()


def test_an_edited_record_is_named(tokyo: list[str]) -> None:
    records = _fill("131016", 5)
    _tamper("UPDATE audit_auditrecord SET actor_name = %s WHERE id = %s", ["別人", records[2].pk])
    assert "edited" in _verify_fails_at("131016", 3)


def test_an_edited_field_list_is_caught(tokyo: list[str]) -> None:
    records = _fill("131016", 3)
    _tamper("UPDATE audit_auditrecord SET fields = %s WHERE id = %s", ['["name"]', records[0].pk])
    _verify_fails_at("131016", 1)


def test_a_deleted_record_is_named(tokyo: list[str]) -> None:
    records = _fill("131016", 5)
    _tamper("DELETE FROM audit_auditrecord WHERE id = %s", [records[1].pk])
    assert "missing" in _verify_fails_at("131016", 2)


def test_a_cut_off_tail_is_caught(tokyo: list[str]) -> None:
    records = _fill("131016", 5)
    _tamper("DELETE FROM audit_auditrecord WHERE id IN (%s, %s)", [records[3].pk, records[4].pk])
    assert "chain head" in _verify_fails_at("131016", 4)


def test_reordered_records_are_caught(tokyo: list[str]) -> None:
    records = _fill("131016", 4)
    # Swap the sequence numbers of #2 and #3 (through a free value, for the unique constraint).
    _tamper("UPDATE audit_auditrecord SET seq = 999 WHERE id = %s", [records[1].pk])
    _tamper("UPDATE audit_auditrecord SET seq = 2 WHERE id = %s", [records[2].pk])
    _tamper("UPDATE audit_auditrecord SET seq = 3 WHERE id = %s", [records[1].pk])
    _verify_fails_at("131016", 2)


def test_a_recomputed_hash_still_breaks_the_link(tokyo: list[str]) -> None:
    """An attacker who edits a record and fixes its own hash breaks the next record's prev_hash."""
    from lgcloud.audit.hashing import record_hash

    records = _fill("131016", 3)
    target = AuditRecord.objects.get(pk=records[1].pk)
    target.actor_name = "別人"
    new_hash = record_hash(target)
    _tamper("UPDATE audit_auditrecord SET actor_name = %s, hash = %s WHERE id = %s", ["別人", new_hash, target.pk])
    assert "prev_hash" in _verify_fails_at("131016", 3)


def test_one_bad_chain_fails_the_whole_run_but_names_it(tokyo: list[str]) -> None:
    _fill("131016", 2)
    records = _fill("131041", 2)
    _tamper("UPDATE audit_auditrecord SET action = %s WHERE id = %s", ["x", records[0].pk])
    err = StringIO()
    with pytest.raises(CommandError, match="131041 #1"):
        call_command("audit_verify", stderr=err, stdout=StringIO())
    assert "chain=131016" not in err.getvalue()


def test_unknown_municipality_is_a_clear_error(tokyo: list[str]) -> None:
    with pytest.raises(CommandError, match="団体コード 999999 の団体は登録されていません"):
        call_command("audit_verify", "--municipality", "999999")


def test_the_platform_chain_records_operator_work(tokyo: list[str]) -> None:
    ctx = _ctx(None)
    with bound(ctx):
        first = record(ctx, "municipalities.municipality.updated", subject_type="municipality", subject_id="131016")
    assert first.chain == "platform"
    assert first.municipality_id is None
    assert verify_chain(None).ok
