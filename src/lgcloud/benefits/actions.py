"""給付 writes: programmes, eligibility runs, accounts, applications and payment batches (全銀 files).

Batches are core Jobs (resumable, idempotent, with ``dry_run``). Every write is one transaction
(a batch: one per chunk) with its audit record; the unique constraints in models.py make a
second payment to a household impossible whatever the callers do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from lgcloud.audit.actions import record as audit
from lgcloud.core import jobs
from lgcloud.core.bulk import insert_rows
from lgcloud.core.models import Job
from lgcloud.core.problems import Problem
from lgcloud.core.sequences import next_value
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.registry.queries import get_household, get_record, household_members_on

from . import banks
from .models import (
    Application,
    BankAccount,
    ChildAllowanceCase,
    ChildAllowanceChild,
    ChildAllowanceEvent,
    ChildAllowancePayment,
    Entitlement,
    Payment,
    PaymentBatch,
    Programme,
)
from .parameters import PARAMETERS, child_allowance_law
from .permissions import BenefitsPermission
from .rules import child_allowance as ca
from .rules import zengin
from .rules.flat_benefit import HouseholdEntitlement, ProgrammeDefinition, household_entitlements, parse_programme

WRITE = BenefitsPermission.CASE_WRITE
READ = BenefitsPermission.CASE_READ


class BenefitRefused(Exception):
    """A refusal with a stable code and a Japanese message; nothing was written."""

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field

    def problem(self) -> Problem:
        return Problem(409 if self.code in {"already_applied", "programme_changed"} else 400, self.code, self.message)


_ENTITLEMENT_COLUMNS = (
    "municipality_id",
    "programme_id",
    "household_number",
    "head_atena_number",
    "persons",
    "amount",
    "status",
    "job_id",
)

_PAYMENT_COLUMNS = (
    "municipality_id",
    "entitlement_id",
    "batch_id",
    "household_number",
    "amount",
    "bank_code",
    "branch_code",
    "account_type",
    "account_number",
    "holder_kana",
)


# --- programmes --------------------------------------------------------------------------------


def load_programme(ctx: TenantContext, data: dict[str, Any], *, source: bytes) -> Programme:
    """Load a programme file into the municipality; loading the same file again changes nothing."""
    ctx.require(WRITE)
    definition = parse_programme(data)
    sha = hashlib.sha256(source).hexdigest()
    top_up = int(PARAMETERS.value("emergency.local_top_up_per_person", definition.reference_date, ctx.tenant_code))
    with bound(ctx):
        existing = Programme.objects.filter(municipality_id=ctx.tenant_code, code=definition.code).first()
        if existing is not None:
            if existing.source_sha256 != sha:
                raise BenefitRefused(
                    "programme_changed",
                    "同じコードの別内容のプログラムが登録済みです。新しいコードで登録してください。",
                )
            return existing
        programme = Programme.objects.create(
            municipality_id=ctx.tenant_code,
            code=definition.code,
            name=definition.name,
            amount_per_person=definition.amount_per_person,
            top_up_per_person=top_up,
            reference_date=definition.reference_date,
            payee=definition.payee,
            mode=definition.mode,
            definition=_jsonable(data),
            source_sha256=sha,
            loaded_at=timezone.now(),
        )
        audit(ctx, "benefits.programme.loaded", subject_type="programme", subject_id=definition.code)
        return programme


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()}


def _programme(ctx: TenantContext, code: str) -> Programme:
    programme = Programme.objects.filter(municipality_id=ctx.tenant_code, code=code).first()
    if programme is None:
        raise BenefitRefused("unknown_programme", "給付プログラムが見つかりません。")
    return programme


def _definition_of(programme: Programme) -> ProgrammeDefinition:
    data = dict(programme.definition)
    data["reference_date"] = date.fromisoformat(str(data["reference_date"]))
    return parse_programme(data)


# --- eligibility -------------------------------------------------------------------------------


def determine_eligibility(
    ctx: TenantContext,
    code: str,
    *,
    dry_run: bool = False,
    chunk_size: int = 5000,
    on_progress: Callable[[Job], None] | None = None,
) -> Job:
    """List every household registered on the reference date with its amount (job ``benefits.eligibility``).

    First a read pass over the register on the reference date (households can straddle pages),
    then the entitlements are written in chunks by 世帯番号; a rerun resumes after the last one.
    """
    ctx.require(WRITE)
    with bound(ctx):
        programme = _programme(ctx, code)
    handle = jobs.open_job(
        ctx,
        kind="benefits.eligibility",
        key=code,
        permission=READ,
        label=f"{programme.name} 対象者抽出",
        params={"programme": code, "reference_date": programme.reference_date.isoformat()},
        dry_run=dry_run,
    )
    if handle.already_done:
        return handle.job
    members: list[tuple[str, str, bool]] = []
    after: str | None = ""
    while after is not None:
        page = household_members_on(ctx, programme.reference_date, after=after, limit=20000)
        members += page.members
        after = page.next_after
    entitled = household_entitlements(
        members, per_person=programme.amount_per_person, top_up_per_person=programme.top_up_per_person
    )
    jobs.set_total(ctx, handle, len(entitled))
    todo = [e for e in entitled if e.household_number > handle.checkpoint]
    job_id = None if dry_run else handle.job.pk

    def work(chunk: Sequence[HouseholdEntitlement]) -> jobs.ChunkOutcome:
        numbers = [e.household_number for e in chunk]
        have = set(
            Entitlement.objects.filter(
                municipality_id=ctx.tenant_code, programme=programme, household_number__in=numbers
            ).values_list("household_number", flat=True)
        )
        new = [
            (
                ctx.tenant_code,
                programme.pk,
                e.household_number,
                e.head_atena_number,
                e.persons,
                e.amount,
                "eligible",
                job_id,
            )
            for e in chunk
            if e.household_number not in have
        ]
        insert_rows(Entitlement, _ENTITLEMENT_COLUMNS, new)
        audit(
            ctx,
            "benefits.entitlement.listed",
            subject_type="programme",
            subject_id=f"{code}:{numbers[0]}-{numbers[-1]}",
            fields=[f"count:{len(new)}"],
        )
        return jobs.ChunkOutcome(done=len(new), skipped=len(have))

    jobs.run_chunks(
        ctx,
        handle,
        jobs.chunked(todo, chunk_size),
        work,
        item_key=lambda e: e.household_number,
        on_progress=on_progress,
    )
    return jobs.finish_job(
        ctx,
        handle,
        {
            "households": len(entitled),
            "persons": sum(e.persons for e in entitled),
            "amount": sum(e.amount for e in entitled),
        },
    )


# --- accounts and applications -----------------------------------------------------------------


@dataclass(frozen=True)
class AccountInput:
    bank_code: str
    branch_code: str
    account_type: int
    account_number: str
    holder_kana: str


def _check_account(account: AccountInput) -> None:
    if not (len(account.bank_code) == 4 and account.bank_code.isdigit()):
        raise BenefitRefused("invalid_account", "金融機関コードは4桁の数字です。", "bank_code")
    if not (len(account.branch_code) == 3 and account.branch_code.isdigit()):
        raise BenefitRefused("invalid_account", "支店コードは3桁の数字です。", "branch_code")
    if account.account_type not in (1, 2, 4, 9):
        raise BenefitRefused(
            "invalid_account", "預金種目は 1（普通）・2（当座）・4（貯蓄）・9（その他）です。", "account_type"
        )
    if not (1 <= len(account.account_number) <= 7 and account.account_number.isdigit()):
        raise BenefitRefused("invalid_account", "口座番号は7桁以内の数字です。", "account_number")
    try:
        banks.lookup(account.bank_code, account.branch_code)
    except banks.UnknownBank as exc:
        raise BenefitRefused("unknown_bank", str(exc), "bank_code") from None
    try:
        zengin.to_zengin_kana(account.holder_kana)
    except zengin.ZenginError:
        raise BenefitRefused("invalid_account", "口座名義はカナで入力してください。", "holder_kana") from None


def register_account(ctx: TenantContext, atena_number: str, source: str, account: AccountInput) -> BankAccount:
    """Record (or replace) a resident's account of ``source`` after checking the bank and branch codes."""
    ctx.require(WRITE)
    _check_account(account)
    with bound(ctx):
        row, _ = BankAccount.objects.update_or_create(
            municipality_id=ctx.tenant_code,
            atena_number=atena_number,
            source=source,
            defaults={
                "bank_code": account.bank_code,
                "branch_code": account.branch_code,
                "account_type": account.account_type,
                "account_number": account.account_number.zfill(7),
                "holder_kana": account.holder_kana,
                "registered_at": timezone.now(),
            },
        )
        audit(ctx, "benefits.account.registered", subject_type="person", subject_id=atena_number, fields=[source])
        return row


