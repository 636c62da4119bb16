"""Writes to the municipality list. Only the operator (or a platform script) writes here."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from importlib import resources

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import timezone

from lgcloud.audit.actions import record
from lgcloud.contract import GYOMU, Manifest
from lgcloud.contract.discovery import installed
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext, bound

from .models import AppChoice, Municipality

EDITABLE_FIELDS = ("name", "name_kana", "prefecture_code", "prefecture", "county", "kind", "kyuchi", "on_platform")


def _require_platform_writer(ctx: TenantContext) -> None:
    if not (ctx.has(PlatformPermission.PLATFORM_MUNICIPALITY_MANAGE) or ctx.is_system):
        ctx.require(PlatformPermission.PLATFORM_MUNICIPALITY_MANAGE)


def create_municipality(ctx: TenantContext, **values: object) -> Municipality:
    """Register a municipality; the code's check digit is validated."""
    _require_platform_writer(ctx)
    municipality = Municipality(**values)
    municipality.full_clean(validate_unique=False)  # Japanese messages; uniqueness is checked below
    with bound(ctx):
        if Municipality.objects.filter(lg_code=municipality.lg_code).exists():
            raise ValidationError({"lg_code": f"団体コード {municipality.lg_code} は既に登録されています。"})
        municipality.save(force_insert=True)
        record(
            ctx,
            "municipalities.municipality.created",
            subject_type="municipality",
            subject_id=municipality.lg_code,
            fields=values.keys(),
        )
        if municipality.on_platform:
            choose_default_apps(ctx, [municipality.lg_code], effective_from=timezone.localdate())
    return municipality


def update_municipality(ctx: TenantContext, lg_code: str, **changes: object) -> Municipality:
    _require_platform_writer(ctx)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with bound(ctx):
        municipality = Municipality.objects.select_for_update().get(lg_code=lg_code)
        changed = [name for name, value in changes.items() if getattr(municipality, name) != value]
        for name in changed:
            setattr(municipality, name, changes[name])
        municipality.full_clean()
        if changed:
            municipality.save(update_fields=[*changed, "updated_at"])
            record(
                ctx,
                "municipalities.municipality.updated",
                subject_type="municipality",
                subject_id=lg_code,
                fields=changed,
            )
            if "on_platform" in changed and municipality.on_platform:
                # Joining the platform: the default implementation of each 業務 not chosen yet.
                choose_default_apps(ctx, [lg_code], effective_from=timezone.localdate())
    return municipality


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    total: int


