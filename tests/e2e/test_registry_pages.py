"""住民記録 in a real browser: a keyboard-only 転居, a 転入 with JavaScript off, and how names look.

The axe-core tour of every registry page is part of test_accessibility.py (registry_tour.py).
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .helpers import CHIYODA, SHOTS, Site
from .registry_tour import KATSURAGI, label, seed_registry


def _focused(page: Any) -> dict[str, str]:
    return page.evaluate(
        """() => { const e = document.activeElement;
                   return {tag: e.tagName, name: e.getAttribute('name') || '', text: (e.innerText || '').trim(),
                           outline: getComputedStyle(e).outlineStyle}; }"""
    )


def _tab_to(page: Any, *, text: str | None = None, name: str | None = None, limit: int = 60) -> dict[str, str]:
    """Press Tab until the focused element has this text (a link) or this name (a field)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = _focused(page)
        if (text is not None and now["text"] == text) or (name is not None and now["name"] == name):
            return now
    raise AssertionError(f"Tab never reached {text or name}")


def test_a_clerk_moves_a_household_with_the_keyboard_only(site: Site) -> None:
    residents = seed_registry()
    page = site.page
    site.login(CHIYODA, "juki")
    site.goto("/registry/")

    # The search field has the focus on arrival: type, Enter.
    assert _focused(page)["name"] == "name"
    page.keyboard.type("吉田")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("table")).to_contain_text("𠮷田　花子")

    # Tab to the person, Enter; the focus is visible on the way.
    link = _tab_to(page, text="𠮷田　太郎")
    assert link["tag"] == "A" and link["outline"] == "solid"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("𠮷田　太郎")

    # Tab to 転居, Enter: the whole household is ticked; type the new address and the dates, Enter.
    _tab_to(page, text="転居")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("転居届")
    _tab_to(page, name="address")
    page.keyboard.type("東京都千代田区丸の内二丁目2番2号")
    _tab_to(page, name="address_detail")
    page.keyboard.type("丸の内ハイツ302")
    _tab_to(page, name="effective_date")
    page.keyboard.type("令和8年11月1日")
    _tab_to(page, name="filed_on")
    page.keyboard.type("R8.11.2")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("転居を処理しました")
    expect(page.locator(".record")).to_contain_text("東京都千代田区丸の内二丁目2番2号")
    expect(page.get_by_role("table", name=re.compile("^世帯の構成員"))).to_contain_text("𠮷田　一郎")
    head = residents.yoshida[0]
    assert page.url.endswith(f"/registry/persons/{head}/")


def test_a_keyboard_user_reaches_the_error_and_its_field(site: Site) -> None:
    residents = seed_registry()
    page = site.page
    site.login(CHIYODA, "juki")
    site.goto(f"/registry/persons/{residents.yoshida[0]}/address-change/")
    _tab_to(page, name="address")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # nothing typed: refused with the reasons
    assert site.status == 400
    # The summary has the focus, its first link leads to the field with the message beside it.
    expect(page.get_by_role("alert")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("textbox", name=label("新しい住所"))).to_be_focused()
    expect(page.locator("#id_address_error")).to_have_text(re.compile("必須"))


def test_move_in_without_javascript(nojs_site: Site) -> None:
    site = nojs_site
    page = site.page
    seed_registry()
    page.set_content("<p id=p>off</p><script>document.getElementById('p').textContent = 'on'</script>")
    expect(page.locator("#p")).to_have_text("off")

    site.login(CHIYODA, "juki")
    site.nav("住民記録")
    with page.expect_navigation():
        page.get_by_role("navigation", name="住民記録メニュー").get_by_role("link", name="転入届").click()
    page.get_by_label(label("従前の住所")).fill("神奈川県横浜市中区日本大通1")
    page.get_by_label(label("新住所")).fill("東京都千代田区九段南三丁目3番3号")
    page.get_by_label("異動日（転入した日）").fill("令和8年11月1日")
    page.get_by_label(label("届出日")).fill("2026-11-05")
    first = page.get_by_role("group", name="1人目")
    first.get_by_label(label("氏")).fill(KATSURAGI)
    first.get_by_label(label("名")).fill("陽向")
    first.get_by_label(label("氏（カナ）")).fill("かつらぎ")
    first.get_by_label(label("名（カナ）")).fill("ひなた")
    first.get_by_label(label("生年月日")).fill("H2.2.2")
    first.get_by_label(label("性別")).select_option(label="女")
    first.get_by_label(label("続柄")).select_option(label="世帯主")
    page.get_by_text("2人目以降を入力する").click()  # <details> opens without JavaScript
    second = page.get_by_role("group", name="2人目")
    second.get_by_label(label("氏")).fill("𠮷野")
    second.get_by_label(label("名")).fill("健太")
    second.get_by_label(label("氏（カナ）")).fill("ヨシノ")
    second.get_by_label(label("名（カナ）")).fill("ケンタ")
    second.get_by_label(label("生年月日")).fill("1988-08-08")
    second.get_by_label(label("性別")).select_option(label="男")
    second.get_by_label(label("続柄")).select_option(label="夫（未届）")
    site.submit("登録する")

    expect(page.get_by_role("status")).to_contain_text("転入を処理しました")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{KATSURAGI}　陽向")
    expect(page.get_by_role("table", name=re.compile("^世帯の構成員"))).to_contain_text("𠮷野　健太")
    # The name came back byte for byte (the IVS selector included).
    assert f"{KATSURAGI}　陽向" in page.locator("h1 .name").inner_text()


def test_screenshots_of_search_and_person(site: Site) -> None:
    """Pictures for a person to look at: the glyphs (𠮷, 葛󠄀) and the layout."""
    residents = seed_registry()
    page = site.page
    site.login(CHIYODA, "juki")
    site.goto("/registry/?address=東京都千代田区&include_removed=on")
    expect(page.get_by_role("table")).to_contain_text("𠮷田　太郎")
    site.screenshot("registry-search")
    site.goto(f"/registry/persons/{residents.katsuragi[0]}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("美咲")
    site.screenshot("registry-person-katsuragi")
    site.goto(f"/registry/persons/{residents.yoshida[0]}/")
    site.screenshot("registry-person-yoshida")
    site.goto("/registry/changes/move-in/")
    site.screenshot("registry-move-in")
    # Names ask for the IPAmj明朝 face first (the picture shows whether it is drawn with it).
    site.goto(f"/registry/persons/{residents.yoshida[0]}/")
    name_font = page.evaluate("getComputedStyle(document.querySelector('h1 .name')).fontFamily")
    assert "IPAmjMincho" in name_font
    # The glyphs large enough to tell 𠮷 from 吉 and 葛󠄀 (U+E0100) from 葛.
    site.goto("/registry/?address=東京都千代田区&include_removed=on")
    names = page.locator("table .name")
    names.evaluate_all("els => els.forEach(e => { e.style.fontSize = '64px'; e.style.lineHeight = '1.2'; })")
    page.locator("table").screenshot(path=str(SHOTS / "registry-names-large.png"))
