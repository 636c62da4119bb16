"""The manifest of lgcloud's 住民記録 (住民基本台帳, 業務 001): what the platform knows of this app."""

from __future__ import annotations

from lgcloud import __version__
from lgcloud.contract import Manifest, MenuItem, PrefillItem, ProcedureEffect, Role

from .permissions import RegistryPermission as P

_EFFECTS = "lgcloud.registry.procedure_effects"
_SOURCE = "{municipality}の住民記録（{date}時点）"

MANIFEST = Manifest(
    id="lgcloud-registry",
    gyomu="001",
    name="lgcloud 住民記録",
    vendor="lgcloud",
    version=__version__,
    django_app="lgcloud.registry",
    layout_version="1.0.0",
    description="住民記録（異動・履歴・支援措置・住民票の写し・コンビニ交付）。lgcloud 標準の実装。",
    permissions=P,
    grants={
        Role.COUNTER: frozenset({P.RESIDENT_READ, P.CERTIFICATE_ISSUE}),
        Role.REGISTRY_CLERK: frozenset(
            {
                P.RESIDENT_READ,
                P.RESIDENT_WRITE,
                P.CERTIFICATE_ISSUE,
                P.INDIVIDUAL_NUMBER_READ,
                P.PROTECTION_MANAGE,
                P.TRANSFER_CONFIRM,
            }
        ),
        # Tax and welfare read the registry for their own 業務 (the data map says which items).
        Role.TAX_CLERK: frozenset({P.RESIDENT_READ}),
        Role.WELFARE_CLERK: frozenset({P.RESIDENT_READ}),
        Role.MUNICIPAL_ADMIN: frozenset({P.RESIDENT_EXPORT}),
        # A machine: it may only issue to a resident who has just proved who they are (card + PIN).
        Role.KIOSK: frozenset({P.CERTIFICATE_SELF_SERVICE}),
    },
    # A signed-in resident reads their own record (prefill, access history), never another's.
    resident_grants=frozenset({P.RESIDENT_READ}),
    urls="lgcloud.registry.urls",
    # The QR code on every certificate points here (<PUBLIC_URL>/verify/<code>/): never move it.
    public_urls="lgcloud.registry.public_urls",
    api="lgcloud.registry.api:router",
    menu=(
        MenuItem(
            "住民記録", "registry:search", P.RESIDENT_READ, "住民の検索、住民票の表示、転入・転居などの異動の処理"
        ),
        MenuItem("他団体からの転入", "linkage:transfers", P.TRANSFER_CONFIRM, "基盤上の他団体から届いた転出証明書情報"),
    ),
    usage="lgcloud.registry.statistics:usage",
    opendata="lgcloud.registry.statistics:OPENDATA",
    residents="lgcloud.registry.interface:RESIDENTS",
    effects=(
        ProcedureEffect(
            "registry.address_change",
            "転居の届出を住民記録に反映する",
            f"{_EFFECTS}:address_change",
            requires=("moved_on", "new_address", "scope"),
        ),
        ProcedureEffect(
            "registry.move_out",
            "転出の届出を住民記録に反映する",
            f"{_EFFECTS}:move_out",
            requires=("planned_on", "destination", "scope"),
        ),
        ProcedureEffect(
            "registry.certificate_by_post",
            "住民票の写しを交付して郵送する",
            f"{_EFFECTS}:certificate_by_post",
            requires=("kind", "copies", "purpose"),
            definition_keys=("fee",),
            check_definition=f"{_EFFECTS}:check_certificate_definition",
            fees=f"{_EFFECTS}:certificate_fees",
        ),
    ),
    prefill=(
        PrefillItem("full_name", "氏名", f"{_EFFECTS}:full_name", source=_SOURCE),
        PrefillItem("full_name_kana", "氏名（カナ）", f"{_EFFECTS}:full_name_kana", source=_SOURCE),
        PrefillItem("birth_date", "生年月日", f"{_EFFECTS}:birth_date", source=_SOURCE),
        PrefillItem("sex", "性別", f"{_EFFECTS}:sex", source=_SOURCE),
        *(
            PrefillItem(name, label, f"{_EFFECTS}:{name}", source=_SOURCE, compare=f"{_EFFECTS}:{name}_now")
            for name, label in (("address", "住所"), ("address_detail", "方書"), ("address_since", "住所を定めた日"))
        ),
        PrefillItem("household_number", "世帯番号", f"{_EFFECTS}:household_number", source=_SOURCE),
        PrefillItem("relationship", "続柄", f"{_EFFECTS}:relationship", source=_SOURCE),
        PrefillItem("household_members", "世帯の人", f"{_EFFECTS}:household_members", source=_SOURCE),
    ),
    procedures="lgcloud.registry.procedures",
    events=(
        "registry.person.moved_in",
        "registry.person.entered_ex_officio",
        "registry.person.born",
        "registry.person.died",
        "registry.person.moving_out",
        "registry.person.moved_out",
        "registry.person.address_changed",
        "registry.person.household_changed",
        "registry.person.name_changed",
        "registry.person.corrected",
        "registry.person.removed_ex_officio",
        "registry.person.restored_ex_officio",
        "registry.household.changed",
        "registry.changes.bulk_loaded",
    ),
)
