"""住民記録: persons, households, 異動 (immutable) and the versions they produce.

``Person`` holds the current 住民票 as a projection for search and lists;
``PersonVersion`` rows are the history (a full record per 異動, effective from
its 異動日), so the state on any past date can be derived. Neither a Change nor
a PersonVersion is ever updated: corrections are new rows that point back.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from lgcloud.core.models import TenantModel

from .codes import ChangeType, IssueChannel, Relationship, ResidentStatus, Sex


class Household(TenantModel):
    household_number = models.CharField("世帯番号", max_length=10)
    created_on = models.DateField("世帯の成立日")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "household_number"], name="household_number_uniq")
        ]

    def __str__(self) -> str:
        return self.household_number


class Person(TenantModel):
    atena_number = models.CharField("宛名番号", max_length=10)
    resident_code = models.CharField("住民票コード", max_length=11, blank=True)
    individual_number_ciphertext = models.BinaryField("個人番号（暗号化）", null=True, editable=False)
    status = models.CharField(max_length=16, choices=ResidentStatus.choices, default=ResidentStatus.RESIDENT)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members")
    relationship = models.CharField("続柄", max_length=24, choices=Relationship.choices)
    is_household_head = models.BooleanField(default=False)
    family_name = models.CharField("氏", max_length=100)
    given_name = models.CharField("名", max_length=100, blank=True)
    family_name_kana = models.CharField("氏（カナ）", max_length=100)
    given_name_kana = models.CharField("名（カナ）", max_length=100, blank=True)
    birth_date = models.DateField("生年月日")
    sex = models.CharField("性別", max_length=1, choices=Sex.choices)
    address = models.CharField("住所", max_length=200)
    address_detail = models.CharField("方書", max_length=100, blank=True)
    is_foreign = models.BooleanField(default=False)
    # Search keys: folded for search, never shown (names are stored as entered in the record).
    name_key = models.CharField(max_length=200, db_index=False)
    kana_key = models.CharField(max_length=200, db_index=False)
    address_key = models.CharField(max_length=300, db_index=False)
    record = models.JSONField("現在の住民票")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "atena_number"], name="person_atena_uniq"),
            # The last wall behind the rule "one 世帯主 per household".
            models.UniqueConstraint(
                fields=["municipality", "household"],
                condition=Q(is_household_head=True) & ~Q(status="removed"),
                name="person_one_head_per_household",
            ),
        ]
        indexes = [
            models.Index(fields=["municipality", "name_key"], name="person_name_key_idx"),
            models.Index(fields=["municipality", "kana_key"], name="person_kana_key_idx"),
            models.Index(fields=["municipality", "birth_date"], name="person_birth_idx"),
            models.Index(fields=["municipality", "address_key"], name="person_address_key_idx"),
            models.Index(fields=["municipality", "household"], name="person_household_idx"),
            # The kiosk finds a resident by the 住民票コード on the card: one index probe, not a scan.
            models.Index(fields=["municipality", "resident_code"], name="person_resident_code_idx"),
        ]

    def __str__(self) -> str:
        return self.atena_number


class Change(TenantModel):
    """One 異動: what happened, when it took effect, when it was filed and processed, by whom, why."""

    change_number = models.PositiveBigIntegerField("異動番号")
    change_type = models.CharField("異動事由", max_length=32, choices=ChangeType.choices)
    effective_date = models.DateField("異動日")
    filed_on = models.DateField("届出日", null=True, blank=True)
    processed_at = models.DateTimeField("処理日時")
    actor_id = models.BigIntegerField(null=True)
    actor_name = models.CharField(max_length=150)
    reason = models.TextField("理由・備考", blank=True)
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    late_filing = models.BooleanField("届出期間経過", default=False)
    details = models.JSONField(default=dict)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "change_number"], name="change_number_uniq")]
        indexes = [
            models.Index(fields=["municipality", "late_filing", "effective_date"], name="change_late_idx"),
            models.Index(fields=["municipality", "effective_date"], name="change_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.change_number} {self.change_type}"


class PersonVersion(TenantModel):
    """The whole 住民票 of one person from ``effective_date`` on, as produced by ``change``."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="versions")
    change = models.ForeignKey(Change, on_delete=models.PROTECT, related_name="versions")
    effective_date = models.DateField()
    record = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["municipality", "person", "effective_date", "id"], name="version_asof_idx")]


class ProtectionOrder(TenantModel):
    """DV等支援措置 for one person (and, as separate orders, co-resident family) — 1 year, extendable."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="protection_orders")
    applicant = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    starts_on = models.DateField("開始日")
    expires_on = models.DateField("終了予定日")
    ended_on = models.DateField("終了日", null=True, blank=True)
    # The 相手方 (aggressor) as known to the municipality; requests naming them are refused.
    adversary_name_key = models.CharField(max_length=200, blank=True)
    adversary_birth_date = models.DateField(null=True, blank=True)
    adversary_display = models.CharField("相手方", max_length=200, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["municipality", "person", "expires_on"], name="protection_person_idx")]


class Certificate(TenantModel):
    """An issued 住民票の写し etc.: the issue number, what was printed, and its verification code."""

    issue_number = models.PositiveBigIntegerField("交付番号")
    kind = models.CharField(max_length=32)
    channel = models.CharField(max_length=16, choices=IssueChannel.choices)
    persons = models.JSONField(default=list)  # 宛名番号 printed, in order
    options = models.JSONField(default=dict)
    requester = models.JSONField(default=dict)
    fee_yen = models.PositiveIntegerField(default=0)
    verification_code = models.CharField(max_length=32, unique=True)
    pdf_sha256 = models.CharField(max_length=64)
    issued_at = models.DateTimeField()
    issued_by = models.CharField(max_length=150)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "issue_number"], name="certificate_issue_uniq")]


class KioskCredential(TenantModel):
    """A resident's PIN for the コンビニ交付 kiosk (the 利用者証明用電子証明書 PIN analogue).

    One per person. Only the hash is stored (Django's password hashers). Three wrong
    PINs in a row lock it, as a My Number card's 4-digit PIN does; the counter sets a
    new PIN to unlock it.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    pin_hash = models.CharField(max_length=256)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "person"], name="kiosk_credential_person_uniq")]

    def __str__(self) -> str:
        return f"kiosk credential of person {self.person_id}"
