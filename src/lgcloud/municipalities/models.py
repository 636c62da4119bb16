"""Municipalities: the tenants of the platform."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from lgcloud.core.checkdigits import CheckDigitError, validate_lg_code


def validate_lg_code_field(value: str) -> None:
    try:
        validate_lg_code(value)
    except CheckDigitError as exc:
        raise ValidationError(exc.message, code="invalid_lg_code") from None


class Municipality(models.Model):
    """A municipality (市区町村), keyed by its 6-digit 全国地方公共団体コード.

    This is platform reference data, not tenant-owned: every signed-in user may
    list municipalities. ``on_platform`` marks the ones whose data lives here.
    """

    class Kind(models.TextChoices):
        SPECIAL_WARD = "special_ward", "特別区"
        CITY = "city", "市"
        TOWN = "town", "町"
        VILLAGE = "village", "村"

    class Kyuchi(models.TextChoices):
        # 生活保護の級地区分: also decides the 個人住民税 均等割 非課税 threshold.
        GRADE_1_1 = "1-1", "1級地-1"
        GRADE_1_2 = "1-2", "1級地-2"
        GRADE_2_1 = "2-1", "2級地-1"
        GRADE_2_2 = "2-2", "2級地-2"
        GRADE_3_1 = "3-1", "3級地-1"
        GRADE_3_2 = "3-2", "3級地-2"

    lg_code = models.CharField("団体コード", max_length=6, primary_key=True, validators=[validate_lg_code_field])
    name = models.CharField("団体名", max_length=40)
    name_kana = models.CharField("団体名カナ", max_length=80)
    prefecture_code = models.CharField("都道府県コード", max_length=2)
    prefecture = models.CharField("都道府県", max_length=10)
    county = models.CharField("郡", max_length=20, blank=True)
    kind = models.CharField("区分", max_length=16, choices=Kind.choices)
    kyuchi = models.CharField("級地", max_length=3, choices=Kyuchi.choices, blank=True)
    on_platform = models.BooleanField("利用中", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["lg_code"]
        verbose_name = "団体"
        indexes = [models.Index(fields=["prefecture_code", "lg_code"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.lg_code}）"

    @property
    def full_name(self) -> str:
        return f"{self.prefecture}{self.county}{self.name}"


class AppChoice(models.Model):
    """Which implementation of a 業務 a municipality uses, from when: requested, then decided.

    The implementation active on a day is the approved choice of the 業務 with the latest
    ``effective_from`` not after that day: at most one per 業務. A 団体管理者 requests, the 運用者
    approves or rejects (both audited); the operator's onboarding and the verified switch
    (``lgcloud switch_app``) record approved choices directly.

    Platform data about municipalities, like :class:`Municipality` itself, not a municipality's own
    records: the operator reads every municipality's requests, so it is not under row-level security.
    """

    class State(models.TextChoices):
        REQUESTED = "requested", "承認待ち"
        APPROVED = "approved", "承認済み"
        REJECTED = "rejected", "却下"
        WITHDRAWN = "withdrawn", "取下げ"

    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+")
    gyomu = models.CharField("業務", max_length=3)
    app_id = models.CharField("実装", max_length=63)
    app_version = models.CharField("版", max_length=40, blank=True)
    effective_from = models.DateField("適用開始日")
    state = models.CharField("状態", max_length=10, choices=State.choices)
    note = models.CharField("申請の理由", max_length=500, blank=True)
    requested_by_name = models.CharField("申請者", max_length=150, blank=True)
    requested_at = models.DateTimeField("申請日時")
    decided_by_name = models.CharField("判断者", max_length=150, blank=True)
    decided_at = models.DateTimeField("判断日時", null=True, blank=True)
    decision_reason = models.CharField("判断の理由", max_length=500, blank=True)

    class Meta:
        verbose_name = "業務アプリの選択"
        indexes = [
            models.Index(fields=["municipality", "state", "gyomu", "effective_from"], name="app_choice_active_idx"),
            models.Index(fields=["state", "requested_at"], name="app_choice_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.municipality_id} {self.gyomu} → {self.app_id} ({self.effective_from}, {self.state})"
