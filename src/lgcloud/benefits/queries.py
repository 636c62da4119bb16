"""給付 reads: tenant first, permission checked, reads of personal data audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Sum
from django.http import Http404

from lgcloud.audit.actions import record as audit
from lgcloud.contract import PlatformPermission
from lgcloud.core.tenancy import TenantContext, bound

from .models import (
    BankAccount,
    ChildAllowanceCase,
    ChildAllowanceChild,
    ChildAllowanceEvent,
    ChildAllowancePayment,
    Entitlement,
    PaymentBatch,
    Programme,
)
from .permissions import BenefitsPermission

READ = BenefitsPermission.CASE_READ
PAGE_SIZE = 50


@dataclass(frozen=True)
class ProgrammeSummary:
    code: str
    name: str
    mode: str
    reference_date: date
    amount_per_person: int
    top_up_per_person: int
    households: int
    amount: int
    by_status: dict[str, int]
    reference: str


@dataclass(frozen=True)
class BatchSummary:
    batch_number: int
    transfer_date: date
    count: int
    total: int
    file_name: str
    file_sha256: str
    job_id: int | None
    finished: bool


def _summary(p: Programme) -> ProgrammeSummary:
    agg = Entitlement.objects.filter(municipality_id=p.municipality_id, programme=p)
    totals = agg.aggregate(n=Count("id"), amount=Sum("amount"))
    by_status = dict(agg.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return ProgrammeSummary(
        p.code,
        p.name,
        p.mode,
        p.reference_date,
        p.amount_per_person,
        p.top_up_per_person,
        totals["n"] or 0,
        totals["amount"] or 0,
        by_status,
        str(p.definition.get("reference", "")),
    )


def list_programmes(ctx: TenantContext) -> list[ProgrammeSummary]:
    ctx.require(READ)
    with bound(ctx):
        return [_summary(p) for p in Programme.objects.filter(municipality_id=ctx.tenant_code).order_by("-loaded_at")]


def _programme(ctx: TenantContext, code: str) -> Programme:
    p = Programme.objects.filter(municipality_id=ctx.tenant_code, code=code).first()
    if p is None:
        raise Http404("給付プログラムが見つかりません。")
    return p


def get_programme(ctx: TenantContext, code: str) -> tuple[ProgrammeSummary, list[BatchSummary]]:
    ctx.require(READ)
    with bound(ctx):
        p = _programme(ctx, code)
        batches = [
            BatchSummary(
                b.batch_number,
                b.transfer_date,
                b.count,
                b.total,
                b.file_name,
                b.file_sha256,
                b.job_id,
                bool(b.file_sha256),
            )
            for b in PaymentBatch.objects.filter(municipality_id=ctx.tenant_code, programme=p).order_by("-batch_number")
        ]
        return _summary(p), batches


def list_entitlements(
    ctx: TenantContext, code: str, *, household_number: str = "", page: int = 1
) -> tuple[list[Entitlement], bool]:
    """One page of a programme's eligibility list (世帯番号 order)."""
    ctx.require(READ)
    with bound(ctx):
        p = _programme(ctx, code)
        qs = Entitlement.objects.filter(municipality_id=ctx.tenant_code, programme=p)
        if household_number:
            qs = qs.filter(household_number=household_number)
        start = (max(page, 1) - 1) * PAGE_SIZE
        rows = list(qs.order_by("household_number")[start : start + PAGE_SIZE + 1])
        audit(
            ctx,
            "benefits.entitlement.viewed",
            subject_type="programme",
            subject_id=code,
            fields=["household_number", "head_atena_number", "amount"],
        )
        return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def batch_file(ctx: TenantContext, code: str, batch_number: int) -> tuple[str, bytes]:
    """The 全銀 file of a finished batch (name, bytes); reading it is audited (it holds accounts)."""
    ctx.require(READ)
    with bound(ctx):
        p = _programme(ctx, code)
        b = (
            PaymentBatch.objects.filter(municipality_id=ctx.tenant_code, programme=p, batch_number=batch_number)
            .exclude(file_sha256="")
            .first()
        )
        if b is None or b.file_content is None:
            raise Http404("振込ファイルが見つかりません。")
        audit(
            ctx,
            "benefits.payment_batch.file_read",
            subject_type="payment_batch",
            subject_id=f"{code}:{batch_number}",
            fields=["accounts", "amounts"],
        )
        return b.file_name, bytes(b.file_content)


