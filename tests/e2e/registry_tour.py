"""住民記録 in the browser: residents seeded through the real actions, and the axe tour of its pages.

``seed_registry`` gives 千代田区 a 住民記録担当 (``juki``) and residents whose names need
the IVS-capable font: 𠮷田 (U+20BB7) and 葛󠄀城 (葛 + U+E0100). ``tour_registry`` visits every
route of ``lgcloud.registry.urls`` in the states a clerk meets it in and runs axe-core on each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from playwright.sync_api import expect

from lgcloud.registry import urls as registry_urls

from .helpers import CHIYODA, PASSWORD, Site

KATSURAGI = "葛\U000e0100城"
INDIVIDUAL_NUMBER = "621498320257"
ROUTES = {f"{registry_urls.app_name}:{p.name}" for p in registry_urls.urlpatterns if p.name}


@dataclass(frozen=True)
class Residents:
    yoshida: list[str]  # 世帯主 𠮷田 太郎, 妻 花子, 子 一郎
    katsuragi: list[str]  # 世帯主 葛󠄀城 美咲, 子 翔 (a late 転入届)
    protected: str  # 髙橋 健 (支援措置)
    moving_out: str  # 渡邊 修 (転出予定)
    removed: str  # 齋藤 恵 (職権消除)
    household: str  # 𠮷田's 世帯番号


def seed_registry() -> Residents:
    from django.utils import timezone

    from lgcloud.accounts.actions import create_staff
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.registry import actions
    from lgcloud.registry.actions import NewPerson

    ctx = TenantContext.system(CHIYODA, "e2e")
    today = timezone.localdate()
    create_staff(ctx, username="juki", display_name="住記 一子", roles=[Role.REGISTRY_CLERK], password=PASSWORD)

    def person(family: str, given: str, kana: tuple[str, str], birth: date, sex: str, rel: str) -> NewPerson:
        return NewPerson(family, given, kana[0], kana[1], birth, sex, rel)

    def move_in(persons: list[NewPerson], address: str, moved: date, filed: date) -> actions.ChangeResult:
        return actions.register_move_in(
            ctx,
            persons=persons,
            address=address,
            effective_date=moved,
            filed_on=filed,
            previous_address="大阪府大阪市北区梅田一丁目1番1号",
        )

    yoshida = move_in(
        [
            NewPerson(
                "𠮷田", "太郎", "ヨシダ", "タロウ", date(1980, 4, 1), "1", "head", individual_number=INDIVIDUAL_NUMBER
            ),
            person("𠮷田", "花子", ("ヨシダ", "ハナコ"), date(1982, 5, 5), "2", "wife"),
            person("𠮷田", "一郎", ("ヨシダ", "イチロウ"), date(2012, 6, 6), "1", "child"),
        ],
        "東京都千代田区霞が関一丁目1番1号",
        date(2024, 4, 1),
        date(2024, 4, 5),
    )
    katsuragi = move_in(
        [
            person(KATSURAGI, "美咲", ("カツラギ", "ミサキ"), date(1975, 9, 9), "2", "head"),
            person(KATSURAGI, "翔", ("カツラギ", "ショウ"), date(2005, 3, 3), "1", "child"),
        ],
        "東京都千代田区九段南一丁目2番1号",
        today - timedelta(days=60),
        today - timedelta(days=30),  # 30 days after the move: listed as 届出期間経過
    )
    protected = move_in(
        [person("髙橋", "健", ("タカハシ", "ケン"), date(1990, 1, 1), "1", "head")],
        "東京都千代田区神田一丁目1番",
        date(2025, 1, 1),
        date(2025, 1, 2),
    ).atena_numbers[0]
    actions.set_protection(
        # Started a month ago: in force, and too early to extend (the tour checks that refusal).
        ctx,
        atena_number=protected,
        starts_on=today - timedelta(days=30),
        adversary=actions.Adversary("加害　一", None),
    )
    moving_out = move_in(
        [person("渡邊", "修", ("ワタナベ", "オサム"), date(1970, 2, 2), "1", "head")],
        "東京都千代田区丸の内一丁目1番",
        date(2025, 1, 1),
        date(2025, 1, 2),
    ).atena_numbers[0]
    actions.register_move_out(
        ctx,
        atena_numbers=[moving_out],
        planned_date=today + timedelta(days=20),
        filed_on=today,
        destination="北海道札幌市中央区北1条西2丁目",
    )
    removed = move_in(
        [person("齋藤", "恵", ("サイトウ", "メグミ"), date(1995, 12, 31), "2", "head")],
        "東京都千代田区麹町一丁目1番",
        date(2025, 1, 1),
        date(2025, 1, 2),
    ).atena_numbers[0]
    actions.remove_ex_officio(ctx, atena_number=removed, effective_date=date(2026, 3, 1), reason="居住実態なし")
    return Residents(
        yoshida=yoshida.atena_numbers,
        katsuragi=katsuragi.atena_numbers,
        protected=protected,
        moving_out=moving_out,
        removed=removed,
        household=yoshida.household_numbers[0],
    )


def tour_registry(site: Site, r: Residents) -> None:
    """Every registry page as 住民記録担当 meets it: empty, with results, with errors, after a write."""
    page = site.page
    check = site.check_a11y
    head, _, child = r.yoshida
    person = f"/registry/persons/{head}"

    site.login(CHIYODA, "juki")
    site.nav("住民記録")
    expect(page.get_by_role("heading", level=1)).to_have_text("住民検索")
    check("registry: search guidance")
    page.get_by_label("氏名（漢字）").fill("吉田")
    site.submit("検索")
    expect(page.get_by_role("table")).to_contain_text("𠮷田　太郎")
    check("registry: search results")
    site.goto("/registry/?kana=カツラギ&include_removed=on")
    check("registry: search results (IVS)")
    site.goto("/registry/?birth_date=昭和99年1月1日")
    assert site.status == 400
    check("registry: search invalid date")

    site.goto("/registry/?name=吉田")
    with page.expect_navigation():
        page.get_by_role("link", name="𠮷田　太郎").click()
    check("registry: person")
    site.submit("個人番号を表示する")
    assert site.status == 400
    check("registry: individual number purpose missing")
    page.get_by_label("利用目的（事務の名称）").fill("児童手当の認定")
    site.submit("個人番号を表示する")
    expect(page.locator("#individual-number")).to_have_text(INDIVIDUAL_NUMBER)
    check("registry: individual number revealed")
    site.goto(f"{person}/as-of/?as_of=2024-12-31")
    check("registry: as of")
    site.goto(f"{person}/as-of/?as_of=2024-03-31")
    check("registry: as of, not yet registered")
    site.goto(f"/registry/households/{r.household}/")
    check("registry: household")

    # 転入 and 職権記載: empty, errors, the duplicate confirmation.
    site.goto("/registry/changes/move-in/")
    check("registry: move-in")
    site.submit("登録する")
    assert site.status == 400
    check("registry: move-in errors")
    _fill_move_in(site, "𠮷田", "太郎", "ヨシダ", "タロウ", "1980-04-01", "東京都千代田区霞が関一丁目1番1号")
    site.submit("登録する")
    expect(page.get_by_label("同一人でないことを確認しました")).to_be_visible()
    check("registry: move-in possible duplicate")
    site.goto("/registry/changes/ex-officio-entry/")
    check("registry: ex officio entry")

    # Each 異動 form, and its error state.
    for path, what, button in (
        (f"{person}/birth/", "birth", "登録する"),
        (f"{person}/death/", "death", "登録する"),
        (f"{person}/move-out/", "move-out", "転出予定を登録する"),
        (f"/registry/persons/{r.moving_out}/confirm-move-out/", "confirm move-out", "転出を確定する"),
        (f"{person}/address-change/", "address change", "転居を登録する"),
        (f"{person}/household/", "household change", "登録する"),
        (f"{person}/name-change/", "name change", "登録する"),
        (f"{person}/correction/", "correction", "修正する"),
        (f"{person}/removal/", "removal", "消除する"),
        (f"/registry/persons/{r.removed}/restoration/", "restoration", "回復する"),
    ):
        site.goto(path)
        assert site.status == 200, path
        check(f"registry: {what}")
        site.submit(button)
        assert site.status == 400, path
        expect(page.get_by_role("alert")).to_be_visible()
        check(f"registry: {what} errors")

    # A write, and the person page with its success message and a late-filing warning.
    site.goto(f"/registry/persons/{child}/name-change/")
    page.get_by_label(label("新しい名")).fill("一朗")
    page.get_by_label("異動日（戸籍の届出の日など）").fill("令和7年4月1日")
    page.get_by_label(label("届出日")).fill("2025-05-01")
    site.submit("登録する")
    expect(page.get_by_role("status")).to_contain_text("氏名変更を処理しました")
    check("registry: person after a write (late filing warning)")

    # Lists and 支援措置.
    site.goto("/registry/late-filings/")
    expect(page.get_by_role("table")).to_contain_text("転入")
    check("registry: late filings")
    site.goto("/registry/late-filings/?since=2025-12-01&until=2025-01-01")
    assert site.status == 400
    check("registry: late filings invalid range")
    site.goto("/registry/protections/")
    check("registry: protections")
    site.goto(f"/registry/persons/{r.protected}/")
    expect(page.get_by_role("note")).to_contain_text("支援措置の対象者です")
    check("registry: protected person")
    site.goto(f"/registry/persons/{r.protected}/protection/")
    check("registry: protection")
    site.submit("1年間延長する")
    assert site.status == 400
    check("registry: protection extend refused")
    site.submit("支援措置を設定する")
    assert site.status == 400
    check("registry: protection set errors")

    # 証明書の交付: the form, its errors, the preview.
    site.goto(f"{person}/certificate/")
    check("registry: certificate")
    page.get_by_role("group", name=re.compile("^記載する項目")).get_by_label("個人番号").check()
    site.submit("内容を確認する")
    assert site.status == 400
    check("registry: certificate errors")
    page.get_by_label("個人番号の利用目的（提出先の事務）").fill("年金の請求")
    site.submit("内容を確認する")
    expect(page.get_by_role("heading", level=1)).to_have_text("交付内容の確認")
    check("registry: certificate preview")
    site.goto(f"/registry/persons/{r.removed}/")
    check("registry: removed person (除票)")
    site.logout()


def label(text: str) -> re.Pattern[str]:
    """A field's accessible name: its label, then 「必須」 when it is required."""
    return re.compile(rf"^{re.escape(text)}( 必須)?$")


def _fill_move_in(site: Site, family: str, given: str, fkana: str, gkana: str, birth: str, address: str) -> None:
    page = site.page
    page.get_by_label(label("従前の住所")).fill("大阪府大阪市北区梅田一丁目1番1号")
    page.get_by_label(label("新住所")).fill(address)
    page.get_by_label("異動日（転入した日）").fill("2026-11-01")
    page.get_by_label(label("届出日")).fill("2026-11-02")
    first = page.get_by_role("group", name="1人目")
    first.get_by_label(label("氏")).fill(family)
    first.get_by_label(label("名")).fill(given)
    first.get_by_label(label("氏（カナ）")).fill(fkana)
    first.get_by_label(label("名（カナ）")).fill(gkana)
    first.get_by_label(label("生年月日")).fill(birth)
    first.get_by_label(label("性別")).select_option(label="男")
    first.get_by_label(label("続柄")).select_option(label="世帯主")
