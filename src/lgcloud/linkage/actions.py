"""Writes of the linkage app: API clients, webhook subscriptions, redelivery. Each one transaction, audited."""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from lgcloud.audit.actions import record as audit
from lgcloud.core import crypto
from lgcloud.core.outbox import emit
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.registry import actions as registry_actions
from lgcloud.registry.permissions import RegistryPermission
from lgcloud.registry.rules.record import ForeignResidentItems

from .models import ApiClient, Delivery, DeliveryStatus, Subscription, Transfer, TransferStatus
from .parameters import all_scopes

CLIENT_MANAGE = PlatformPermission.CLIENT_MANAGE
WEBHOOK_MANAGE = PlatformPermission.WEBHOOK_MANAGE
WEBHOOK_SECRET = b"webhook_secret"


# --- API clients ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedClient:
    client: ApiClient
    client_id: str
    client_secret: str  # shown once; only its hash is stored


def create_api_client(ctx: TenantContext, *, name: str, scopes: list[str], organisation: str = "") -> IssuedClient:
    """Register another system for ``ctx``'s municipality with OAuth 2.0 client credentials."""
    ctx.require(CLIENT_MANAGE)
    known = all_scopes()
    unknown = sorted(set(scopes) - set(known))
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["名称を入力してください。"]
    if not scopes:
        errors["scopes"] = ["スコープを1つ以上指定してください。"]
    if unknown:
        errors.setdefault("scopes", []).append(
            f"定められていないスコープです: {', '.join(unknown)}（指定できるもの: {', '.join(sorted(known))}）"
        )
    if errors:
        raise ValidationError(errors)
    application_model = get_application_model()
    secret = generate_client_secret()
    with bound(ctx):
        if ApiClient.objects.filter(municipality_id=ctx.tenant_code, name=name).exists():
            raise ValidationError({"name": ["同じ名称の API クライアントがあります。"]})
        application = application_model.objects.create(
            name=f"{ctx.tenant_code}:{name}",
            client_type=application_model.CLIENT_CONFIDENTIAL,
            authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,  # hashed when saved (django-oauth-toolkit's hash_client_secret)
            user=None,
        )
        client = ApiClient.objects.create(
            municipality_id=ctx.tenant_code,
            application=application,
            name=name,
            organisation=organisation,
            scopes=sorted(set(scopes)),
            created_by=ctx.actor_name,
        )
        audit(ctx, "linkage.client.created", subject_type="api_client", subject_id=client.pk, fields=sorted(scopes))
    return IssuedClient(client, application.client_id, secret)


def revoke_api_client(ctx: TenantContext, *, name: str) -> None:
    """The client gets no new token, and its current tokens stop working at once."""
    ctx.require(CLIENT_MANAGE)
    with bound(ctx):
        client = (
            ApiClient.objects.select_for_update()
            .filter(municipality_id=ctx.tenant_code, name=name, revoked_at__isnull=True)
            .first()
        )
        if client is None:
            raise Http404("API クライアントが見つかりません。")
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        audit(ctx, "linkage.client.revoked", subject_type="api_client", subject_id=client.pk)


# --- webhook subscriptions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedSubscription:
    subscription: Subscription
    secret: str  # whsec_… (Standard Webhooks); shown once, stored encrypted


