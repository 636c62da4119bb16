"""Reads of the municipality list (platform reference data, visible to every signed-in user)."""

from __future__ import annotations

from django.db.models import Q

from .models import Municipality


def list_municipalities(
    *, prefecture_code: str | None = None, on_platform: bool | None = None, q: str | None = None
) -> list[Municipality]:
    qs = Municipality.objects.all()
    if prefecture_code:
        qs = qs.filter(prefecture_code=prefecture_code)
    if on_platform is not None:
        qs = qs.filter(on_platform=on_platform)
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(name_kana__contains=q) | Q(lg_code__startswith=q))
    return list(qs.order_by("lg_code"))


def get_municipality(lg_code: str) -> Municipality | None:
    return Municipality.objects.filter(lg_code=lg_code).first()


def municipality_exists(lg_code: str) -> bool:
    return Municipality.objects.filter(lg_code=lg_code).exists()


def list_lg_codes(*, on_platform_only: bool = False) -> list[str]:
    qs = Municipality.objects.all()
    if on_platform_only:
        qs = qs.filter(on_platform=True)
    return list(qs.order_by("lg_code").values_list("lg_code", flat=True))


def count_by_kind() -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in Municipality.objects.values_list("kind", flat=True):
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def count_on_platform() -> tuple[int, int]:
    """(municipalities on the platform, municipalities only listed)."""
    on = Municipality.objects.filter(on_platform=True).count()
    return on, Municipality.objects.count() - on
