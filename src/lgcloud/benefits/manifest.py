"""The manifest of lgcloud's 給付 app: 児童手当 (業務 012) and benefit programmes defined as data."""

from __future__ import annotations

from lgcloud import __version__
from lgcloud.contract import ChoiceSource, Consumer, DataRead, Manifest, MenuItem, PrefillItem, ProcedureEffect, Role

from .permissions import BenefitsPermission as P

_EFFECTS = "lgcloud.benefits.procedure_effects"

MANIFEST = Manifest(
    id="lgcloud-benefits",
    gyomu="012",
    name="lgcloud 給付（児童手当・臨時給付）",
    vendor="lgcloud",
    version=__version__,
    django_app="lgcloud.benefits",
    description="児童手当（住民記録のイベントで申請勧奨・消滅）と、データで定義する臨時給付・全銀ファイル。",
    permissions=P,
    grants={Role.WELFARE_CLERK: frozenset({P.CASE_READ, P.CASE_WRITE})},
    urls="lgcloud.benefits.urls",
    menu=(
        MenuItem("給付", "benefits:programmes", P.CASE_READ, "臨時給付の対象者抽出・申請・振込ファイル"),
        MenuItem("児童手当", "benefits:cases", P.CASE_READ, "児童手当の認定請求・認定・支払"),
    ),
    consumers=(
        Consumer(
            "benefits.child_allowance",
            ("registry.person.born", "registry.person.moved_in", "registry.person.died", "registry.person.moved_out"),
            "lgcloud.benefits.consumers:on_registry_event",
        ),
    ),
    reads=(
        DataRead(
            gyomu="001",
            purpose="benefits.child_allowance",
            items=("full_name", "birth_date", "address", "household_number", "relationship", "status"),
            legal_basis="児童手当法 第7条（認定）・第8条（支給期間）",
        ),
    ),
    effects=(
        ProcedureEffect(
            "benefits.child_allowance",
            "児童手当の認定請求を受け付ける",
            f"{_EFFECTS}:claim_child_allowance",
            requires=("children", "event_on"),
            definition_keys=("account",),
            check_definition=f"{_EFFECTS}:check_account_definition",
            check_filing=f"{_EFFECTS}:check_benefit_filing",
        ),
        ProcedureEffect(
            "benefits.flat_benefit",
            "給付金の申請を受け付ける（振込先つき）",
            f"{_EFFECTS}:apply_for_benefit",
            definition_keys=("account",),
            check_definition=f"{_EFFECTS}:check_benefit_definition",
            check_filing=f"{_EFFECTS}:check_benefit_filing",
        ),
    ),
    prefill=(
        PrefillItem(
            "public_funds_account",
            "公金受取口座",
            f"{_EFFECTS}:public_funds_account_label",
            source="公金受取口座（国に登録された口座。給付アプリの記録）",
        ),
    ),
    choice_sources=(ChoiceSource("benefit_programmes", f"{_EFFECTS}:open_programmes"),),
    procedures="lgcloud.benefits.procedures",
    parameters=("lgcloud.benefits.parameters:PARAMETERS",),
    job_kinds={
        "benefits.eligibility": "給付の対象者抽出",
        "benefits.payment_batch": "給付の振込データ作成",
        "benefits.child_allowance.payment": "児童手当の支払",
    },
)