def import_public_funds_accounts(ctx: TenantContext, rows: Sequence[tuple[str, AccountInput]]) -> int:
    """Bulk 公金受取口座 (as the Digital Agency provides them): every row checked, all or nothing; returns the count.

    Existing public-funds accounts of the same persons are replaced.
    """
    ctx.require(WRITE)
    problems = []
    for atena, account in rows:
        try:
            _check_account(account)
        except BenefitRefused as exc:
            problems.append(f"{atena}: {exc.message}")
            if len(problems) >= 20:
                break
    if problems:
        raise BenefitRefused("invalid_account", "口座データに誤りがあります: " + " / ".join(problems))
    now = timezone.now()
    with bound(ctx):
        atenas = [a for a, _ in rows]
        for i in range(0, len(atenas), 5000):
            BankAccount.objects.filter(
                municipality_id=ctx.tenant_code,
                source=BankAccount.Source.PUBLIC_FUNDS,
                atena_number__in=atenas[i : i + 5000],
            ).delete()
        BankAccount.objects.bulk_create(
            [
                BankAccount(
                    municipality_id=ctx.tenant_code,
                    atena_number=atena,
                    source=BankAccount.Source.PUBLIC_FUNDS,
                    bank_code=a.bank_code,
                    branch_code=a.branch_code,
                    account_type=a.account_type,
                    account_number=a.account_number.zfill(7),
                    holder_kana=a.holder_kana,
                    registered_at=now,
                )
                for atena, a in rows
            ],
            batch_size=5000,
        )
        audit(
            ctx,
            "benefits.account.imported",
            subject_type="public_funds_accounts",
            subject_id=len(rows),
            fields=[f"count:{len(rows)}"],
        )
    return len(rows)


