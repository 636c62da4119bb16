"""The audit log: appended without a lock, sealed into one Merkle tree per chain, tampering through raw SQL detected.

What ``lgcloud audit_verify`` proves about *sealed* records: any edit, deletion, insertion,
reordering or cut-off tail is reported, naming the first record that does not fit.
"""

import json
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import connection

from lgcloud.audit import merkle
from lgcloud.audit.actions import record
from lgcloud.audit.checkpoint import Checkpoint, Signer
from lgcloud.audit.hashing import entry, entry_leaf
from lgcloud.audit.models import AuditRecord, AuditSeal, AuditTreeHead
from lgcloud.audit.sealer import seal_pending
from lgcloud.audit.verify import verify_chain
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext, bound
from tests.conftest import seal_audit

pytestmark = pytest.mark.django_db

A, B = "131016", "131041"


def _ctx(lg_code: str | None) -> TenantContext:
    return TenantContext(
        lg_code=lg_code,
        actor_id=7,
        actor_name="監査 太郎",
        roles=frozenset({Role.COUNTER}),
        purpose="test",
        request_id="req-0001",
    )


def _fill(lg_code: str, n: int, *, seal_each: bool = False) -> list[AuditRecord]:
    ctx = _ctx(lg_code)
    out = []
    for i in range(n):
        with bound(ctx):
            out.append(
                record(
                    ctx, "registry.person.viewed", subject_type="person", subject_id=f"A{i}", fields=["name", "address"]
                )
            )
        if seal_each:
            seal_audit()
    return out


def _seq(r: AuditRecord) -> int:
    return AuditSeal.objects.get(record=r).seq