def _check_url(url: str) -> list[str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ["http(s) の URL を指定してください。"]
    if parts.scheme != "https" and not settings.DEVELOPMENT:
        return ["本番環境では https の URL のみ指定できます。"]
    return []


def create_subscription(ctx: TenantContext, *, name: str, url: str, event_types: list[str]) -> CreatedSubscription:
    ctx.require(WEBHOOK_MANAGE)
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["名称を入力してください。"]
    if url_errors := _check_url(url):
        errors["url"] = url_errors
    if not event_types or any(not t.strip() or " " in t for t in event_types):
        errors["event_types"] = ["イベント種別を1つ以上指定してください（例: registry.person.* ）。"]
    if errors:
        raise ValidationError(errors)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    with bound(ctx):
        if Subscription.objects.filter(municipality_id=ctx.tenant_code, name=name).exists():
            raise ValidationError({"name": ["同じ名称の購読があります。"]})
        sub = Subscription.objects.create(
            municipality_id=ctx.tenant_code,
            name=name,
            url=url,
            event_types=sorted(set(event_types)),
            secret_ciphertext=crypto.encrypt(ctx, secret, WEBHOOK_SECRET),
            created_by=ctx.actor_name,
        )
        audit(ctx, "linkage.subscription.created", subject_type="subscription", subject_id=sub.pk)
    return CreatedSubscription(sub, secret)


def deactivate_subscription(ctx: TenantContext, subscription_pk: int) -> None:
    """No new deliveries; pending ones are still attempted (they were promised before)."""
    ctx.require(WEBHOOK_MANAGE)
    with bound(ctx):
        updated = Subscription.objects.filter(municipality_id=ctx.tenant_code, pk=subscription_pk).update(active=False)
        if not updated:
            raise Http404("購読が見つかりません。")
        audit(ctx, "linkage.subscription.deactivated", subject_type="subscription", subject_id=subscription_pk)


def redeliver(ctx: TenantContext, delivery_pk: int) -> None:
    """Staff send a delivery again (a dead one, or a delivered one the receiver lost): N new attempts, now."""
    ctx.require(WEBHOOK_MANAGE)
    with bound(ctx):
        delivery = Delivery.objects.select_for_update().filter(municipality_id=ctx.tenant_code, pk=delivery_pk).first()
        if delivery is None:
            raise Http404("配信が見つかりません。")
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = timezone.now()
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
        audit(ctx, "linkage.delivery.redelivered", subject_type="delivery", subject_id=delivery_pk)


# --- once-only move: the destination confirms (transfers.py explains the flow) -------------------------

TRANSFER_CONFIRM = RegistryPermission.TRANSFER_CONFIRM


def _new_person(item: dict[str, Any], relationship: str) -> registry_actions.NewPerson:
    foreign = dict(item.get("foreign") or {})
    if foreign.get("stay_expires_on"):
        foreign["stay_expires_on"] = date.fromisoformat(foreign["stay_expires_on"])
    return registry_actions.NewPerson(
        family_name=item["family_name"],
        given_name=item.get("given_name", ""),
        family_name_kana=item.get("family_name_kana", ""),
        given_name_kana=item.get("given_name_kana", ""),
        birth_date=date.fromisoformat(item["birth_date"]),
        sex=item["sex"],
        relationship=relationship,
        former_family_name=item.get("former_family_name", ""),
        alias=item.get("alias", ""),
        registered_domicile=item.get("registered_domicile", ""),
        domicile_head=item.get("domicile_head", ""),
        is_foreign=bool(item.get("is_foreign")),
        foreign=ForeignResidentItems(**foreign) if foreign else ForeignResidentItems(),
    )


def confirm_transfer(
    ctx: TenantContext,
    *,
    transfer_id: str,
    address: str,
    effective_date: date,
    filed_on: date,
    address_detail: str = "",
    head: str | None = None,
    reason: str = "",
    confirm_duplicates: bool = False,
) -> registry_actions.ChangeResult:
    """B's clerk confirms a pending 転入: the persons enter B's register with the new address, as one household.

    ``head`` is the source 宛名番号 of the new 世帯主 (default: the 世帯主 among them, else
    the first). Other 続柄 are kept as recorded in A. The source hears of it through
    ``linkage.transfer.confirmed`` (the 転出確定通知).
    """
    ctx.require(TRANSFER_CONFIRM)
    with bound(ctx):
        try:
            key = uuid.UUID(transfer_id)
        except ValueError:
            raise Http404("転入予定が見つかりません。") from None
        transfer = (
            Transfer.objects.select_for_update()
            .filter(municipality_id=ctx.tenant_code, transfer_id=key, status=TransferStatus.PENDING)
            .first()
        )
        if transfer is None:
            raise Http404("確認待ちの転入予定が見つかりません。")
        persons = list(transfer.payload["persons"])
        chosen = head or next(
            (p["source_atena_number"] for p in persons if p.get("is_household_head")), persons[0]["source_atena_number"]
        )
        if chosen not in {p["source_atena_number"] for p in persons}:
            raise ValidationError({"head": ["世帯主は転入する人から選んでください。"]})
        new_people = [
            _new_person(
                p,
                "head"
                if p["source_atena_number"] == chosen
                else ("relative" if p.get("relationship") == "head" else p.get("relationship", "relative")),
            )
            for p in persons
        ]
        result = registry_actions.register_move_in(
            ctx,
            persons=new_people,
            address=address,
            address_detail=address_detail,
            effective_date=effective_date,
            filed_on=filed_on,
            previous_address=persons[0].get("address", ""),
            origin="domestic",
            reason=reason or f"転入届の特例（転出元 {transfer.payload['source']['name']}）",
            confirm_duplicates=confirm_duplicates,
            transfer_id=str(transfer.transfer_id),
        )
        transfer.status = TransferStatus.CONFIRMED
        transfer.confirmed_at = timezone.now()
        transfer.confirmed_by = ctx.actor_name
        transfer.change_number = result.change_number
        transfer.new_atena_numbers = list(result.atena_numbers)
        transfer.save(update_fields=["status", "confirmed_at", "confirmed_by", "change_number", "new_atena_numbers"])
        audit(ctx, "linkage.transfer.confirmed", subject_type="transfer", subject_id=transfer_id, fields=["address"])
        emit(
            ctx,
            type="linkage.transfer.confirmed",
            subject_type="transfer",
            subject=str(transfer.transfer_id),
            effective_date=effective_date,
            data={
                "source_lg_code": transfer.source_lg_code,
                "source_change_number": transfer.source_change_number,
                "source_atena_numbers": list(transfer.source_atena_numbers),
                "change_number": result.change_number,
            },
        )
        return result