def apply_for_benefit(
    ctx: TenantContext,
    code: str,
    *,
    household_number: str,
    applicant_atena_number: str,
    channel: str,
    account: AccountInput,
) -> Application:
    """申請: only the 受給権者 (the 世帯主 on the reference date), only once per household."""
    ctx.require(WRITE)
    _check_account(account)
    with bound(ctx):
        programme = _programme(ctx, code)
        entitlement = Entitlement.objects.filter(
            municipality_id=ctx.tenant_code, programme=programme, household_number=household_number
        ).first()
        if entitlement is None:
            raise BenefitRefused("not_eligible", "この世帯は対象者一覧にありません。")
        if entitlement.head_atena_number != applicant_atena_number:
            raise BenefitRefused("not_payee", "申請できるのは受給権者（基準日の世帯主）です。", "applicant")
        try:
            with transaction.atomic():
                row = register_account(ctx, applicant_atena_number, BankAccount.Source.APPLICATION, account)
                application = Application.objects.create(
                    municipality_id=ctx.tenant_code,
                    entitlement=entitlement,
                    applicant_atena_number=applicant_atena_number,
                    channel=channel,
                    account=row,
                    received_at=timezone.now(),
                )
        except IntegrityError:
            # The unique constraint, not a prior check, decides: two submissions at once find it too.
            raise BenefitRefused("already_applied", "この世帯の申請は受付済みです。") from None
        Entitlement.objects.filter(pk=entitlement.pk, status=Entitlement.Status.ELIGIBLE).update(
            status=Entitlement.Status.APPLIED
        )
        audit(ctx, "benefits.application.received", subject_type="entitlement", subject_id=f"{code}:{household_number}")
        return application


# --- payment batches and the 全銀 file ----------------------------------------------------------


@dataclass(frozen=True)
class _Payable:
    entitlement_id: int
    household_number: str
    head_atena_number: str
    amount: int


def _payer(definition: ProgrammeDefinition) -> zengin.Payer:
    p = definition.payer
    branch = banks.lookup(str(p["bank_code"]), str(p["branch_code"]))
    return zengin.Payer(
        requester_code=str(p["requester_code"]),
        requester_name=str(p["requester_name"]),
        bank_code=branch.bank_code,
        bank_name=branch.bank_kana,
        branch_code=branch.branch_code,
        branch_name=branch.branch_kana,
        account_type=int(p["account_type"]),
        account_number=str(p["account_number"]),
    )


