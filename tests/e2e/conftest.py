"""Fixtures for the browser tests (marked ``e2e``).

The app runs on pytest-django's ``live_server`` against the test database,
seeded through the real actions; Debian's Chromium is driven by Playwright's
sync API (``executable_path``: no browser download). Needs ``make assets``
(axe-core in node_modules) and ``make system-deps`` (chromium).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from .helpers import AXE_PATH, CHROMIUM, CHROMIUM_ARGS, PASSWORD, Accounts, Site

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package", autouse=True)
def _orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API leaves its event loop registered as running in this thread,
    so Django would refuse the ORM calls the fixtures make (seeding, flushing).

    The test thread never awaits anything, so that check is moot here. Scoped to this
    package: the flag goes away with the browser, before any other test runs.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="package")
def axe_source() -> str:
    if not AXE_PATH.is_file():
        pytest.fail(f"{AXE_PATH} がありません。先に `make assets` を実行してください (run make assets).", pytrace=False)
    return AXE_PATH.read_text("utf-8")


@pytest.fixture(scope="package")
def browser(_orm_beside_playwright: None) -> Iterator[Any]:
    """One Chromium for the whole e2e package (package scope == the session, for these tests)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} がありません。`make system-deps` を実行してください.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def accounts(transactional_db: None, live_server: Any) -> Accounts:
    """千代田区 staff (counter, auditor, municipal_admin) and an operator, created by the real actions."""
    from lgcloud.accounts.actions import create_staff
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.municipalities.actions import choose_default_apps, load_municipalities, shipped_rows

    # Every shipped row (0.1 s): the operator list needs more than one page of 100.
    rows = shipped_rows()
    load_municipalities(TenantContext.system(None, "test"), rows)
    # Tokyo uses the platform's default implementation of every 業務 (the app directory).
    tokyo = [r["lg_code"] for r in rows if r["prefecture_code"] == "13"]
    choose_default_apps(TenantContext.system(None, "test"), tokyo, effective_from=date(2000, 1, 1))
    chiyoda = TenantContext.system("131016", "test")
    for username, name, role in (
        ("counter", "窓口 花子", Role.COUNTER),
        ("auditor", "監査 四郎", Role.AUDITOR),
        ("admin", "管理 五郎", Role.MUNICIPAL_ADMIN),
    ):
        create_staff(chiyoda, username=username, display_name=name, roles=[role], password=PASSWORD)
    create_staff(
        TenantContext.system(None, "test"),
        username="operator",
        display_name="運用 六子",
        roles=[Role.OPERATOR],
        password=PASSWORD,
    )
    return Accounts(url=live_server.url)


def _new_site(browser: Any, accounts: Accounts, axe_source: str, *, javascript: bool) -> Site:
    # CSP stays on (script-src 'self'): axe is injected with evaluate(), which CSP does not govern.
    context = browser.new_context(
        base_url=accounts.url,
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        viewport={"width": 1280, "height": 900},
        java_script_enabled=javascript,
    )
    context.set_default_timeout(10_000)
    return Site(context.new_page(), axe_source)


@pytest.fixture
def site(browser: Any, accounts: Accounts, axe_source: str) -> Iterator[Site]:
    s = _new_site(browser, accounts, axe_source, javascript=True)
    yield s
    s.page.context.close()


@pytest.fixture
def nojs_site(browser: Any, accounts: Accounts, axe_source: str) -> Iterator[Site]:
    s = _new_site(browser, accounts, axe_source, javascript=False)
    yield s
    s.page.context.close()
