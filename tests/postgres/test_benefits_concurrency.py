"""No duplicate payment under concurrency, on PostgreSQL as the app role under RLS.

Two submissions of the same household's application at the same moment, and two payment
batches started at once: the unique constraints decide, so exactly one application and one
payment per household exist afterwards. (Rows are committed in a municipality no other test
uses: the append-only tables cannot be cleaned.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import yaml
from django.db import connection

from lgcloud.benefits import actions, queries
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry import actions as registry

from .conftest import Seed, committed_municipality

BUNKYO = "131059"
PROGRAMME = Path(actions.__file__).parent / "programmes" / "tokubetsu-teigaku-2020.yaml"


def _municipality() -> TenantContext:
    return committed_municipality(BUNKYO)


def _race(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls in threads released together; each result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - the caller inspects what each call ended with
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_two_applications_at_once_and_two_batches_at_once_pay_each_household_once(
    seed: Seed, autocommit_db: None
) -> None:
    ctx = _municipality()
    heads = []
    for i in range(6):
        heads.append(
            registry.register_move_in(
                ctx,
                persons=[registry.NewPerson("並行", f"{i}", "ヘイコウ", "テスト", date(1980, 1, 1), "1", "head")],
                address=f"東京都文京区本郷{i}-1",
                effective_date=date(2025, 1, 6),
                filed_on=date(2025, 1, 6),
                previous_address="",
                confirm_duplicates=True,
            ).atena_numbers[0]
        )
    data = yaml.safe_load(PROGRAMME.read_bytes())
    data.update(code="race-test", reference_date=date(2025, 6, 1))
    actions.load_programme(ctx, data, source=PROGRAMME.read_bytes() + b"race")
    actions.determine_eligibility(ctx, "race-test")
    rows, _ = queries.list_entitlements(ctx, "race-test")
    by_head = {e.head_atena_number: e.household_number for e in rows}
    account = actions.AccountInput("0005", "001", 1, "1234567", "ヘイコウ テスト")

    for head in heads:  # the same household submits twice at the same moment (online and on paper)
        outcomes = _race(
            [
                lambda h=head, c=channel: actions.apply_for_benefit(  # type: ignore[misc]
                    ctx, "race-test", household_number=by_head[h], applicant_atena_number=h, channel=c, account=account
                )
                for channel in ("online", "paper")
            ]
        )
        refused = [o for o in outcomes if isinstance(o, actions.BenefitRefused)]
        assert len(refused) == 1 and refused[0].code == "already_applied", outcomes

    outcomes = _race(
        [lambda: actions.create_payment_batch(ctx, "race-test", transfer_date=date(2025, 7, 10)) for _ in range(2)]
    )
    # Whatever each batch ended with (finished, busy, or stopped by the constraint), nobody is paid twice …
    summary, batches = queries.get_programme(ctx, "race-test")
    assert summary.by_status.get("paid", 0) <= len(heads)
    # … and a rerun finishes the work: every household paid exactly once, in the files.
    actions.create_payment_batch(ctx, "race-test", transfer_date=date(2025, 7, 10))
    summary, batches = queries.get_programme(ctx, "race-test")
    assert summary.by_status == {"paid": len(heads)}, outcomes
    assert sum(b.count for b in batches if b.finished) == len(heads)