def _open_batch(ctx: TenantContext, programme: Programme, transfer_date: date) -> PaymentBatch:
    """The unfinished batch of this programme (a killed run), or a new one."""
    with bound(ctx):
        open_batch = (
            PaymentBatch.objects.filter(municipality_id=ctx.tenant_code, programme=programme, file_sha256="")
            .order_by("-batch_number")
            .first()
        )
        if open_batch is not None:
            return open_batch
        last = PaymentBatch.objects.filter(municipality_id=ctx.tenant_code, programme=programme).aggregate(
            n=Max("batch_number")
        )["n"]
        return PaymentBatch.objects.create(
            municipality_id=ctx.tenant_code,
            programme=programme,
            batch_number=(last or 0) + 1,
            transfer_date=transfer_date,
        )


def create_payment_batch(
    ctx: TenantContext,
    code: str,
    *,
    transfer_date: date,
    dry_run: bool = False,
    chunk_size: int = 5000,
    on_progress: Callable[[Job], None] | None = None,
) -> Job:
    """Pay every payable household not yet paid, into a 全銀 総合振込 file (job ``benefits.payment_batch``).

    Payable: push programmes pay the 受給権者's 公金受取口座; application programmes pay the
    account given on the application. A household without an account waits for the next batch.
    """
    ctx.require(WRITE)
    with bound(ctx):
        programme = _programme(ctx, code)
    definition = _definition_of(programme)
    payer = _payer(definition)
    if dry_run:
        batch = None
        key = f"{code}:dry-run"
    else:
        batch = _open_batch(ctx, programme, transfer_date)
        key = f"{code}:{batch.batch_number}"
    handle = jobs.open_job(
        ctx,
        kind="benefits.payment_batch",
        key=key,
        permission=READ,
        label=f"{programme.name} 振込データ作成" + (f"（第{batch.batch_number}回）" if batch else ""),
        params={"programme": code, "transfer_date": transfer_date.isoformat()},
        dry_run=dry_run,
    )
    if handle.already_done:
        return handle.job
    if batch is not None and batch.job_id is None:
        with bound(ctx):
            PaymentBatch.objects.filter(pk=batch.pk).update(job=handle.job)
    push = programme.mode == "push"

    def payables() -> Iterator[list[_Payable]]:
        last = handle.checkpoint
        while True:
            with bound(ctx):
                qs = Entitlement.objects.filter(
                    municipality_id=ctx.tenant_code, programme=programme, household_number__gt=last
                ).exclude(status=Entitlement.Status.PAID)
                if not push:
                    qs = qs.filter(status=Entitlement.Status.APPLIED)
                rows = [
                    _Payable(*r)
                    for r in qs.order_by("household_number").values_list(
                        "id", "household_number", "head_atena_number", "amount"
                    )[:chunk_size]
                ]
            if not rows:
                return
            yield rows
            last = rows[-1].household_number

    skipped_no_account = 0

    def work(chunk: Sequence[_Payable]) -> jobs.ChunkOutcome:
        nonlocal skipped_no_account
        ids = [p.entitlement_id for p in chunk]
        paid = set(
            Payment.objects.filter(municipality_id=ctx.tenant_code, entitlement_id__in=ids).values_list(
                "entitlement_id", flat=True
            )
        )
        if push:
            accounts = {
                a.atena_number: a
                for a in BankAccount.objects.filter(
                    municipality_id=ctx.tenant_code,
                    source=BankAccount.Source.PUBLIC_FUNDS,
                    atena_number__in=[p.head_atena_number for p in chunk],
                )
            }
            account_of = {p.entitlement_id: accounts.get(p.head_atena_number) for p in chunk}
        else:
            account_of = {
                a.entitlement_id: a.account
                for a in Application.objects.filter(
                    municipality_id=ctx.tenant_code, entitlement_id__in=ids
                ).select_related("account")
            }
        new = []
        for p in chunk:
            account = account_of.get(p.entitlement_id)
            if p.entitlement_id in paid:
                continue
            if account is None:
                skipped_no_account += 1
                continue
            new.append(
                (
                    ctx.tenant_code,
                    p.entitlement_id,
                    batch.pk if batch is not None else None,
                    p.household_number,
                    p.amount,
                    account.bank_code,
                    account.branch_code,
                    account.account_type,
                    account.account_number,
                    account.holder_kana,
                )
            )
        if not dry_run:
            insert_rows(Payment, _PAYMENT_COLUMNS, new)
            Entitlement.objects.filter(pk__in=[row[1] for row in new]).update(status=Entitlement.Status.PAID)
            audit(
                ctx,
                "benefits.payment.instructed",
                subject_type="payment_batch",
                subject_id=f"{code}:{batch.batch_number if batch else '-'}",
                fields=[f"count:{len(new)}"],
            )
        return jobs.ChunkOutcome(done=len(new), skipped=len(paid))

    jobs.run_chunks(ctx, handle, payables(), work, item_key=lambda p: p.household_number, on_progress=on_progress)
    if batch is None:
        return jobs.finish_job(ctx, handle, {"payable": handle.job.done, "no_account": skipped_no_account})
    content = write_transfer_file(ctx, batch, payer, transfer_date)
    return jobs.finish_job(
        ctx,
        handle,
        {"batch": batch.batch_number, "bytes": len(content), "no_account": skipped_no_account},
    )