def batch_file_for_job(ctx: TenantContext, job_id: int) -> tuple[str, bytes]:
    ctx.require(READ)
    with bound(ctx):
        b = (
            PaymentBatch.objects.filter(municipality_id=ctx.tenant_code, job_id=job_id)
            .select_related("programme")
            .first()
        )
        if b is None:
            raise Http404("振込ファイルが見つかりません。")
        code, number = b.programme.code, b.batch_number
    return batch_file(ctx, code, number)


# --- for the online application (procedures) ------------------------------------------------------


@dataclass(frozen=True)
class OpenProgramme:
    code: str
    name: str
    reference_date: date


def programmes_open_for_application(ctx: TenantContext) -> list[OpenProgramme]:
    """Programmes of the municipality taking applications: mode ``application`` with an eligibility list.

    Names and dates only (no personal data), so any context of the municipality may read them:
    the residents' portal offers them as the choices of the application form.
    """
    with bound(ctx):
        rows = (
            Programme.objects.filter(municipality_id=ctx.tenant_code, mode="application", entitlements__isnull=False)
            .distinct()
            .order_by("-reference_date", "code")
        )
        return [OpenProgramme(p.code, p.name, p.reference_date) for p in rows]


@dataclass(frozen=True)
class AccountOnFile:
    bank_code: str
    branch_code: str
    account_type: int
    account_number: str
    holder_kana: str


def public_funds_account(ctx: TenantContext, atena_number: str) -> AccountOnFile | None:
    """The person's 公金受取口座 on file, or None. Staff need ``benefits:case:read``, or
    ``procedures:counter:assist`` while filing with the resident at the counter; a resident filing a
    procedure (``resident:procedure:file``) reads only their own (the caller passes it). Audited."""
    if not (ctx.has(PlatformPermission.RESIDENT_FILE) or ctx.has(PlatformPermission.COUNTER_ASSIST)):
        ctx.require(READ)
    with bound(ctx):
        row = BankAccount.objects.filter(
            municipality_id=ctx.tenant_code, atena_number=atena_number, source=BankAccount.Source.PUBLIC_FUNDS
        ).first()
        audit(ctx, "benefits.account.viewed", subject_type="person", subject_id=atena_number, fields=["public_funds"])
        if row is None:
            return None
        return AccountOnFile(row.bank_code, row.branch_code, row.account_type, row.account_number, row.holder_kana)


# --- 児童手当 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseDetail:
    case: ChildAllowanceCase
    children: list[ChildAllowanceChild]
    events: list[ChildAllowanceEvent]
    payments: list[ChildAllowancePayment]


def list_child_allowance_cases(
    ctx: TenantContext, *, state: str = "", page: int = 1
) -> tuple[list[ChildAllowanceCase], bool]:
    ctx.require(READ)
    with bound(ctx):
        qs = ChildAllowanceCase.objects.filter(municipality_id=ctx.tenant_code)
        if state:
            qs = qs.filter(state=state)
        start = (max(page, 1) - 1) * PAGE_SIZE
        rows = list(qs.order_by("-case_number")[start : start + PAGE_SIZE + 1])
        audit(
            ctx,
            "benefits.child_allowance.listed",
            subject_type="child_allowance_cases",
            subject_id=state or "all",
            fields=["claimant", "state", "monthly_amount"],
        )
        return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def get_child_allowance_case(ctx: TenantContext, case_number: int) -> CaseDetail:
    ctx.require(READ)
    with bound(ctx):
        case = ChildAllowanceCase.objects.filter(municipality_id=ctx.tenant_code, case_number=case_number).first()
        if case is None:
            raise Http404("児童手当の記録が見つかりません。")
        audit(
            ctx,
            "benefits.child_allowance.viewed",
            subject_type="child_allowance_case",
            subject_id=case_number,
            fields=["claimant", "children", "events", "payments"],
        )
        return CaseDetail(
            case,
            list(case.children.order_by("birth_date")),
            list(case.events.order_by("occurred_at", "id")),
            list(case.payments.order_by("pay_month")),
        )
