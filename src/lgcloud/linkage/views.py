"""連携 pages: the webhook delivery log (with redelivery) and the pending 転入 from other municipalities.

Thin: reads through linkage.queries, writes through linkage.actions. Every page works
without JavaScript (plain forms, POST then redirect).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from lgcloud.core import wareki
from lgcloud.core.pages import apply_errors, staff_page
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry.actions import PossibleDuplicate
from lgcloud.registry.codes import Relationship, Sex
from lgcloud.registry.permissions import RegistryPermission

from . import actions, queries
from .forms import DeliveryFilterForm, TransferConfirmForm

WEBHOOKS = PlatformPermission.WEBHOOK_MANAGE
TRANSFERS = RegistryPermission.TRANSFER_CONFIRM

SEX = dict(Sex.choices)
RELATIONSHIP = dict(Relationship.choices)


def _birth_date(text: object) -> str:
    """「昭和53年7月7日（1978-07-07）」 like the registry pages; the payload carries the ISO date."""
    try:
        day = date.fromisoformat(str(text))
        return f"{wareki.format_date(day)}（{day.isoformat()}）"
    except (ValueError, wareki.WarekiError):
        return str(text or "")


@staff_page(WEBHOOKS)
def deliveries(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    form = DeliveryFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    ctx = ctx.with_purpose("linkage.webhooks")
    context: dict[str, Any] = {
        "form": form,
        "rows": queries.list_deliveries(ctx, status=status),
        "subscriptions": queries.list_subscriptions(ctx),
        "status": status,
    }
    return render(request, "linkage/deliveries.html", context)


@staff_page(WEBHOOKS)
@require_POST
def redeliver(request: HttpRequest, ctx: TenantContext, delivery_id: int) -> HttpResponse:
    actions.redeliver(ctx.with_purpose("linkage.webhooks"), delivery_id)
    messages.success(request, f"配信 {delivery_id} を再送の対象にしました。配信ワーカーが送信します。")
    return redirect("linkage:deliveries")


@staff_page(TRANSFERS)
def transfers(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    rows = queries.list_transfers(ctx.with_purpose("registry.transfer"), status="pending")
    return render(request, "linkage/transfers.html", {"rows": rows})


def _persons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            **p,
            "full_name": f"{p.get('family_name', '')}　{p.get('given_name', '')}".strip(),
            "kana": f"{p.get('family_name_kana', '')}　{p.get('given_name_kana', '')}".strip(),
            "sex_label": SEX.get(str(p.get("sex")), ""),
            # 続柄 as the source recorded it, in words (the payload carries the code, e.g. "wife").
            "relationship_label": RELATIONSHIP.get(str(p.get("relationship")), str(p.get("relationship", ""))),
            "birth_date_label": _birth_date(p.get("birth_date")),
        }
        for p in payload.get("persons", [])
    ]


@staff_page(TRANSFERS)
@require_http_methods(["GET", "POST"])
def transfer(request: HttpRequest, ctx: TenantContext, transfer_id: str) -> HttpResponse:
    ctx = ctx.with_purpose("registry.transfer")
    row = queries.get_transfer(ctx, transfer_id)
    persons = _persons(row.payload)
    form = TransferConfirmForm(request.POST or None, persons=persons, today=timezone.localdate())
    if request.method == "POST" and row.status == "pending" and form.is_valid():
        try:
            result = actions.confirm_transfer(ctx, transfer_id=transfer_id, **form.cleaned_data)
        except PossibleDuplicate as exc:
            form.add_error("confirm_duplicates", " ".join(exc.messages))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"転入を処理しました（異動番号 {result.change_number}）。転出元へ転出確定通知を送ります。",
            )
            return redirect("registry:person", atena=result.atena_numbers[0])
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "linkage/transfer.html", {"row": row, "persons": persons, "form": form}, status=status)