def write_transfer_file(ctx: TenantContext, batch: PaymentBatch, payer: zengin.Payer, transfer_date: date) -> bytes:
    """Build the 全銀 file from the batch's committed payments (so a rerun builds the same file)."""
    with bound(ctx):
        rows = list(
            Payment.objects.filter(municipality_id=ctx.tenant_code, batch=batch)
            .order_by("household_number")
            .values_list(
                "bank_code",
                "branch_code",
                "account_type",
                "account_number",
                "holder_kana",
                "amount",
                "household_number",
            )
        )
    transfers = []
    for bank_code, branch_code, account_type, account_number, holder, amount, household in rows:
        branch = banks.lookup(bank_code, branch_code)
        transfers.append(
            zengin.Transfer(
                bank_code,
                branch.bank_kana,
                branch_code,
                branch.branch_kana,
                account_type,
                account_number,
                holder,
                amount,
                customer_code_1=household,
            )
        )
    content = zengin.transfer_file(payer, transfer_date, transfers)
    with bound(ctx):
        PaymentBatch.objects.filter(pk=batch.pk).update(
            count=len(transfers),
            total=sum(t.amount for t in transfers),
            file_name=f"zengin-{batch.programme.code}-{batch.batch_number:03d}.txt",
            file_content=content,
            file_sha256=hashlib.sha256(content).hexdigest(),
        )
        audit(
            ctx,
            "benefits.payment_batch.file_written",
            subject_type="payment_batch",
            subject_id=f"{batch.programme.code}:{batch.batch_number}",
            fields=[f"count:{len(transfers)}"],
        )
    return content


# --- 児童手当 ------------------------------------------------------------------------------------


def _case(ctx: TenantContext, case_number: int) -> ChildAllowanceCase:
    case = (
        ChildAllowanceCase.objects.select_for_update()
        .filter(municipality_id=ctx.tenant_code, case_number=case_number)
        .first()
    )
    if case is None:
        raise BenefitRefused("unknown_case", "児童手当の記録が見つかりません。")
    return case


def _children(case: ChildAllowanceCase) -> list[ChildAllowanceChild]:
    return list(ChildAllowanceChild.objects.filter(municipality_id=case.municipality_id, case=case))


def _case_amount(case: ChildAllowanceCase, children: list[ChildAllowanceChild], month: date) -> int:
    """The case's entitlement for ``month`` (0 outside its months or before 認定)."""
    if case.first_month is None or month < case.first_month or (case.last_month and month > case.last_month):
        return 0
    counted = [
        ca.Child(c.atena_number, c.birth_date, c.confirmation_form)
        for c in children
        if c.state != ChildAllowanceChild.State.PENDING
        and c.from_month is not None
        and c.from_month <= month
        and (c.until_month is None or month <= c.until_month)
    ]
    return ca.monthly_total(counted, month, child_allowance_law(month, case.municipality_id))


