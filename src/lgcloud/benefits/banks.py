"""Bank and branch codes checked against the zengin-code package's data (全銀協 金融機関コード)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class BankBranch:
    bank_code: str
    bank_kana: str
    branch_code: str
    branch_kana: str


class UnknownBank(ValueError):
    pass


@lru_cache(maxsize=1)
def _banks() -> dict[str, object]:
    from zengin_code import Bank

    return dict(Bank.all)


@lru_cache(maxsize=65536)
def lookup(bank_code: str, branch_code: str) -> BankBranch:
    """The bank and branch, or UnknownBank (Japanese message) if either code does not exist."""
    bank = _banks().get(bank_code)
    if bank is None:
        raise UnknownBank("金融機関コードが見つかりません。")
    branch = bank.branches.get(branch_code)  # type: ignore[attr-defined]
    if branch is None:
        raise UnknownBank("支店コードが見つかりません。")
    return BankBranch(bank_code, bank.kana, branch_code, branch.kana)  # type: ignore[attr-defined]


def sample_branches(limit: int = 200) -> list[BankBranch]:
    """Real bank/branch pairs (for synthetic towns in the demo and the benchmark)."""
    out: list[BankBranch] = []
    for code in sorted(_banks()):
        bank = _banks()[code]
        for bcode in sorted(bank.branches)[:5]:  # type: ignore[attr-defined]
            out.append(lookup(code, bcode))
            if len(out) >= limit:
                return out
    return out