def _tamper(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _verify_fails_at(lg_code: str, seq: int, *extra: str) -> str:
    err = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("audit_verify", "--municipality", lg_code, *extra, stderr=err, stdout=StringIO())
    assert f"{lg_code} #{seq}" in str(exc.value)
    assert f"first bad record=#{seq}" in err.getvalue()
    return err.getvalue()


def test_appending_leaves_the_place_to_the_sealer(tokyo: list[str]) -> None:
    a = _fill(A, 3)
    assert not AuditSeal.objects.exists() and not AuditTreeHead.objects.exists()
    assert all(len(r.nonce) == 32 for r in a) and len({r.nonce for r in a}) == 3
    assert verify_chain(A).unsealed == 3  # waiting, not wrong
    assert seal_pending().sealed[A] == 3
    assert seal_audit() == 0  # each record is sealed once


def test_records_form_a_tree_per_municipality(tokyo: list[str]) -> None:
    a = _fill(A, 3)
    b = _fill(B, 2)
    seal_audit()
    assert [_seq(r) for r in a] == [1, 2, 3]
    assert [_seq(r) for r in b] == [1, 2]
    head = AuditTreeHead.objects.get(chain=A)
    assert head.tree_size == 3
    leaves = [merkle.leaf_hash(entry_leaf(entry(r, i))) for i, r in enumerate(a, start=1)]
    assert head.root_hash == merkle.root_of(leaves).hex()
    assert head.checkpoint.splitlines()[:2] == [f"127.0.0.1:8000/audit/{A}", "3"]
    first = entry(a[0], 1)
    assert first["actor_role"] == "counter" and first["fields"] == ["address", "name"]
    assert "監査 太郎" not in json.dumps(first, ensure_ascii=False)  # the actor is a commitment
    assert "req-0001" not in json.dumps(first)
    assert verify_chain(A).ok and verify_chain(A).records == 3
    assert verify_chain(B).records == 2


def test_later_batches_extend_the_same_tree_and_sign_a_head_each(tokyo: list[str]) -> None:
    records = _fill(A, 5, seal_each=True)
    assert [_seq(r) for r in records] == [1, 2, 3, 4, 5]
    assert list(AuditTreeHead.objects.filter(chain=A).order_by("tree_size").values_list("tree_size", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert verify_chain(A).ok and verify_chain(A).heads == 5


def test_intact_chains_exit_zero(tokyo: list[str]) -> None:
    _fill(A, 4)
    seal_audit()
    _fill(A, 1)  # not sealed yet: reported as waiting
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert "OK" in out.getvalue()
    assert "records intact" in out.getvalue()
    assert "封印待ち（未検証）: 1 records" in out.getvalue()


def test_an_edited_record_is_named(tokyo: list[str]) -> None:
    records = _fill(A, 5)
    seal_audit()
    _tamper("UPDATE audit_auditrecord SET actor_name = %s WHERE id = %s", ["別人", records[2].pk])
    assert "edited" in _verify_fails_at(A, 3)


def test_an_edited_field_list_is_caught(tokyo: list[str]) -> None:
    records = _fill(A, 3)
    seal_audit()
    _tamper("UPDATE audit_auditrecord SET fields = %s WHERE id = %s", ['["name"]', records[0].pk])
    _verify_fails_at(A, 1)


def test_a_deleted_record_is_named(tokyo: list[str]) -> None:
    records = _fill(A, 5)
    seal_audit()
    _tamper("DELETE FROM audit_auditseal WHERE record_id = %s", [records[1].pk])
    _tamper("DELETE FROM audit_auditrecord WHERE id = %s", [records[1].pk])
    assert "missing" in _verify_fails_at(A, 2)


def test_a_cut_off_tail_is_caught(tokyo: list[str]) -> None:
    records = _fill(A, 5)
    seal_audit()
    for r in records[3:]:
        _tamper("DELETE FROM audit_auditseal WHERE record_id = %s", [r.pk])
        _tamper("DELETE FROM audit_auditrecord WHERE id = %s", [r.pk])
    assert "chain head" in _verify_fails_at(A, 4)


def test_a_tail_cut_with_its_tree_heads_is_caught_by_a_witnessed_head(tokyo: list[str], tmp_path: Path) -> None:
    records = _fill(A, 5, seal_each=True)
    witnessed = StringIO()
    call_command("audit_tree_head", "--municipality", A, stdout=witnessed)  # what a witness keeps
    (tmp_path / "witness.json").write_text(witnessed.getvalue(), encoding="utf-8")
    for r in records[3:]:
        _tamper("DELETE FROM audit_auditseal WHERE record_id = %s", [r.pk])
        _tamper("DELETE FROM audit_auditrecord WHERE id = %s", [r.pk])
    _tamper("DELETE FROM audit_audittreehead WHERE chain = %s AND tree_size > 3", [A])
    assert verify_chain(A).ok  # the log alone now looks whole …
    assert "chain head says #5" in _verify_fails_at(A, 4, "--tree-head", str(tmp_path / "witness.json"))


def test_reordered_records_are_caught(tokyo: list[str]) -> None:
    records = _fill(A, 4)
    seal_audit()
    # Swap the places of #2 and #3 (through a free value, for the unique constraint).
    _tamper("UPDATE audit_auditseal SET seq = 999 WHERE record_id = %s", [records[1].pk])
    _tamper("UPDATE audit_auditseal SET seq = 2 WHERE record_id = %s", [records[2].pk])
    _tamper("UPDATE audit_auditseal SET seq = 3 WHERE record_id = %s", [records[1].pk])
    _verify_fails_at(A, 2)


def test_reordered_seals_with_swapped_hashes_are_caught_by_the_signed_root(tokyo: list[str]) -> None:
    """Swapping the places of #2 and #3 with their leaf hashes recomputed for the new places: the root differs."""
    records = _fill(A, 4)
    seal_audit()
    _tamper("UPDATE audit_auditseal SET seq = 999 WHERE record_id = %s", [records[1].pk])
    _tamper("UPDATE audit_auditseal SET seq = 2 WHERE record_id = %s", [records[2].pk])
    _tamper("UPDATE audit_auditseal SET seq = 3 WHERE record_id = %s", [records[1].pk])
    # … and every stored hash recomputed for the new order, as a thorough attacker would.
    rebuilt = merkle.Appender(0, [])
    for seq, r in enumerate([records[0], records[2], records[1], records[3]], start=1):
        leaf = merkle.leaf_hash(entry_leaf(entry(r, seq)))
        nodes = "".join(h.hex() for h in rebuilt.append(leaf))
        _tamper("UPDATE audit_auditseal SET leaf_hash = %s, nodes = %s WHERE record_id = %s", [leaf.hex(), nodes, r.pk])
    assert "do not give the root of the signed tree head of size 4" in _verify_fails_at(A, 1)


def test_a_recomputed_hash_still_breaks_the_signed_root(tokyo: list[str]) -> None:
    """An attacker who edits a record and recomputes its leaf and stored nodes cannot sign the new root."""
    records = _fill(A, 3, seal_each=True)
    target = AuditRecord.objects.get(pk=records[1].pk)
    target.actor_name = "別人"
    leaf = merkle.leaf_hash(entry_leaf(entry(target, 2)))
    first = bytes.fromhex(AuditSeal.objects.get(chain=A, seq=1).leaf_hash)
    _tamper(
        "UPDATE audit_auditrecord SET actor_name = %s WHERE id = %s",
        ["別人", target.pk],
    )
    _tamper(
        "UPDATE audit_auditseal SET leaf_hash = %s, nodes = %s WHERE chain = %s AND seq = 2",
        [leaf.hex(), merkle.node_hash(first, leaf).hex(), A],
    )
    assert "root of the signed tree head of size 2" in _verify_fails_at(A, 2)


def test_an_inserted_record_is_caught(tokyo: list[str]) -> None:
    """A forged record slipped in as #2, the later seals moved up one: the signed root no longer matches."""
    _fill(A, 3)
    seal_audit()
    ctx = _ctx(A)
    with bound(ctx):
        forged = record(ctx, "registry.person.viewed", subject_type="person", subject_id="FORGED")
    for seq in (3, 2):
        _tamper("UPDATE audit_auditseal SET seq = seq + 1 WHERE chain = %s AND seq = %s", [A, seq])
    leaf = merkle.leaf_hash(entry_leaf(entry(forged, 2))).hex()
    _tamper(
        "INSERT INTO audit_auditseal (municipality_id, chain, seq, record_id, leaf_hash, nodes)"
        " VALUES (%s, %s, 2, %s, %s, '')",
        [A, A, forged.pk, leaf],
    )
    out = _verify_fails_at(A, 2)
    assert "leaf hash" in out or "root" in out


def test_a_tree_head_signed_by_another_key_is_refused(tokyo: list[str]) -> None:
    """Rewriting the log and re-signing needs the sealer's key; any other key is not trusted."""
    records = _fill(A, 2)
    seal_audit()
    _tamper("UPDATE audit_auditrecord SET action = %s WHERE id = %s", ["x", records[0].pk])
    rebuilt = merkle.Appender(0, [])
    for seq, r in enumerate(AuditRecord.objects.filter(pk__in=[x.pk for x in records]).order_by("id"), start=1):
        leaf = merkle.leaf_hash(entry_leaf(entry(r, seq)))
        nodes = "".join(h.hex() for h in rebuilt.append(leaf))
        _tamper(
            "UPDATE audit_auditseal SET leaf_hash = %s, nodes = %s WHERE chain = %s AND seq = %s",
            [leaf.hex(), nodes, A, seq],
        )
    forger = Signer("127.0.0.1:8000/audit", Ed25519PrivateKey.generate())
    note = forger.sign(Checkpoint(f"127.0.0.1:8000/audit/{A}", 2, rebuilt.root()).text())
    _tamper(
        "UPDATE audit_audittreehead SET root_hash = %s, checkpoint = %s, verifier_key = %s WHERE chain = %s",
        [rebuilt.root().hex(), note, forger.verifier.encode(), A],
    )
    assert "untrusted key" in _verify_fails_at(A, 2)


def test_the_sealer_never_signs_over_an_altered_tree(tokyo: list[str]) -> None:
    _fill(A, 2)
    seal_audit()
    # The root of leaves 1–2, kept with #2: the frontier the next batch builds on.
    _tamper("UPDATE audit_auditseal SET nodes = %s WHERE chain = %s AND seq = 2", ["00" * 32, A])
    _fill(A, 1)
    done = seal_pending()
    assert A in done.refused and "does not fold to the signed root" in done.refused[A]
    assert AuditTreeHead.objects.filter(chain=A).count() == 1  # nothing new was signed
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="封印できないチェーン"):
        call_command("audit_seal", "--once", stdout=out, stderr=err)
    assert f"chain={A}" in err.getvalue()


def test_one_bad_chain_fails_the_whole_run_but_names_it(tokyo: list[str]) -> None:
    _fill(A, 2)
    records = _fill(B, 2)
    seal_audit()
    _tamper("UPDATE audit_auditrecord SET action = %s WHERE id = %s", ["x", records[0].pk])
    err = StringIO()
    with pytest.raises(CommandError, match=f"{B} #1"):
        call_command("audit_verify", stderr=err, stdout=StringIO())
    assert f"chain={A}" not in err.getvalue()


def test_unknown_municipality_is_a_clear_error(tokyo: list[str]) -> None:
    with pytest.raises(CommandError, match="団体コード 999999 の団体は登録されていません"):
        call_command("audit_verify", "--municipality", "999999")


def test_the_platform_chain_records_operator_work(tokyo: list[str]) -> None:
    ctx = _ctx(None)
    with bound(ctx):
        first = record(ctx, "municipalities.municipality.updated", subject_type="municipality", subject_id="131016")
    assert first.chain == "platform"
    assert first.municipality_id is None
    seal_audit()
    head = AuditTreeHead.objects.get(chain="platform")
    assert head.municipality_id is None and head.tree_size >= 1
    assert verify_chain(None).ok
    out = StringIO()
    call_command("audit_verify", "--municipality", "platform", stdout=out)
    assert "OK" in out.getvalue()


def test_the_seal_worker_reports_what_it_sealed(tokyo: list[str]) -> None:
    _fill(A, 2)
    _fill(B, 1)
    out = StringIO()
    call_command("audit_seal", "--once", stdout=out, stderr=StringIO())
    assert f"{A}: 2" in out.getvalue() and f"{B}: 1" in out.getvalue()
    with pytest.raises(CommandError, match="正の数"):
        call_command("audit_seal", "--once", "--interval", "0")


def test_a_small_pass_limit_seals_everything_over_several_passes(tokyo: list[str]) -> None:
    seal_audit()  # what loading Tokyo recorded on the platform chain
    records = _fill(A, 7)
    done = seal_pending(limit=3)
    assert done.sealed == {A: 7} and not done.full
    assert [_seq(r) for r in records] == list(range(1, 8))
    # Passes of at most 3 records, in id order: a signed tree head after each.
    assert list(AuditTreeHead.objects.filter(chain=A).order_by("id").values_list("tree_size", flat=True)) == [3, 6, 7]
    assert verify_chain(A).ok