def _event(
    ctx: TenantContext, case: ChildAllowanceCase, kind: str, *, month: date | None, notice: bool, note: str = ""
) -> None:
    ChildAllowanceEvent.objects.create(
        municipality_id=ctx.tenant_code,
        case=case,
        kind=kind,
        effective_month=month,
        monthly_amount=case.monthly_amount,
        notice=notice,
        note=note[:200],
        occurred_at=timezone.now(),
        actor_name=ctx.actor_name,
    )
    audit(ctx, f"benefits.child_allowance.{kind}", subject_type="child_allowance_case", subject_id=case.case_number)


def open_child_allowance_case(
    ctx: TenantContext,
    *,
    claimant_atena_number: str,
    household_number: str,
    child_atena_number: str,
    child_birth_date: date,
    reason: str,
    on: date,
) -> ChildAllowanceCase:
    """申請勧奨: a pending case for the likely 請求者, or the child added to their open case (then 額改定 is needed)."""
    ctx.require(WRITE)
    with bound(ctx):
        case = (
            ChildAllowanceCase.objects.select_for_update()
            .filter(municipality_id=ctx.tenant_code, claimant_atena_number=claimant_atena_number)
            .exclude(state=ChildAllowanceCase.State.ENDED)
            .first()
        )
        created = case is None
        if case is None:
            case = ChildAllowanceCase.objects.create(
                municipality_id=ctx.tenant_code,
                case_number=next_value(ctx, "benefits.child_allowance_case"),
                claimant_atena_number=claimant_atena_number,
                household_number=household_number,
                opened_by=reason,
                opened_on=on,
            )
        _, added = ChildAllowanceChild.objects.get_or_create(
            municipality_id=ctx.tenant_code,
            case=case,
            atena_number=child_atena_number,
            defaults={"birth_date": child_birth_date},
        )
        if created:
            _event(ctx, case, "application_advised", month=None, notice=True, note=reason)
        elif added:
            note = "額改定請求の案内" if case.state == ChildAllowanceCase.State.APPROVED else reason
            _event(
                ctx, case, "child_added", month=None, notice=case.state == ChildAllowanceCase.State.APPROVED, note=note
            )
        return case


def claim_child_allowance(
    ctx: TenantContext, case_number: int, *, claimed_on: date, confirmation_forms: frozenset[str] = frozenset()
) -> ChildAllowanceCase:
    """認定請求（or 額改定請求 on an approved case): received on ``claimed_on``, with the 確認書 given."""
    ctx.require(WRITE)
    with bound(ctx):
        case = _case(ctx, case_number)
        if case.state == ChildAllowanceCase.State.ENDED:
            raise BenefitRefused("case_ended", "消滅した記録には請求できません。")
        if confirmation_forms:
            ChildAllowanceChild.objects.filter(case=case, atena_number__in=confirmation_forms).update(
                confirmation_form=True
            )
        if case.state == ChildAllowanceCase.State.APPROVED:
            return _amount_change(ctx, case, claimed_on)
        case.state = ChildAllowanceCase.State.CLAIMED
        case.claimed_on = claimed_on
        case.save(update_fields=["state", "claimed_on"])
        _event(ctx, case, "claimed", month=None, notice=False)
        return case


def approve_child_allowance(ctx: TenantContext, case_number: int, *, approved_on: date) -> ChildAllowanceCase:
    """認定: paid from the month after the 認定請求; the 認定通知書 is due."""
    ctx.require(WRITE)
    with bound(ctx):
        case = _case(ctx, case_number)
        if case.state != ChildAllowanceCase.State.CLAIMED or case.claimed_on is None:
            raise BenefitRefused("not_claimed", "認定請求を受け付けた記録だけを認定できます。")
        first = ca.first_month_of_entitlement(case.claimed_on)
        ChildAllowanceChild.objects.filter(case=case, state=ChildAllowanceChild.State.PENDING).update(
            state=ChildAllowanceChild.State.COUNTED, from_month=first
        )
        case.state = ChildAllowanceCase.State.APPROVED
        case.approved_on = approved_on
        case.first_month = first
        case.monthly_amount = _case_amount(case, _children(case), first)
        if case.monthly_amount == 0:
            raise BenefitRefused("no_eligible_child", "支給対象となる児童がいません。")
        case.save()
        _event(ctx, case, "approved", month=first, notice=True)
        return case


