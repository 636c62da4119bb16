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
