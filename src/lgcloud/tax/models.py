"""個人住民税: income declarations (申告・給与支払報告書) and one assessment per taxpayer and year."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from lgcloud.core.models import Job, TenantModel


class Collection(models.TextChoices):
    SPECIAL = "special", "特別徴収（給与から差引き）"
    ORDINARY = "ordinary", "普通徴収（納付書・口座振替）"


class IncomeDeclaration(TenantModel):
    """The previous year's income and deductions of one person, for one fiscal year."""

    fiscal_year = models.PositiveSmallIntegerField("年度")
    atena_number = models.CharField("宛名番号", max_length=10)
    salary_income = models.BigIntegerField("給与収入", default=0)
    public_pension_income = models.BigIntegerField("公的年金等収入", default=0)
    business_income = models.BigIntegerField("事業所得", default=0)
    other_income = models.BigIntegerField("その他の所得", default=0)
    social_insurance = models.BigIntegerField("社会保険料控除", default=0)
    small_business_mutual_aid = models.BigIntegerField("小規模企業共済等掛金控除", default=0)
    life_insurance = models.BigIntegerField("生命保険料控除", default=0)
    earthquake_insurance = models.BigIntegerField("地震保険料控除", default=0)
    medical = models.BigIntegerField("医療費控除", default=0)
    spouse = models.CharField("控除対象配偶者", max_length=8, blank=True)
    dependents_general = models.PositiveSmallIntegerField("一般扶養", default=0)
    dependents_specified = models.PositiveSmallIntegerField("特定扶養", default=0)
    dependents_elderly = models.PositiveSmallIntegerField("老人扶養", default=0)
    dependents_elderly_cohabiting = models.PositiveSmallIntegerField("同居老親等", default=0)
    dependents_under_16 = models.PositiveSmallIntegerField("年少扶養", default=0)
    disabled = models.BooleanField("障害者", default=False)
    single_parent = models.CharField("ひとり親", max_length=8, blank=True)
    widow = models.BooleanField("寡婦", default=False)
    public_assistance = models.BooleanField("生活扶助", default=False)
    employer_number = models.CharField("特別徴収義務者番号", max_length=20, blank=True)
    employer_name = models.CharField("特別徴収義務者", max_length=100, blank=True)
    source = models.CharField("取込元", max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "fiscal_year", "atena_number"], name="income_declaration_uniq"
            ),
            models.CheckConstraint(
                condition=Q(salary_income__gte=0) & Q(public_pension_income__gte=0) & Q(social_insurance__gte=0),
                name="income_declaration_nonnegative",
            ),
        ]


class Assessment(TenantModel):
    """One taxpayer's 個人住民税 for one fiscal year, with the breakdown as computed and the collection plan."""

    fiscal_year = models.PositiveSmallIntegerField("年度")
    atena_number = models.CharField("宛名番号", max_length=10)
    name = models.CharField("氏名", max_length=201)
    address = models.CharField("住所（1月1日）", max_length=300)
    income_levy_municipal = models.BigIntegerField("所得割（市町村民税）")
    income_levy_prefectural = models.BigIntegerField("所得割（道府県民税）")
    per_capita_municipal = models.BigIntegerField("均等割（市町村民税）")
    per_capita_prefectural = models.BigIntegerField("均等割（道府県民税）")
    forest_environment_tax = models.BigIntegerField("森林環境税")
    total = models.BigIntegerField("年税額")
    exemption = models.CharField("非課税", max_length=16, blank=True)
    collection = models.CharField("徴収方法", max_length=8, choices=Collection.choices)
    instalments = models.JSONField("各月・各期の額")
    breakdown = models.JSONField("計算の内訳")
    job = models.ForeignKey(Job, on_delete=models.PROTECT, null=True, related_name="+")
    computed_at = models.DateTimeField("計算日時")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "fiscal_year", "atena_number"], name="assessment_uniq"),
            models.CheckConstraint(
                condition=Q(
                    total=models.F("income_levy_municipal")
                    + models.F("income_levy_prefectural")
                    + models.F("per_capita_municipal")
                    + models.F("per_capita_prefectural")
                    + models.F("forest_environment_tax")
                ),
                name="assessment_total_is_sum",
            ),
        ]