def _amount_change(ctx: TenantContext, case: ChildAllowanceCase, requested_on: date) -> ChildAllowanceCase:
    """額改定（増額）: pending children count from the month after the request."""
    month = ca.first_month_of_entitlement(requested_on)
    ChildAllowanceChild.objects.filter(case=case, state=ChildAllowanceChild.State.PENDING).update(
        state=ChildAllowanceChild.State.COUNTED, from_month=month
    )
    case.monthly_amount = _case_amount(case, _children(case), month)
    case.save(update_fields=["monthly_amount"])
    _event(ctx, case, "amount_changed", month=month, notice=True)
    return case


def remove_child(
    ctx: TenantContext, case_number: int, child_atena_number: str, *, on: date, reason: str
) -> ChildAllowanceCase:
    """A child leaves (death, moving out, leaving the claimant's care): 額改定（減額）, or 消滅 if none is left."""
    ctx.require(WRITE)
    with bound(ctx):
        case = _case(ctx, case_number)
        child = ChildAllowanceChild.objects.filter(case=case, atena_number=child_atena_number).first()
        if child is None or child.state == ChildAllowanceChild.State.REMOVED:
            return case
        last = ca.last_month_of_entitlement(on)
        child.state = ChildAllowanceChild.State.REMOVED
        child.until_month = last
        child.save(update_fields=["state", "until_month"])
        remaining = [c for c in _children(case) if c.state != ChildAllowanceChild.State.REMOVED]
        if not remaining:
            return _end(ctx, case, on, reason)
        if case.state == ChildAllowanceCase.State.APPROVED:
            next_month = ca.add_months(last, 1)
            case.monthly_amount = _case_amount(case, _children(case), next_month)
            case.save(update_fields=["monthly_amount"])
            _event(ctx, case, "amount_changed", month=next_month, notice=True, note=reason)
        return case


def end_child_allowance(ctx: TenantContext, case_number: int, *, on: date, reason: str) -> ChildAllowanceCase:
    """消滅 (the claimant died or moved out, …): paid through the month of the event."""
    ctx.require(WRITE)
    with bound(ctx):
        return _end(ctx, _case(ctx, case_number), on, reason)


def _end(ctx: TenantContext, case: ChildAllowanceCase, on: date, reason: str) -> ChildAllowanceCase:
    if case.state == ChildAllowanceCase.State.ENDED:
        return case
    was_approved = case.state == ChildAllowanceCase.State.APPROVED
    case.state = ChildAllowanceCase.State.ENDED
    case.end_reason = reason[:64]
    if was_approved:
        case.last_month = ca.last_month_of_entitlement(on)
    case.save(update_fields=["state", "end_reason", "last_month"])
    _event(ctx, case, "ended", month=case.last_month, notice=was_approved, note=reason)
    return case


def handle_registry_event(
    ctx: TenantContext, event_type: str, atena_number: str, effective_date: date | None, data: dict[str, Any]
) -> str:
    """React to a 異動 (called by the linkage consumer): what was done, as a short code (for tests and logs).

    出生・転入 of a child → a pending case for the household's 世帯主 (申請勧奨);
    死亡・転出 of a claimant → 消滅; of a child → 額改定 or 消滅.
    """
    on = effective_date or timezone.localdate()
    if event_type in ("registry.person.born", "registry.person.moved_in"):
        record = get_record(ctx, atena_number)
        law = child_allowance_law(ca.first_of_month(on), ctx.tenant_code)
        if on > ca.first_march_31_after(record.birth_date, law.eligible_age) or record.is_household_head:
            return "not_a_child"
        members = get_household(ctx, record.household_number, today=on)
        head = next((m for m in members if m.relationship == "head"), None)
        if head is None or head.atena_number == atena_number:
            return "no_claimant"
        reason = "出生" if event_type.endswith("born") else "転入"
        open_child_allowance_case(
            ctx,
            claimant_atena_number=head.atena_number,
            household_number=record.household_number,
            child_atena_number=atena_number,
            child_birth_date=record.birth_date,
            reason=reason,
            on=on,
        )
        return "case_opened"
    if event_type in ("registry.person.died", "registry.person.moved_out"):
        reason = "死亡" if event_type.endswith("died") else "転出"
        with bound(ctx):
            claimant_cases = list(
                ChildAllowanceCase.objects.filter(municipality_id=ctx.tenant_code, claimant_atena_number=atena_number)
                .exclude(state=ChildAllowanceCase.State.ENDED)
                .values_list("case_number", flat=True)
            )
            child_cases = list(
                ChildAllowanceChild.objects.filter(municipality_id=ctx.tenant_code, atena_number=atena_number)
                .exclude(case__state=ChildAllowanceCase.State.ENDED)
                .exclude(state=ChildAllowanceChild.State.REMOVED)
                .values_list("case__case_number", flat=True)
            )
        for number in claimant_cases:
            end_child_allowance(ctx, number, on=on, reason=f"受給者の{reason}")
        for number in child_cases:
            remove_child(ctx, number, atena_number, on=on, reason=f"児童の{reason}")
        return "case_ended" if claimant_cases else ("child_removed" if child_cases else "no_case")
    return "ignored"


