"""Residents' accounts: signing in with verified OpenID Connect claims, and the resident's context.

Linking (first sign-in). The provider proves who the person is; the municipality's 住民記録
(the resident directory of the implementation it uses) says which person of this municipality
that is. The claims used are the 基本4情報 the My Number Card's
署名用電子証明書 carries (氏名・生年月日・性別・住所), as standard OIDC claims ``name``,
``birthdate``, ``gender`` and ``address.formatted``. Exactly one active resident of the
municipality must match all of them (names compared on their search keys, so 髙/高 and IVS
variants do not block a match); otherwise nothing is linked and the resident is asked to
come to the counter. Later sign-ins find the account by (``iss``, ``sub``) and check that the
person is still a resident. No claim value is logged or audited, only the account id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone

from lgcloud.audit.actions import record
from lgcloud.core.permissions import resident_permissions
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.municipalities.queries import resident_directory

from .models import ResidentAccount

_SEX = {"male": "1", "female": "2"}


class ResidentSignInRefused(Exception):
    """The identity could not be linked to a resident; the message is safe to show."""


@dataclass(frozen=True)
class SignedInResident:
    account_id: int
    lg_code: str
    atena_number: str
    display_name: str
    email: str
    linked_now: bool


def resident_context(lg_code: str, account_id: int, *, purpose: str = "resident.portal") -> TenantContext:
    """The context a signed-in resident acts in.

    It may file procedures and read the registry; the procedures app only ever reads the
    account's own 宛名番号 with it (procedures.prefill), and every read is audited.
    """
    return TenantContext(
        lg_code=lg_code,
        actor_id=None,
        actor_name=f"住民（利用者番号 {account_id}）",
        roles=frozenset(),
        purpose=purpose,
        permissions=resident_permissions(),
    )


def _match(ctx: TenantContext, claims: dict[str, Any], today: date) -> str:
    name = str(claims.get("name") or "")
    birthdate = str(claims.get("birthdate") or "")
    address = claims.get("address")
    formatted = str(address.get("formatted") or "") if isinstance(address, dict) else ""
    try:
        born = date.fromisoformat(birthdate)
    except ValueError:
        born = None
    if not name or born is None or not formatted:
        raise ResidentSignInRefused(
            "認証サービスから氏名・生年月日・住所を受け取れませんでした。窓口でお手続きください。"
        )
    directory = resident_directory(ctx.tenant_code)
    if directory is None:
        raise ResidentSignInRefused("この団体は住民記録の業務アプリを利用していないため、ログインできません。")
    matches = directory.match(
        ctx, name=name, birth_date=born, sex=_SEX.get(str(claims.get("gender") or "")), address=formatted
    )
    if len(matches) != 1:
        raise ResidentSignInRefused("この団体の住民記録と照合できませんでした。お手数ですが窓口でお手続きください。")
    return matches[0]


def sign_in_resident(lg_code: str, issuer: str, claims: dict[str, Any], *, today: date) -> SignedInResident:
    """Find or link the resident account for verified ``claims``; audited in the municipality's chain."""
    subject = str(claims["sub"])
    ctx = TenantContext(
        lg_code=lg_code,
        actor_id=None,
        actor_name="住民ログイン",
        roles=frozenset(),
        purpose="resident.sign_in",
        permissions=resident_permissions(),
    )
    with bound(ctx):
        account = ResidentAccount.objects.filter(municipality_id=lg_code, issuer=issuer, subject=subject).first()
        linked_now = account is None
        if account is None:
            atena = _match(ctx, claims, today)
            account = ResidentAccount.objects.create(
                municipality_id=lg_code,
                issuer=issuer,
                subject=subject,
                atena_number=atena,
                email=str(claims.get("email") or "")[:254],
            )
            record(ctx, "accounts.resident.linked", subject_type="resident_account", subject_id=account.pk)
        directory = resident_directory(lg_code)
        rec = directory.get(ctx, account.atena_number) if directory is not None else None
        if rec is None or not rec.active:
            raise ResidentSignInRefused("住民記録が有効ではありません。窓口でお手続きください。")
        account.last_sign_in_at = timezone.now()
        account.save(update_fields=["last_sign_in_at"])
        record(ctx, "accounts.resident.signed_in", subject_type="resident_account", subject_id=account.pk)
        return SignedInResident(account.pk, lg_code, account.atena_number, rec.full_name, account.email, linked_now)


def get_resident_account(ctx: TenantContext, account_id: int) -> SignedInResident | None:
    """The signed-in resident's account, in ``ctx``'s municipality (None when gone)."""
    with bound(ctx):
        account = ResidentAccount.objects.filter(municipality_id=ctx.tenant_code, pk=account_id).first()
        if account is None:
            return None
        return SignedInResident(account.pk, ctx.tenant_code, account.atena_number, "", account.email, False)


def set_resident_email(ctx: TenantContext, account_id: int, email: str) -> None:
    with bound(ctx):
        updated = ResidentAccount.objects.filter(municipality_id=ctx.tenant_code, pk=account_id).update(email=email)
        if updated:
            record(ctx, "accounts.resident.contact_changed", subject_type="resident_account", subject_id=account_id)
