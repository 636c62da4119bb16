"""給付: flat programmes defined as data, their per-household entitlements, accounts, payments and 全銀 files.

The database makes a duplicate payment impossible: one entitlement per household and
programme, one application per entitlement, and one payment per entitlement — all unique
constraints led by the municipality, so neither a rerun, nor two staff at once, nor a raw
INSERT can pay a household twice.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from lgcloud.core.models import Job, TenantModel


class Programme(TenantModel):
    code = models.CharField("コード", max_length=40)
    name = models.CharField("名称", max_length=200)
    amount_per_person = models.PositiveIntegerField("1人あたりの額")
    top_up_per_person = models.PositiveIntegerField("団体の上乗せ（1人あたり）", default=0)
    reference_date = models.DateField("基準日")
    payee = models.CharField("受給権者", max_length=20)
    mode = models.CharField("方式", max_length=16)
    definition = models.JSONField("定義（プログラムファイル）")
    source_sha256 = models.CharField(max_length=64)
    loaded_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "code"], name="programme_code_uniq")]


class Entitlement(TenantModel):
    class Status(models.TextChoices):
        ELIGIBLE = "eligible", "対象"
        APPLIED = "applied", "申請済み"
        PAID = "paid", "支払済み"

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="entitlements")
    household_number = models.CharField("世帯番号", max_length=10)
    head_atena_number = models.CharField("受給権者（世帯主）", max_length=10)
    persons = models.PositiveSmallIntegerField("対象者数")
    amount = models.PositiveIntegerField("給付額")
    status = models.CharField("状態", max_length=16, choices=Status.choices, default=Status.ELIGIBLE)
    job = models.ForeignKey(Job, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "programme", "household_number"], name="entitlement_household_uniq"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(persons__gt=0), name="entitlement_positive"),
        ]
        indexes = [models.Index(fields=["municipality", "programme", "status"], name="entitlement_status_idx")]


class BankAccount(TenantModel):
    """A resident's account: the 公金受取口座 (registered with the Digital Agency) or one given on an application."""

    class Source(models.TextChoices):
        PUBLIC_FUNDS = "public_funds", "公金受取口座"
        APPLICATION = "application", "申請時の口座"

    atena_number = models.CharField("宛名番号", max_length=10)
    source = models.CharField("種別", max_length=16, choices=Source.choices)
    bank_code = models.CharField("金融機関コード", max_length=4)
    branch_code = models.CharField("支店コード", max_length=3)
    account_type = models.PositiveSmallIntegerField("預金種目")
    account_number = models.CharField("口座番号", max_length=7)
    holder_kana = models.CharField("口座名義（カナ）", max_length=60)
    registered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "atena_number", "source"], name="bank_account_uniq"),
            models.CheckConstraint(condition=Q(account_type__in=[1, 2, 4, 9]), name="bank_account_type"),
        ]


class Application(TenantModel):
    """申請: at most one per entitlement, whichever channel (online, paper) it came by."""

    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="+")
    applicant_atena_number = models.CharField("申請者", max_length=10)
    channel = models.CharField("申請方法", max_length=16)
    account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "entitlement"], name="application_once")]


class PaymentBatch(TenantModel):
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="batches")
    batch_number = models.PositiveIntegerField("バッチ番号")
    transfer_date = models.DateField("振込指定日")
    job = models.ForeignKey(Job, on_delete=models.PROTECT, null=True, related_name="+")
    count = models.PositiveIntegerField("件数", default=0)
    total = models.BigIntegerField("合計金額", default=0)
    file_name = models.CharField(max_length=100, blank=True)
    file_content = models.BinaryField("全銀ファイル", null=True, editable=False)
    file_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "programme", "batch_number"], name="payment_batch_uniq")
        ]


