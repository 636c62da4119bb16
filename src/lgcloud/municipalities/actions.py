"""Writes to the municipality list. Only the operator (or a platform script) writes here."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from django.core.exceptions import ValidationError

from lgcloud.audit.actions import record
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext, bound

from .models import Municipality

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
