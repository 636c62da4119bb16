"""What the apps offer the procedures engine: approval effects, prefill items and choice sources.

The engine names no app: everything here comes from the installed apps' manifests. Several
implementations of one 業務 may offer the same name; a municipality gets the one it chose (the app
directory), and a procedure whose effect no chosen app offers is not offered to its residents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from lgcloud.contract import GYOMU, Manifest, ProcedureEffect
from lgcloud.contract.discovery import installed, resolve
from lgcloud.municipalities.queries import active_apps

from .rules.definitions import CORE_KEYS, RECORD_ONLY, Definition


@dataclass(frozen=True)
class Offered:
    """One thing an installed app offers, with the app that offers it."""

    app: Manifest
    spec: Any  # ProcedureEffect | PrefillItem | ChoiceSource

    def call(self, attribute: str) -> Callable[..., Any]:
        return _function(str(getattr(self.spec, attribute)))


@cache
def _function(dotted: str) -> Callable[..., Any]:
    found = resolve(dotted)
    if not callable(found):
        raise TypeError(f"{dotted} is not callable")
    return found  # type: ignore[no-any-return]


def _offers(kind: str) -> dict[str, list[Offered]]:
    out: dict[str, list[Offered]] = {}
    for m in installed().values():
        for spec in getattr(m, kind):
            out.setdefault(spec.name, []).append(Offered(m, spec))
    return out


def effects() -> dict[str, list[Offered]]:
    return _offers("effects")


def prefill_items() -> dict[str, list[Offered]]:
    return _offers("prefill")


def choice_sources() -> dict[str, list[Offered]]:
    return _offers("choice_sources")


def _for(offers: list[Offered], lg_code: str) -> Offered | None:
    """The offer of the implementation ``lg_code`` uses (or of an app outside the 20 業務)."""
    chosen = active_apps(lg_code)
    for offer in offers:
        if not offer.app.gyomu or chosen.get(offer.app.gyomu) == offer.app.id:
            return offer
    return None


def effect_for(lg_code: str, name: str) -> Offered | None:
    """The effect ``name`` as the municipality's chosen app performs it; None: none of its apps does."""
    return _for(effects().get(name, []), lg_code)


def prefill_item_for(lg_code: str, name: str) -> Offered | None:
    return _for(prefill_items().get(name, []), lg_code)


def choice_source_for(lg_code: str, name: str) -> Offered | None:
    return _for(choice_sources().get(name, []), lg_code)


def available(lg_code: str, definition: Definition) -> bool:
    """Whether the municipality's apps can do everything the definition asks (approve, prefill, choices)."""
    if definition.approval_action != RECORD_ONLY and effect_for(lg_code, definition.approval_action) is None:
        return False
    if any(prefill_item_for(lg_code, p.item) is None for p in definition.prefill):
        return False
    return all(choice_source_for(lg_code, f.choices_from) for f in definition.fields if f.choices_from)


def gyomu_of(name: str) -> str:
    """The 業務 an effect belongs to, for messages (「住民基本台帳」), or "" if no app offers it."""
    offers = effects().get(name, [])
    return GYOMU[offers[0].app.gyomu].name if offers and offers[0].app.gyomu else ""


def check_definition(definition: Definition, content: Mapping[str, Any]) -> list[str]:
    """What the installed apps say about a definition at publication (every problem, in Japanese)."""
    problems: list[str] = []
    action = definition.approval_action
    names = {f.name for f in definition.fields}
    owned: set[str] = set()
    if action != RECORD_ONLY:
        offers = effects().get(action)
        if not offers:
            known = ", ".join(sorted([*effects(), RECORD_ONLY]))
            problems.append(f"on_approve.action {action!r} を行うアプリがありません（使えるもの: {known}）")
        else:
            effect: ProcedureEffect = offers[0].spec
            missing = sorted(set(effect.requires) - names)
            if missing:
                problems.append(f"on_approve.action {action} に必要な項目がありません: {', '.join(missing)}")
            owned = set(effect.definition_keys)
            if effect.check_definition:
                problems += offers[0].call("check_definition")(content, {f.name: f for f in definition.fields})
    stray = sorted(set(definition.extra) - owned)
    if stray:
        problems.append(f"不明な指定 {', '.join(stray)}（{', '.join(sorted(CORE_KEYS))} と、承認の処理が使う指定）")
    items = prefill_items()
    for p in definition.prefill:
        if p.item not in items:
            known = ", ".join(sorted(items))
            problems.append(f"prefill.{p.field}: item {p.item!r} を提供するアプリがありません（{known}）")
    for f in definition.fields:
        if f.compare_with and not any(o.spec.compare for o in items.get(f.compare_with, [])):
            comparable = sorted(n for n, offers in items.items() if any(o.spec.compare for o in offers))
            problems.append(
                f"fields.{f.name}: compare_with {f.compare_with!r} は比較できません（{', '.join(comparable)}）"
            )
        if f.choices_from and f.choices_from not in choice_sources():
            problems.append(
                f"fields.{f.name}: choices_from {f.choices_from!r} を提供するアプリがありません"
                f"（{', '.join(sorted(choice_sources())) or 'なし'}）"
            )
    return problems