def shipped_rows() -> list[dict[str, str]]:
    """The municipality list shipped in the repo (see docs/municipality-data.md)."""
    text = resources.files("lgcloud.municipalities").joinpath("data/municipalities.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def load_municipalities(ctx: TenantContext, rows: Iterable[dict[str, str]], *, dry_run: bool = False) -> LoadResult:
    """Insert or update municipalities from rows; all or nothing.

    Every row is validated (check digit included) before anything is written;
    ``on_platform`` is never changed by a reload.
    """
    _require_platform_writer(ctx)
    incoming: list[Municipality] = []
    errors: list[str] = []
    for line, row in enumerate(rows, start=2):
        m = Municipality(
            lg_code=row["lg_code"],
            name=row["name"],
            name_kana=row["name_kana"],
            prefecture_code=row["prefecture_code"],
            prefecture=row["prefecture"],
            county=row.get("county", ""),
            kind=row["kind"],
            kyuchi=row.get("kyuchi", ""),
        )
        try:
            m.clean_fields(exclude=["on_platform", "created_at", "updated_at"])
        except ValidationError as exc:
            errors.append(
                f"{line}行目 ({row.get('lg_code')}): "
                + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            )
        incoming.append(m)
    if errors:
        raise ValidationError(errors[:50])
    if dry_run:
        return LoadResult(created=0, updated=0, total=len(incoming))
    with bound(ctx):
        existing = {m.lg_code: m for m in Municipality.objects.all()}
        to_create = [m for m in incoming if m.lg_code not in existing]
        to_update = []
        for m in incoming:
            old = existing.get(m.lg_code)
            if old is None:
                continue
            fields = [f for f in EDITABLE_FIELDS if f != "on_platform" and getattr(old, f) != getattr(m, f)]
            if fields:
                for f in fields:
                    setattr(old, f, getattr(m, f))
                to_update.append(old)
        Municipality.objects.bulk_create(to_create, batch_size=500)
        if to_update:
            Municipality.objects.bulk_update(
                to_update, [f for f in EDITABLE_FIELDS if f != "on_platform"], batch_size=500
            )
        if to_create or to_update:
            record(
                ctx,
                "municipalities.list.loaded",
                subject_type="municipality_list",
                subject_id=f"created={len(to_create)},updated={len(to_update)}",
            )
    return LoadResult(created=len(to_create), updated=len(to_update), total=len(incoming))


# -- the app directory: a municipality's choice of implementation per 業務 ------------------------


class AppChoiceRefused(ValidationError):
    """A request or decision about a municipality's apps that cannot be taken; the message says why."""


def default_apps() -> dict[str, str]:
    """{業務: implementation id} a municipality starts with when it joins the platform.

    ``LGCLOUD_DEFAULT_APPS`` names them; otherwise each 業務 whose only installed implementation
    is one app, or whose one implementation by the vendor lgcloud is the reference.
    """
    apps = installed()
    configured = [a.strip() for a in settings.DEFAULT_APPS.split(",") if a.strip()]
    out: dict[str, str] = {}
    for app_id in configured:
        if app_id not in apps:
            raise ImproperlyConfigured(f"LGCLOUD_DEFAULT_APPS: app {app_id!r} is not installed")
        out[apps[app_id].gyomu] = app_id
    by_gyomu: dict[str, list[Manifest]] = {}
    for m in apps.values():
        if m.gyomu:
            by_gyomu.setdefault(m.gyomu, []).append(m)
    for gyomu, impls in by_gyomu.items():
        if gyomu in out:
            continue
        reference = [m for m in impls if m.vendor == "lgcloud"]
        if len(impls) == 1 or len(reference) == 1:
            out[gyomu] = (impls[0] if len(impls) == 1 else reference[0]).id
    return out


def _implementation(gyomu: str, app_id: str) -> Manifest:
    m = installed().get(app_id)
    if m is None:
        raise AppChoiceRefused({"app_id": f"業務アプリ {app_id} はこの基盤にインストールされていません。"})
    if m.gyomu != gyomu:
        raise AppChoiceRefused({"app_id": f"{m.name} は {GYOMU[gyomu].name} の実装ではありません。"})
    return m


def _audit_both(ctx: TenantContext, lg_code: str, action: str, choice: AppChoice) -> None:
    """The decision goes on the operator's chain and on the municipality's, where its auditors look."""
    subject = f"{choice.gyomu}:{choice.app_id}"
    record(ctx, action, subject_type="app_choice", subject_id=subject, fields=["gyomu", "app_id", "effective_from"])
    if ctx.lg_code != lg_code:
        seen_by = TenantContext.system(lg_code, purpose="municipalities.apps", actor_name=f"運用者 {ctx.actor_name}")
        record(seen_by, action, subject_type="app_choice", subject_id=subject, fields=["gyomu", "app_id"])


def request_app(ctx: TenantContext, *, gyomu: str, app_id: str, effective_from: date, note: str = "") -> AppChoice:
    """A 団体管理者 asks to use ``app_id`` for ``gyomu`` from ``effective_from``; the operator decides."""
    ctx.require(PlatformPermission.APPS_MANAGE)
    lg_code = ctx.tenant_code
    if gyomu not in GYOMU:
        raise AppChoiceRefused({"gyomu": f"業務 {gyomu} はありません。"})
    m = _implementation(gyomu, app_id)
    today = timezone.localdate()
    if effective_from < today:
        raise AppChoiceRefused({"effective_from": "適用開始日は今日以降の日付にしてください。"})
    with bound(ctx):
        if AppChoice.objects.filter(municipality_id=lg_code, gyomu=gyomu, state=AppChoice.State.REQUESTED).exists():
            raise AppChoiceRefused(
                {"gyomu": f"{GYOMU[gyomu].name} には承認待ちの申請があります。取り下げてから申請してください。"}
            )
        current = _active(lg_code, gyomu, effective_from)
        if current == app_id:
            raise AppChoiceRefused({"app_id": f"{effective_from.isoformat()} には既に {m.name} を使っています。"})
        choice = AppChoice.objects.create(
            municipality_id=lg_code,
            gyomu=gyomu,
            app_id=app_id,
            app_version=m.version,
            effective_from=effective_from,
            state=AppChoice.State.REQUESTED,
            note=note.strip()[:500],
            requested_by_name=ctx.actor_name,
            requested_at=timezone.now(),
        )
        record(
            ctx,
            "municipalities.app_choice.requested",
            subject_type="app_choice",
            subject_id=f"{gyomu}:{app_id}",
            fields=["gyomu", "app_id", "effective_from", "note"],
        )
    return choice


def withdraw_app_request(ctx: TenantContext, choice_id: int) -> None:
    ctx.require(PlatformPermission.APPS_MANAGE)
    with bound(ctx):
        choice = AppChoice.objects.select_for_update().filter(pk=choice_id, municipality_id=ctx.tenant_code).first()
        if choice is None or choice.state != AppChoice.State.REQUESTED:
            raise AppChoiceRefused({"__all__": "取り下げられる申請が見つかりません。"})
        choice.state = AppChoice.State.WITHDRAWN
        choice.decided_by_name = ctx.actor_name
        choice.decided_at = timezone.now()
        choice.save(update_fields=["state", "decided_by_name", "decided_at"])
        record(ctx, "municipalities.app_choice.withdrawn", subject_type="app_choice", subject_id=choice.gyomu)


def _active(lg_code: str, gyomu: str, on: date) -> str | None:
    row = (
        AppChoice.objects.filter(
            municipality_id=lg_code, gyomu=gyomu, state=AppChoice.State.APPROVED, effective_from__lte=on
        )
        .order_by("-effective_from", "-decided_at", "-id")
        .values_list("app_id", flat=True)
        .first()
    )
    return row


def _in_use(lg_code: str, gyomu: str) -> str | None:
    """The implementation in use now or already approved for later (the one whose data there is)."""
    return (
        AppChoice.objects.filter(municipality_id=lg_code, gyomu=gyomu, state=AppChoice.State.APPROVED)
        .order_by("-effective_from", "-decided_at", "-id")
        .values_list("app_id", flat=True)
        .first()
    )


def decide_app_request(ctx: TenantContext, choice_id: int, *, approve: bool, reason: str = "") -> AppChoice:
    """The operator approves or rejects a municipality's request (a rejection says why).

    A change from one implementation of a 業務 to another moves the municipality's data: that is
    the verified switch (export, import, reconciliation), not an approval of routing alone, so it is
    refused here with that explanation.
    """
    ctx.require(PlatformPermission.PLATFORM_APPS_APPROVE)
    reason = reason.strip()
    if not approve and not reason:
        raise AppChoiceRefused({"reason": "却下の理由を入力してください（団体管理者に伝わります）。"})
    with bound(ctx):
        choice = AppChoice.objects.select_for_update().filter(pk=choice_id).first()
        if choice is None or choice.state != AppChoice.State.REQUESTED:
            raise AppChoiceRefused(
                {"__all__": "判断できる申請が見つかりません（既に判断済みか、取り下げられました）。"}
            )
        if approve:
            _implementation(choice.gyomu, choice.app_id)
            current = _in_use(choice.municipality_id, choice.gyomu)
            if current is not None and current != choice.app_id:
                switch = (
                    f"{GYOMU[choice.gyomu].name} は {current} で運用中です。実装の切替えはデータ移行を伴うため、"
                    "切替え（データの出力・取込み・照合）の手順で行ってください。"
                )
                raise AppChoiceRefused({"__all__": switch})
            today = timezone.localdate()
            if choice.effective_from < today:
                choice.effective_from = today  # never retroactive: the past stays with the app that served it
        choice.state = AppChoice.State.APPROVED if approve else AppChoice.State.REJECTED
        choice.decided_by_name = ctx.actor_name
        choice.decided_at = timezone.now()
        choice.decision_reason = reason[:500]
        choice.save(update_fields=["state", "effective_from", "decided_by_name", "decided_at", "decision_reason"])
        _audit_both(
            ctx,
            choice.municipality_id,
            "municipalities.app_choice.approved" if approve else "municipalities.app_choice.rejected",
            choice,
        )
    return choice


def _approved(ctx: TenantContext, lg_code: str, m: Manifest, effective_from: date, reason: str) -> AppChoice:
    """A choice the platform records as decided at once (no request to wait for)."""
    now = timezone.now()
    return AppChoice(
        municipality_id=lg_code,
        gyomu=m.gyomu,
        app_id=m.id,
        app_version=m.version,
        effective_from=effective_from,
        state=AppChoice.State.APPROVED,
        note=reason[:500],
        requested_by_name=ctx.actor_name,
        requested_at=now,
        decided_by_name=ctx.actor_name,
        decided_at=now,
        decision_reason=reason[:500],
    )


def record_app_choice(
    ctx: TenantContext, lg_code: str, *, gyomu: str, app_id: str, effective_from: date, reason: str
) -> AppChoice:
    """The operator (onboarding) or the platform (a verified switch) records an approved choice directly."""
    _require_platform_writer(ctx)
    m = _implementation(gyomu, app_id)
    with bound(ctx):
        choice = _approved(ctx, lg_code, m, effective_from, reason)
        choice.save(force_insert=True)
        _audit_both(ctx, lg_code, "municipalities.app_choice.recorded", choice)
    return choice


def choose_default_apps(ctx: TenantContext, lg_codes: Iterable[str], *, effective_from: date) -> int:
    """Record the platform's default implementation of each 業務 a municipality has not chosen yet.

    For municipalities joining the platform (onboarding, the demo region): one audit record on the
    operator's chain for the whole set (the directory page shows each municipality its choices, who
    recorded them and when).
    """
    _require_platform_writer(ctx)
    defaults = sorted(default_apps().items())
    apps = installed()
    codes = list(lg_codes)
    reason = "基盤の標準の実装（利用開始時）"
    with bound(ctx):
        chosen = set(
            AppChoice.objects.filter(municipality_id__in=codes, state=AppChoice.State.APPROVED).values_list(
                "municipality_id", "gyomu"
            )
        )
        rows = [
            _approved(ctx, code, apps[app_id], effective_from, reason)
            for code in codes
            for gyomu, app_id in defaults
            if (code, gyomu) not in chosen
        ]
        AppChoice.objects.bulk_create(rows)
        if rows:
            municipalities = sorted({r.municipality_id for r in rows})
            record(
                ctx,
                "municipalities.app_choice.recorded",
                subject_type="app_choice",
                subject_id=municipalities[0] if len(municipalities) == 1 else f"{len(municipalities)} municipalities",
                fields=["gyomu", "app_id", "effective_from"],
            )
    return len(rows)
