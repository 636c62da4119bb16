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
