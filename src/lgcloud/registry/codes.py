"""Code tables of the resident registry (続柄, 異動事由, 性別, …) with their Japanese labels."""

from __future__ import annotations

from django.db import models


class Sex(models.TextChoices):
    MALE = "1", "男"
    FEMALE = "2", "女"


class Relationship(models.TextChoices):
    # Since 1995-03-01 every child is recorded as 子 (no more 長男・長女).
    HEAD = "head", "世帯主"
    WIFE = "wife", "妻"
    HUSBAND = "husband", "夫"
    WIFE_UNREGISTERED = "wife_unregistered", "妻（未届）"
    HUSBAND_UNREGISTERED = "husband_unregistered", "夫（未届）"
    CHILD = "child", "子"
    FATHER = "father", "父"
    MOTHER = "mother", "母"
    GRANDCHILD = "grandchild", "孫"
    GRANDPARENT = "grandparent", "祖父母"
    SIBLING = "sibling", "兄弟姉妹"
    CHILD_IN_LAW = "child_in_law", "子の配偶者"
    PARENT_IN_LAW = "parent_in_law", "配偶者の父母"
    RELATIVE = "relative", "縁故者"
    COHABITANT = "cohabitant", "同居人"


class ChangeType(models.TextChoices):
    MOVE_IN = "move_in", "転入"
    MOVE_OUT_PLANNED = "move_out_planned", "転出（予定）"
    MOVE_OUT_CONFIRMED = "move_out_confirmed", "転出（確定）"
    ADDRESS_CHANGE = "address_change", "転居"
    BIRTH = "birth", "出生"
    DEATH = "death", "死亡"
    HOUSEHOLD_HEAD_CHANGE = "household_head_change", "世帯主変更"
    HOUSEHOLD_SPLIT = "household_split", "世帯分離"
    HOUSEHOLD_MERGE = "household_merge", "世帯合併"
    HOUSEHOLD_COMPOSITION = "household_composition", "世帯構成変更"
    EX_OFFICIO_ENTRY = "ex_officio_entry", "職権記載"
    EX_OFFICIO_CORRECTION = "ex_officio_correction", "職権修正"
    EX_OFFICIO_REMOVAL = "ex_officio_removal", "職権消除"
    EX_OFFICIO_RESTORATION = "ex_officio_restoration", "職権回復"
    NAME_CHANGE = "name_change", "氏名変更"


# 届出 (filed by the resident; 住基法22–25条) as opposed to 職権 (by the municipality).
FILING_TYPES = frozenset(
    {
        ChangeType.MOVE_IN,
        ChangeType.MOVE_OUT_PLANNED,
        ChangeType.ADDRESS_CHANGE,
        ChangeType.BIRTH,
        ChangeType.DEATH,
        ChangeType.HOUSEHOLD_HEAD_CHANGE,
        ChangeType.HOUSEHOLD_SPLIT,
        ChangeType.HOUSEHOLD_MERGE,
        ChangeType.HOUSEHOLD_COMPOSITION,
        ChangeType.NAME_CHANGE,
    }
)


class MoveInOrigin(models.TextChoices):
    DOMESTIC = "domestic", "他市区町村から"
    ABROAD = "abroad", "国外から"


class ResidentStatus(models.TextChoices):
    RESIDENT = "resident", "住民"
    MOVING_OUT = "moving_out", "転出予定"
    REMOVED = "removed", "除票"


class RemovalReason(models.TextChoices):
    MOVED_OUT = "moved_out", "転出"
    DIED = "died", "死亡"
    EX_OFFICIO = "ex_officio", "職権消除"


class ForeignResidentCategory(models.TextChoices):
    # 住基法 第30条の45 の区分
    MEDIUM_LONG_TERM = "medium_long_term", "中長期在留者"
    SPECIAL_PERMANENT = "special_permanent", "特別永住者"
    TEMPORARY_PROTECTION = "temporary_protection", "一時庇護許可者"
    PROVISIONAL_STAY = "provisional_stay", "仮滞在許可者"
    BIRTH_OR_NATIONALITY_LOSS = "birth_or_loss", "出生による経過滞在者又は国籍喪失による経過滞在者"


class IssueChannel(models.TextChoices):
    COUNTER = "counter", "窓口（本人・同一世帯）"
    PROXY = "proxy", "窓口（代理人）"
    POST = "post", "郵送"
    KIOSK = "kiosk", "コンビニ交付"