class Payment(TenantModel):
    """One transfer. ``(municipality, entitlement)`` is unique: a household is paid once, ever."""

    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="payments")
    household_number = models.CharField(max_length=10)
    amount = models.PositiveIntegerField()
    bank_code = models.CharField(max_length=4)
    branch_code = models.CharField(max_length=3)
    account_type = models.PositiveSmallIntegerField()
    account_number = models.CharField(max_length=7)
    holder_kana = models.CharField(max_length=60)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "entitlement"], name="payment_once_per_entitlement"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive"),
        ]
        indexes = [models.Index(fields=["municipality", "batch", "household_number"], name="payment_batch_idx")]


class ChildAllowanceCase(TenantModel):
    """児童手当の受給者（請求者）1人の記録: 申請勧奨 → 認定請求 → 認定 → 消滅."""

    class State(models.TextChoices):
        PENDING = "pending", "申請勧奨中"
        CLAIMED = "claimed", "認定請求受付"
        APPROVED = "approved", "認定"
        ENDED = "ended", "消滅"

    case_number = models.PositiveIntegerField("受給者番号")
    claimant_atena_number = models.CharField("請求者（宛名番号）", max_length=10)
    household_number = models.CharField("世帯番号", max_length=10)
    state = models.CharField("状態", max_length=16, choices=State.choices, default=State.PENDING)
    opened_by = models.CharField("きっかけ", max_length=32)
    opened_on = models.DateField("記録日")
    claimed_on = models.DateField("認定請求日", null=True)
    approved_on = models.DateField("認定日", null=True)
    first_month = models.DateField("支給開始月", null=True)
    last_month = models.DateField("支給終了月", null=True)
    end_reason = models.CharField("消滅事由", max_length=64, blank=True)
    monthly_amount = models.PositiveIntegerField("月額（直近）", default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "case_number"], name="child_allowance_case_number_uniq"),
            # One open case per claimant: a second birth or move-in adds to it, never opens another.
            models.UniqueConstraint(
                fields=["municipality", "claimant_atena_number"],
                condition=~Q(state="ended"),
                name="child_allowance_one_open_case",
            ),
        ]
        indexes = [models.Index(fields=["municipality", "state"], name="child_allowance_state_idx")]


class ChildAllowanceChild(TenantModel):
    class State(models.TextChoices):
        PENDING = "pending", "額改定前（請求待ち）"
        COUNTED = "counted", "算定中"
        REMOVED = "removed", "対象外"

    case = models.ForeignKey(ChildAllowanceCase, on_delete=models.PROTECT, related_name="children")
    atena_number = models.CharField("児童（宛名番号）", max_length=10)
    birth_date = models.DateField("生年月日")
    confirmation_form = models.BooleanField("確認書（監護相当・生計費の負担）", default=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    from_month = models.DateField("算定開始月", null=True)
    until_month = models.DateField("算定終了月", null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "case", "atena_number"], name="child_allowance_child_uniq")
        ]


class ChildAllowanceEvent(TenantModel):
    """What happened to a case (and the notice it needs: 認定・額改定・消滅 only). Append-only."""

    case = models.ForeignKey(ChildAllowanceCase, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=32)
    effective_month = models.DateField(null=True)
    monthly_amount = models.PositiveIntegerField(default=0)
    notice = models.BooleanField("通知書を送る", default=False)
    note = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    actor_name = models.CharField(max_length=150)

    class Meta:
        indexes = [models.Index(fields=["municipality", "case", "occurred_at"], name="child_allowance_event_idx")]


class ChildAllowancePayment(TenantModel):
    """One pay month's payment of a case (the months it covers and the amount). Once per case and pay month."""

    case = models.ForeignKey(ChildAllowanceCase, on_delete=models.PROTECT, related_name="payments")
    pay_month = models.DateField("支払月")
    months = models.JSONField("対象月")
    amount = models.PositiveIntegerField("支払額")
    job = models.ForeignKey(Job, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "case", "pay_month"], name="child_allowance_paid_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="child_allowance_payment_positive"),
        ]
