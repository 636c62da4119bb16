"""Driving the staff pages in Chromium: sign-in, the second factor, and axe-core checks."""

from __future__ import annotations

import base64
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SHOTS = Path("/tmp/lgcloud-shots")  # noqa: S108  (screenshots for a person to look at)
PASSWORD = "Kensho-e2e-Pass-2024"
CHIYODA = "131016"

# axe, plus one check axe leaves out: every id that aria-describedby/-labelledby names exists
# (a help text whose id does not match is silently never read out).
_AXE_RUN = """async (tags) => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  const out = r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      targets: v.nodes.map(n => n.target.join(' '))}));
  const broken = [];
  for (const el of document.querySelectorAll('[aria-describedby], [aria-labelledby]')) {
    for (const attr of ['aria-describedby', 'aria-labelledby']) {
      for (const ref of (el.getAttribute(attr) || '').split(/\\s+/).filter(Boolean)) {
        const where = el.id ? '#' + el.id : el.tagName.toLowerCase();
        if (!document.getElementById(ref)) broken.push(`${where} ${attr}=${ref}`);
      }
    }
  }
  if (broken.length) out.push({id: 'idref-exists', impact: 'serious',
                               help: 'ARIA id references must point to an element on the page', targets: broken});
  return out;
}"""


@dataclass(frozen=True)
class Accounts:
    """The seeded live server: 千代田区 counter/auditor/admin and the operator, all with PASSWORD."""

    url: str


@dataclass
class CheckedPage:
    label: str
    url: str
    status: int | None
    view: str | None


def view_name(url: str, municipality: str | None = None) -> str | None:
    """The route ``url`` resolves to, for a member of staff of ``municipality`` (a 業務's pages resolve
    against the implementation the municipality chose, or to the 業務's "not used here" page)."""
    from lgcloud.core import middleware

    token = middleware._municipality.set(municipality)
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return None
    finally:
        middleware._municipality.reset(token)


def totp_code(secret: str, drift: int = 0) -> str:
    from django_otp.oath import totp

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key, drift=drift):06d}"


@dataclass
class Site:
    """One browser tab on the live server, remembering what it checked."""

    page: Any
    axe_source: str
    checked: list[CheckedPage] = field(default_factory=list)
    redirects: set[str] = field(default_factory=set)  # routes that answered a navigation with 3xx
    violations: list[str] = field(default_factory=list)
    status: int | None = None  # of the last main-frame navigation
    totp_secrets: dict[str, str] = field(default_factory=dict)
    _last_step: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.page.on("response", self._on_response)

    def _on_response(self, response: Any) -> None:
        request = response.request
        if not request.is_navigation_request() or request.frame != self.page.main_frame:
            return
        if 300 <= response.status < 400:
            name = view_name(response.url)
            if name:
                self.redirects.add(name)
        else:
            self.status = response.status

    # -- navigation -------------------------------------------------------------------------

    def goto(self, path: str) -> Any:
        return self.page.goto(path)

    def submit(self, button: str, *, scope: Any = None) -> None:
        """Click a submit button by its name and wait for the page it leads to."""
        where = scope if scope is not None else self.page
        with self.page.expect_navigation():
            where.get_by_role("button", name=button, exact=True).click()

    def nav(self, link: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name=link).click()

    def login(self, lg_code: str, username: str, password: str = PASSWORD) -> None:
        self.goto("/login/")
        self.page.get_by_label("団体コード").fill(lg_code)
        self.page.get_by_label("ユーザー名").fill(username)
        self.page.get_by_label("パスワード").fill(password)
        self.submit("ログイン")

    def logout(self) -> None:
        self.submit("ログアウト")

    def pass_mfa(self, who: str) -> None:
        """On 二要素認証: enrol from #totp-secret if shown, then enter a fresh code."""
        secret_el = self.page.locator("#totp-secret")
        if secret_el.count():
            self.totp_secrets[who] = secret_el.inner_text().strip()
        secret = self.totp_secrets[who]
        # django-otp refuses a code for a time step it has already accepted; the next
        # step's code is accepted (tolerance 1), so a second sign-in need not wait.
        now = int(time.time()) // 30
        drift = max(0, self._last_step.get(who, now - 1) + 1 - now)
        self._last_step[who] = now + drift
        self.page.get_by_label("確認コード").fill(totp_code(secret, drift))
        self.submit("確認")

    def screenshot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    # -- accessibility ----------------------------------------------------------------------

    def check_a11y(self, label: str, *, municipality: str | None = None) -> list[str]:
        """Run axe-core (WCAG 2.1 A/AA) on the current page; record the page and any violation."""
        page = self.page
        page.wait_for_load_state("load")
        # add_script_tag() would be an inline <script>, which the app's CSP (script-src 'self')
        # rightly blocks; evaluate() defines window.axe without weakening the policy under test.
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(self.axe_source)
        found = page.evaluate(_AXE_RUN, AXE_TAGS)
        self.checked.append(CheckedPage(label, page.url, self.status, view_name(page.url, municipality)))
        if os.environ.get("LGCLOUD_E2E_SHOTS"):  # a picture of every checked page, for a person to review
            self.screenshot(f"a11y-{len(self.checked):02d}-" + re.sub(r"[^\w-]+", "_", label))
        lines = []
        for v in found:
            lines.append(f"{label} {page.url} (HTTP {self.status}): [{v['impact']}] {v['id']} — {v['help']}")
            lines.extend(f"      {t}" for t in v["targets"])
        self.violations.extend(lines)
        return lines
