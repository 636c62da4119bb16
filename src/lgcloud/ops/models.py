"""運用監視: usage per municipality, 業務 and day; the FY2018 baseline; open-data releases."""

from __future__ import annotations

from django.db import models

from lgcloud.core.models import TenantModel

# The 業務 of usage that belongs to no 業務 app: sign-in, dashboards, online procedures'
# engine, linkage, exports, these pages.
PLATFORM = "platform"


class UsageDay(TenantModel):
    """One meter's reading for a municipality, 業務 and (JST) day.

    Counters (requests, CPU microseconds, certificates issued …) add up over the day;
    gauges (rows, bytes, residents) are the day's snapshot. The request counters come from
    each worker's memory, flushed every few seconds (ops.metering); the rest is derived
    from durable records when the day is closed, so every number can be computed again.
    """

    day = models.DateField("日")
    gyomu = models.CharField("業務", max_length=16)  # "001"…"020" or "platform"
    meter = models.CharField("計量項目", max_length=48)
    quantity = models.BigIntegerField("数量", default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "day", "gyomu", "meter"], name="usage_day_uniq")]

    def __str__(self) -> str:
        return f"{self.municipality_id} {self.day} {self.gyomu} {self.meter}={self.quantity}"


class PlatformUsageDay(models.Model):
    """Requests that work for no municipality (the operator, anonymous pages): the platform's own use."""

    day = models.DateField("日")
    meter = models.CharField("計量項目", max_length=48)
    quantity = models.BigIntegerField("数量", default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "meter"], name="platform_usage_day_uniq")]

    def __str__(self) -> str:
        return f"platform {self.day} {self.meter}={self.quantity}"


class CostBaseline(TenantModel):
    """What the municipality spent on the systems lgcloud replaces, as it states it (FY2018, yen per year)."""

    fiscal_year = models.PositiveSmallIntegerField("年度")
    annual_yen = models.PositiveBigIntegerField("年間経費（円）")
    note = models.CharField("内訳・出典", max_length=400, blank=True)
    entered_by = models.CharField("登録者", max_length=150)
    entered_at = models.DateTimeField("登録日時")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "fiscal_year"], name="cost_baseline_uniq")]

    def __str__(self) -> str:
        return f"{self.municipality_id} FY{self.fiscal_year}: {self.annual_yen}"


class ReleaseStatus(models.TextChoices):
    DRAFT = "draft", "承認待ち"
    PUBLISHED = "published", "公表中"
    WITHDRAWN = "withdrawn", "取下げ"


class OpenDataRelease(TenantModel):
    """One release of the municipality's open data (人口・世帯・異動), suppressed, as published.

    ``tables`` holds exactly what is published (suppressed cells as null), never a count
    below the threshold; ``suppressed`` the suppressed cells' keys per table, so the next
    release can keep them suppressed (differencing between releases).
    """

    number = models.PositiveIntegerField("公表番号")
    reference_date = models.DateField("基準日")
    changes_since = models.DateField("異動の集計開始日")
    status = models.CharField("状態", max_length=16, choices=ReleaseStatus.choices, default=ReleaseStatus.DRAFT)
    threshold = models.PositiveSmallIntegerField("秘匿の閾値")
    tables = models.JSONField("公表する表", default=dict)
    suppressed = models.JSONField("秘匿したセル", default=dict)
    sha256 = models.CharField(max_length=64)
    prepared_by = models.CharField("作成者", max_length=150)
    prepared_at = models.DateTimeField("作成日時")
    approved_by = models.CharField("承認者", max_length=150, blank=True)
    published_at = models.DateTimeField("公表日時", null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "number"], name="opendata_release_uniq")]

    def __str__(self) -> str:
        return f"{self.municipality_id} #{self.number} ({self.reference_date}, {self.status})"
