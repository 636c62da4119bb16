"""API schemas of the resident registry. Field names follow docs/glossary.md."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema


class ForeignItemsIO(Schema):
    nationality: str = ""
    residence_status: str = ""
    period_of_stay: str = ""
    stay_expires_on: date | None = None
    residence_card_number: str = ""
    category: str = ""


class QualificationsOut(Schema):
    national_health_insurance: bool
    late_elderly_medical: bool
    long_term_care: bool
    national_pension: str
    child_allowance: bool


class RecordOut(Schema):
    """One 住民票 (or 除票). 個人番号 is never part of it."""

    atena_number: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    household_number: str
    relationship: str
    is_household_head: bool
    address: str
    address_detail: str
    address_since: date
    resident_since: date
    previous_address: str
    pre_move_address: str
    filed_on: date | None
    former_family_name: str
    alias: str
    registered_domicile: str
    domicile_head: str
    resident_code: str
    voter_registered: bool
    status: str
    removal_reason: str
    removed_on: date | None
    moving_out_to: str
    is_foreign: bool
    foreign: ForeignItemsIO
    qualifications: QualificationsOut


class PersonSummaryOut(Schema):
    atena_number: str
    full_name: str
    full_name_kana: str
    birth_date: date
    sex: str
    address: str
    household_number: str
    relationship: str
    status: str
    protected: bool


class SearchPageOut(Schema):
    results: list[PersonSummaryOut]
    page: int
    has_next: bool


class HistoryEntryOut(Schema):
    change_number: int
    change_type: str
    change_label: str
    effective_date: date
    filed_on: date | None
    processed_at: datetime
    actor_name: str
    reason: str
    late_filing: bool
    corrects: int | None
    record: RecordOut


class ChangeResultOut(Schema):
    change_number: int
    change_type: str
    atena_numbers: list[str]
    household_numbers: list[str]
    late_filing: bool
    warnings: list[str]


class LateFilingOut(Schema):
    change_number: int
    change_type: str
    effective_date: date
    filed_on: date | None
    actor_name: str


class NewPersonIn(Schema):
    family_name: str = Field(..., max_length=100, description="氏（入力どおりに保存されます）")
    given_name: str = Field("", max_length=100)
    family_name_kana: str = Field(..., max_length=100, description="カナ（全角・半角どちらでも）")
    given_name_kana: str = Field("", max_length=100)
    birth_date: date
    sex: Literal["1", "2"] = Field(..., description="1: 男, 2: 女")
    relationship: str = Field(..., description="続柄: head, wife, husband, child, father, mother, cohabitant …")
    former_family_name: str = ""
    alias: str = ""
    registered_domicile: str = ""
    domicile_head: str = ""
    voter_registered: bool = False
    is_foreign: bool = False
    foreign: ForeignItemsIO = Field(default_factory=ForeignItemsIO)
    individual_number: str | None = Field(None, description="個人番号（12桁、応答・ログには出ません）")


class MoveInIn(Schema):
    persons: list[NewPersonIn] = Field(..., min_length=1, max_length=20)
    address: str = Field(..., max_length=200)
    address_detail: str = Field("", max_length=100)
    effective_date: date
    filed_on: date | None = None
    previous_address: str = Field("", max_length=200)
    origin: Literal["domestic", "abroad"] = "domestic"
    household_number: str | None = None
    ex_officio: bool = False
    reason: str = ""
    confirm_duplicates: bool = False


class BirthIn(Schema):
    household_number: str
    person: NewPersonIn
    filed_on: date | None = None
    reason: str = ""


class DeathIn(Schema):
    atena_number: str
    effective_date: date
    filed_on: date | None = None
    new_head: str | None = None
    relationships: dict[str, str] | None = None
    reason: str = ""


class MoveOutIn(Schema):
    atena_numbers: list[str] = Field(..., min_length=1)
    planned_date: date
    filed_on: date
    destination: str = Field(..., max_length=200)
    new_head: str | None = None
    relationships: dict[str, str] | None = None
    reason: str = ""
    destination_lg_code: str = Field(
        "", pattern=r"^([0-9]{6})?$", description="転出先の団体コード（基盤上の団体なら転出証明書情報を自動で送付）"
    )


class MoveOutConfirmIn(Schema):
    atena_numbers: list[str] = Field(..., min_length=1)
    effective_date: date
    notified_on: date | None = None
    reason: str = ""


class AddressChangeIn(Schema):
    atena_numbers: list[str] = Field(..., min_length=1)
    address: str = Field(..., max_length=200)
    address_detail: str = Field("", max_length=100)
    effective_date: date
    filed_on: date | None = None
    new_household_head: str | None = None
    remaining_head: str | None = None
    reason: str = ""


class HouseholdChangeIn(Schema):
    change_type: Literal["household_head_change", "household_composition", "household_split", "household_merge"]
    relationships: dict[str, str] = Field(..., description="宛名番号 → 変更後の続柄（head は世帯主）")
    effective_date: date
    filed_on: date | None = None
    household_number: str | None = Field(None, description="世帯合併の合併先")
    new_household: bool = Field(False, description="世帯分離: 新しい世帯を作る")
    reason: str = ""


class NameChangeIn(Schema):
    atena_number: str
    family_name: str = Field(..., max_length=100)
    given_name: str = Field("", max_length=100)
    family_name_kana: str = Field(..., max_length=100)
    given_name_kana: str = Field("", max_length=100)
    effective_date: date
    filed_on: date | None = None
    keep_former_family_name: bool = False
    reason: str = ""


class CorrectionIn(Schema):
    atena_number: str
    corrects_change: int
    changes: dict[str, str | bool | None]
    reason: str


class RemovalIn(Schema):
    atena_number: str
    effective_date: date
    reason: str
    new_head: str | None = None


class RestorationIn(Schema):
    atena_number: str
    effective_date: date
    reason: str
    relationship: str | None = None


class IndividualNumberIn(Schema):
    individual_number: str = Field(..., description="12桁の個人番号")


class RevealIn(Schema):
    purpose: str = Field(..., min_length=1, max_length=100, description="個人番号を利用する事務（番号法 別表の事務）")


class RevealOut(Schema):
    individual_number: str | None


class RequesterIn(Schema):
    name: str = Field(..., max_length=100, description="請求者の氏名")
    birth_date: date | None = None
    atena_number: str | None = Field(None, description="請求者が本団体の住民の場合の宛名番号")
    relation: Literal["self", "household", "proxy", "third_party"] = "self"


class CertificateIn(Schema):
    kind: Literal["household", "individual", "record_items", "removed"] = Field(
        ..., description="household: 世帯連記式, individual: 個人票, record_items: 記載事項証明書, removed: 除票の写し"
    )
    atena_numbers: list[str] = Field(..., min_length=1, max_length=20, description="記載する人（印字順）")
    channel: Literal["counter", "proxy", "post"] = "counter"
    requester: RequesterIn
    include: list[Literal["household_head", "domicile", "resident_code", "individual_number"]] = Field(
        default_factory=list, description="省略せずに記載する項目"
    )
    individual_number_purpose: str = Field("", max_length=100)
    purpose: str = Field("", max_length=200, description="請求事由")


class CertificateRevokeIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)
