"""Every query, action and access function takes an explicit TenantContext first."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import lgcloud
from lgcloud.core.tenancy import TenantContext

LAYERS = ("queries", "actions", "access")

# Functions that run before a tenant exists or on platform reference data, each with its reason.
ALLOWED_WITHOUT_CONTEXT = {
    # The municipality directory is public reference data (no tenant rows).
    "lgcloud.municipalities.queries.list_municipalities",
    "lgcloud.municipalities.queries.get_municipality",
    "lgcloud.municipalities.queries.municipality_exists",
    "lgcloud.municipalities.queries.list_lg_codes",
    "lgcloud.municipalities.queries.count_by_kind",
    "lgcloud.municipalities.queries.count_on_platform",
    "lgcloud.municipalities.actions.shipped_rows",
    # The app directory: routing reads a municipality's chosen apps before any context exists.
    "lgcloud.municipalities.queries.active_apps",
    "lgcloud.municipalities.queries.is_enabled",
    "lgcloud.municipalities.queries.enabled_manifests",
    "lgcloud.municipalities.queries.resident_directory",
    "lgcloud.municipalities.actions.default_apps",
    # Bearer-token sign-in: the token decides the tenant.
    "lgcloud.accounts.actions.staff_for_token",
    "lgcloud.accounts.actions.generate_password",
    # Platform scripts (create_api_token) look an account up before knowing its municipality.
    "lgcloud.accounts.queries.find_staff_by_username",
}


def _layer_functions() -> list[tuple[str, object]]:
    found = []
    for module_info in pkgutil.walk_packages(lgcloud.__path__, "lgcloud."):
        if module_info.name.rsplit(".", 1)[-1] not in LAYERS:
            continue
        module = importlib.import_module(module_info.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                found.append((f"{module.__name__}.{name}", fn))
    return found


def test_layer_functions_take_a_tenant_context_first() -> None:
    functions = _layer_functions()
    assert len(functions) > 20  # the walk found the apps
    offenders = []
    for qualname, fn in functions:
        if qualname in ALLOWED_WITHOUT_CONTEXT:
            continue
        params = list(inspect.signature(fn).parameters.values())  # type: ignore[arg-type]
        hints = inspect.get_annotations(fn, eval_str=True)  # type: ignore[arg-type]
        if not params or params[0].name != "ctx" or hints.get("ctx") is not TenantContext:
            offenders.append(qualname)
    assert offenders == []


def test_the_allow_list_names_only_real_functions() -> None:
    names = {q for q, _ in _layer_functions()}
    assert names >= ALLOWED_WITHOUT_CONTEXT