def run_child_allowance_payments(
    ctx: TenantContext,
    pay_month: date,
    *,
    dry_run: bool = False,
    chunk_size: int = 2000,
    on_progress: Callable[[Job], None] | None = None,
) -> Job:
    """The payments of a pay month (even months from 2024-10) for every case entitled in the months it covers."""
    ctx.require(WRITE)
    pay_month = ca.first_of_month(pay_month)
    months = ca.months_paid_in(pay_month, lambda m: child_allowance_law(m, ctx.tenant_code))
    if not months:
        raise BenefitRefused("not_a_pay_month", "支払月ではありません（偶数月）。")
    handle = jobs.open_job(
        ctx,
        kind="benefits.child_allowance.payment",
        key=pay_month.isoformat(),
        permission=READ,
        label=f"児童手当 {pay_month.year}年{pay_month.month}月支払",
        params={"pay_month": pay_month.isoformat(), "months": [m.isoformat() for m in months]},
        dry_run=dry_run,
    )
    if handle.already_done:
        return handle.job
    with bound(ctx):
        numbers = list(
            ChildAllowanceCase.objects.filter(
                municipality_id=ctx.tenant_code,
                first_month__isnull=False,
                first_month__lte=months[-1],
            )
            .exclude(last_month__lt=months[0])
            .order_by("case_number")
            .values_list("case_number", flat=True)
        )
    checkpoint = int(handle.checkpoint or 0)
    todo = [n for n in numbers if n > checkpoint]
    job_id = None if dry_run else handle.job.pk

    def work(chunk: Sequence[int]) -> jobs.ChunkOutcome:
        out = jobs.ChunkOutcome()
        cases = list(ChildAllowanceCase.objects.filter(municipality_id=ctx.tenant_code, case_number__in=chunk))
        paid = set(
            ChildAllowancePayment.objects.filter(
                municipality_id=ctx.tenant_code, case__in=cases, pay_month=pay_month
            ).values_list("case_id", flat=True)
        )
        kids: dict[int, list[ChildAllowanceChild]] = {}
        for child in ChildAllowanceChild.objects.filter(municipality_id=ctx.tenant_code, case__in=cases):
            kids.setdefault(child.case_id, []).append(child)
        new = []
        for case in cases:
            if case.pk in paid:
                out.skipped += 1
                continue
            amount = sum(_case_amount(case, kids.get(case.pk, []), m) for m in months)
            if amount:
                new.append(
                    ChildAllowancePayment(
                        municipality_id=ctx.tenant_code,
                        case=case,
                        pay_month=pay_month,
                        months=[m.isoformat() for m in months],
                        amount=amount,
                        job_id=job_id,
                    )
                )
        ChildAllowancePayment.objects.bulk_create(new)
        out.done += len(new)
        if new:
            audit(
                ctx,
                "benefits.child_allowance.paid",
                subject_type="pay_month",
                subject_id=pay_month.isoformat(),
                fields=[f"count:{len(new)}"],
            )
        return out

    jobs.set_total(ctx, handle, len(numbers))
    jobs.run_chunks(
        ctx, handle, jobs.chunked(todo, chunk_size), work, item_key=lambda n: str(n), on_progress=on_progress
    )
    with bound(ctx):
        total = sum(
            ChildAllowancePayment.objects.filter(municipality_id=ctx.tenant_code, pay_month=pay_month).values_list(
                "amount", flat=True
            )
        )
    return jobs.finish_job(ctx, handle, {"months": [m.isoformat() for m in months], "amount": 0 if dry_run else total})
