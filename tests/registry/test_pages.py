"""The 住民記録 pages (Django test client): search, the 住民票, every 異動 form, 個人番号, 支援措置.

State is set up through the actions; pages are driven as a browser without JavaScript
would: GET the form, POST what a person typed.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.test import Client

from lgcloud.audit.models import AuditRecord
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry import actions, queries
from lgcloud.registry.actions import ChangeResult, NewPerson
from lgcloud.registry.models import Change, Person, PersonVersion
from tests.conftest import StaffFactory, signed_in

pytestmark = pytest.mark.django_db

CHIYODA, SHINJUKU = "131016", "131041"
KATSURAGI = "葛\U000e0100城"  # 葛 + IVS (Adobe-Japan1): must come back exactly as stored
NUMBER = "621498320257"


def _new(family: str, given: str, kana: tuple[str, str], birth: date, sex: str, rel: str, **kw: Any) -> NewPerson:
    return NewPerson(family, given, kana[0], kana[1], birth, sex, rel, **kw)


def _move_in(lg_code: str = CHIYODA) -> ChangeResult:
    return actions.register_move_in(
        TenantContext.system(lg_code, "test"),
        persons=[
            _new("𠮷田", "太郎", ("ヨシダ", "タロウ"), date(1980, 4, 1), "1", "head", individual_number=NUMBER),
            _new("𠮷田", "花子", ("ヨシダ", "ハナコ"), date(1982, 5, 5), "2", "wife"),
            _new("𠮷田", "一郎", ("ヨシダ", "イチロウ"), date(2012, 6, 6), "1", "child"),
        ],
        address="東京都千代田区霞が関一丁目1番1号",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 5),
        previous_address="大阪府大阪市北区梅田一丁目1番1号",
    )


@pytest.fixture
def family(tokyo: list[str]) -> ChangeResult:
    return _move_in()


@pytest.fixture
def clerk(make_staff: StaffFactory) -> Client:
    return signed_in(Client(), make_staff(CHIYODA, "juki", Role.REGISTRY_CLERK))


@pytest.fixture
def counter(make_staff: StaffFactory) -> Client:
    return signed_in(Client(), make_staff(CHIYODA, "madoguchi", Role.COUNTER))


def _record(atena: str) -> Any:
    return queries.get_record(TenantContext.system(CHIYODA, "test"), atena)


def _counts() -> tuple[int, int, int]:
    return Person.objects.count(), Change.objects.count(), PersonVersion.objects.count()


def _text(response: Any) -> str:
    return str(response.content.decode())


def _error_beside(response: Any, field_id: str) -> str:
    """The message rendered beside ``field_id`` (the <p id="…_error"> that the input names)."""
    html = _text(response)
    match = re.search(rf'<p class="field__error" id="{re.escape(field_id)}_error">(.*?)</p>', html, re.S)
    assert match, f"no error beside {field_id}"
    # ... and the field names it, so a screen reader reads it with the field.
    assert re.search(rf'aria-describedby="[^"]*\b{re.escape(field_id)}_error"', html)
    return match.group(1)


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- 検索 ----------------------------------------------------------------------------------------


def test_search_folds_kana_and_variant_kanji(clerk: Client, family: ChangeResult) -> None:
    head = family.atena_numbers[0]
    by_kana = clerk.get("/registry/", {"kana": "よしだ　た"})  # ひらがな, a full-width space
    assert by_kana.status_code == 200
    assert f"/registry/persons/{head}/" in _text(by_kana)
    by_name = clerk.get("/registry/", {"name": "吉田"})  # 𠮷 is folded to 吉 for search only
    assert "𠮷田　太郎" in _text(by_name)
    assert "昭和55年4月1日" in _text(by_name)  # 和暦 shown
    half_width = clerk.get("/registry/", {"kana": "ﾖｼﾀﾞ ｲﾁ"})
    assert _text(half_width).count("/registry/persons/") == 1
    by_birth = clerk.get("/registry/", {"birth_date": "S55.4.1"})
    assert f"/registry/persons/{head}/" in _text(by_birth)
    by_number = clerk.get("/registry/", {"atena_number": str(int(head))})  # leading zeros may be left out
    assert f"/registry/persons/{head}/" in _text(by_number)


def test_an_empty_search_shows_guidance_and_nobody(clerk: Client, family: ChangeResult) -> None:
    for params in ({}, {"name": "", "kana": ""}):
        page = clerk.get("/registry/", params)
        assert page.status_code == 200
        assert "探し方" in _text(page)
        assert "/registry/persons/" not in _text(page)
    assert "検索条件を1つ以上入力してください" in _text(clerk.get("/registry/", {"name": ""}))


def test_a_bad_birth_date_is_refused_beside_the_field(clerk: Client, family: ChangeResult) -> None:
    page = clerk.get("/registry/", {"birth_date": "平成31年5月1日"})
    assert page.status_code == 400
    assert "平成の期間外" in _error_beside(page, "id_birth_date")
    assert 'href="#id_birth_date"' in _text(page)  # the summary links to the field


def test_search_paging_and_removed_persons(clerk: Client, family: ChangeResult) -> None:
    child = family.atena_numbers[2]
    actions.remove_ex_officio(
        TenantContext.system(CHIYODA, "test"), atena_number=child, effective_date=date(2025, 1, 1), reason="調査"
    )
    assert f"/registry/persons/{child}/" not in _text(clerk.get("/registry/", {"kana": "ヨシダ"}))
    with_removed = clerk.get("/registry/", {"kana": "ヨシダ", "include_removed": "on"})
    assert f"/registry/persons/{child}/" in _text(with_removed)
    assert "除票" in _text(with_removed)


def test_search_results_are_paged(clerk: Client, tokyo: list[str]) -> None:
    ctx = TenantContext.system(CHIYODA, "test")
    for block in range(9):  # 54 residents named 山本, 6 to a household
        actions.register_move_in(
            ctx,
            persons=[
                _new("山本", f"{block}-{i}", ("ヤマモト", "タロウ"), date(1970 + block, 1, 1 + i), "1", rel)
                for i, rel in enumerate(["head", "child", "child", "child", "child", "child"])
            ],
            address=f"東京都千代田区一番町{block + 1}番",
            effective_date=date(2024, 4, 1),
            filed_on=date(2024, 4, 2),
            previous_address="",
        )
    first = _text(clerk.get("/registry/", {"kana": "ヤマモト"}))
    assert first.count('class="name">山本') == 50
    assert "page=2" in first and "次のページ" in first
    second = _text(clerk.get("/registry/", {"kana": "ヤマモト", "page": "2"}))
    assert second.count('class="name">山本') == 4
    assert "前のページ" in second and "次のページ" not in second


def test_another_municipalitys_person_looks_missing(clerk: Client, tokyo: list[str]) -> None:
    theirs = _move_in(SHINJUKU).atena_numbers[0]  # 新宿区's resident; 千代田区 has nobody yet
    assert not Person.objects.filter(municipality_id=CHIYODA).exists()
    foreign = clerk.get(f"/registry/persons/{theirs}/")
    missing = clerk.get("/registry/persons/9999999999/")
    assert foreign.status_code == missing.status_code == 404

    def strip(r: Any) -> str:
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", _text(r))  # masked per response

    assert strip(foreign) == strip(missing)
    for suffix in ("death/", "protection/", "household/", "certificate/", "as-of/?as_of=2025-01-01"):
        assert clerk.get(f"/registry/persons/{theirs}/{suffix}").status_code == 404
    before = _counts()
    assert clerk.post(f"/registry/persons/{theirs}/death/", {"effective_date": "2025-02-01"}).status_code == 404
    assert clerk.post(f"/registry/persons/{theirs}/individual-number/", {"purpose": "x"}).status_code == 404
    assert _counts() == before
    household = Person.objects.get(municipality_id=SHINJUKU, atena_number=theirs).household.household_number
    assert clerk.get(f"/registry/households/{household}/").status_code == 404
    assert "/registry/persons/" not in _text(clerk.get("/registry/", {"kana": "ヨシダ"}))


def test_anonymous_is_sent_to_sign_in(family: ChangeResult) -> None:
    response = Client().get("/registry/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/registry/")


# --- 個人 ----------------------------------------------------------------------------------------


def test_person_page_shows_the_record_household_history_and_masked_number(clerk: Client, family: ChangeResult) -> None:
    head, wife, child = family.atena_numbers
    page = clerk.get(f"/registry/persons/{head}/")
    html = _text(page)
    assert page.status_code == 200
    assert "𠮷田　太郎" in html and "霞が関一丁目1番1号" in html
    assert "登録あり" in html and NUMBER not in html
    assert f"/registry/persons/{wife}/" in html and f"/registry/persons/{child}/" in html
    assert "転入" in html and "2024-04-05" in html  # the history: 異動 and 届出日
    assert "/registry/persons/" + head + "/address-change/" in html
    assert "この方に支援措置はありません" in html


def test_names_come_back_exactly_as_stored(clerk: Client, family: ChangeResult) -> None:
    head = family.atena_numbers[0]
    actions.register_name_change(
        TenantContext.system(CHIYODA, "test"),
        atena_number=head,
        family_name=KATSURAGI,
        given_name="太郎",
        family_name_kana="カツラギ",
        given_name_kana="タロウ",
        effective_date=date(2025, 1, 1),
        filed_on=date(2025, 1, 2),
    )
    html = _text(clerk.get(f"/registry/persons/{head}/"))
    assert f"{KATSURAGI}　太郎" in html  # the variation selector survives, no NFC/NFKC
    assert "葛城" not in html.replace(KATSURAGI, "")


def test_as_of_shows_the_record_on_that_date(clerk: Client, family: ChangeResult) -> None:
    head = family.atena_numbers[0]
    actions.register_address_change(
        TenantContext.system(CHIYODA, "test"),
        atena_numbers=family.atena_numbers,
        address="東京都千代田区丸の内二丁目2番2号",
        effective_date=date(2025, 1, 10),
        filed_on=date(2025, 1, 12),
    )
    before = _text(clerk.get(f"/registry/persons/{head}/as-of/", {"as_of": "令和6年12月31日"}))
    assert "霞が関一丁目1番1号" in before and "丸の内" not in before.split("時点の記載")[1]
    assert "丸の内二丁目2番2号" in _text(clerk.get(f"/registry/persons/{head}/as-of/", {"as_of": "2025-01-10"}))
    assert "まだありません" in _text(clerk.get(f"/registry/persons/{head}/as-of/", {"as_of": "2024-03-31"}))
    assert clerk.get(f"/registry/persons/{head}/as-of/", {"as_of": "昨日"}).status_code == 400


def test_household_page_lists_the_head_first(clerk: Client, family: ChangeResult) -> None:
    number = family.household_numbers[0]
    html = _text(clerk.get(f"/registry/households/{number}/"))
    positions = [html.index(f'/registry/persons/{a}/" class="name">') for a in family.atena_numbers]
    assert positions[0] == min(positions)
    assert "世帯主" in html
    assert clerk.get("/registry/households/9999999999/").status_code == 404


# --- 個人番号 -------------------------------------------------------------------------------------


def test_revealing_the_number_needs_a_purpose_and_is_audited(clerk: Client, family: ChangeResult) -> None:
    head = family.atena_numbers[0]
    url = f"/registry/persons/{head}/individual-number/"
    revealed = AuditRecord.objects.filter(action="registry.person.individual_number_revealed")
    refused = clerk.post(url, {"purpose": "  "})
    assert refused.status_code == 400
    assert "利用目的" in _error_beside(refused, "id_purpose")
    assert NUMBER not in _text(refused)
    assert not revealed.exists()
    shown = clerk.post(url, {"purpose": "児童手当の認定"})
    assert shown.status_code == 200
    assert NUMBER in _text(shown)
    assert "no-store" in shown["Cache-Control"]
    record = revealed.get()
    assert (record.subject_id, record.purpose) == (head, "児童手当の認定")
    assert NUMBER not in _text(clerk.get(f"/registry/persons/{head}/"))  # once, on that response only


def test_the_counter_cannot_reveal_the_number(counter: Client, family: ChangeResult) -> None:
    url = f"/registry/persons/{family.atena_numbers[0]}/individual-number/"
    assert counter.post(url, {"purpose": "確認"}).status_code == 403
    assert NUMBER not in _text(counter.get(f"/registry/persons/{family.atena_numbers[0]}/"))


# --- 異動: 転入 -----------------------------------------------------------------------------------


def _management(total: int = 6) -> dict[str, str]:
    return {
        "persons-TOTAL_FORMS": str(total),
        "persons-INITIAL_FORMS": "0",
        "persons-MIN_NUM_FORMS": "1",
        "persons-MAX_NUM_FORMS": "6",
    }


def _person_fields(i: int, **values: str) -> dict[str, str]:
    return {f"persons-{i}-{k}": v for k, v in values.items()}


MOVE_IN_FORM = {
    "origin": "domestic",
    "previous_address": "神奈川県横浜市中区日本大通1",
    "address": "東京都千代田区九段南一丁目2番1号",
    "address_detail": "九段ハイツ101",
    "effective_date": "令和7年3月1日",
    "filed_on": "2025-03-05",
    **_management(),
    **_person_fields(
        0,
        family_name=KATSURAGI,
        given_name="花子",
        family_name_kana="かつらぎ",
        given_name_kana="ﾊﾅｺ",
        birth_date="S60.1.15",
        sex="2",
        relationship="head",
    ),
    **_person_fields(
        2,  # the clerk skipped the 2nd fieldset: empty ones are ignored
        family_name=KATSURAGI,
        given_name="桜",
        family_name_kana="カツラギ",
        given_name_kana="サクラ",
        birth_date="2015-07-07",
        sex="2",
        relationship="child",
    ),
}


def test_move_in_registers_a_household(clerk: Client, tokyo: list[str]) -> None:
    response = clerk.post("/registry/changes/move-in/", MOVE_IN_FORM, follow=True)
    assert response.redirect_chain and response.status_code == 200
    assert any("転入を処理しました" in m for m in _messages(response))
    head = response.redirect_chain[-1][0].split("/")[-2]
    rec = _record(head)
    assert (rec.family_name, rec.family_name_kana, rec.given_name_kana) == (KATSURAGI, "カツラギ", "ハナコ")
    assert (rec.birth_date, rec.address_detail, rec.is_household_head) == (date(1985, 1, 15), "九段ハイツ101", True)
    members = queries.get_household(TenantContext.system(CHIYODA, "test"), rec.household_number, today=date.today())
    assert [m.full_name for m in members] == [f"{KATSURAGI}　花子", f"{KATSURAGI}　桜"]


def test_move_in_errors_are_beside_the_field_and_write_nothing(clerk: Client, tokyo: list[str]) -> None:
    before = _counts()
    form = {**MOVE_IN_FORM, "persons-0-family_name_kana": "Katsuragi"}  # the action's rule: full-width katakana
    response = clerk.post("/registry/changes/move-in/", form)
    assert response.status_code == 400
    assert "全角カタカナ" in _error_beside(response, "id_persons-0-family_name_kana")
    assert "1人目 氏（カナ）" in _text(response)  # the summary names the person and the field
    assert _counts() == before
    assert not AuditRecord.objects.filter(action__startswith="registry.change.").exists()

    form = {**MOVE_IN_FORM, "effective_date": "", "persons-2-sex": ""}
    response = clerk.post("/registry/changes/move-in/", form)
    assert response.status_code == 400
    assert "必須" in _error_beside(response, "id_effective_date")
    assert _error_beside(response, "id_persons-2-sex")
    assert " open" in _text(response).split('class="more-persons"')[1][:20]  # the 3rd person's errors are shown
    assert _counts() == before

    future = {**MOVE_IN_FORM, "filed_on": "2099-01-01"}
    response = clerk.post("/registry/changes/move-in/", future)
    assert response.status_code == 400
    assert "未来の日付" in _error_beside(response, "id_filed_on")
    assert _counts() == before


def test_a_possible_duplicate_asks_for_confirmation(clerk: Client, tokyo: list[str]) -> None:
    assert clerk.post("/registry/changes/move-in/", MOVE_IN_FORM).status_code == 302
    before = _counts()
    again = clerk.get("/registry/changes/move-in/")
    assert "同一人でないことを確認しました" not in _text(again)  # only after a PossibleDuplicate
    response = clerk.post("/registry/changes/move-in/", MOVE_IN_FORM)
    assert response.status_code == 400
    assert "同じ氏名・生年月日・住所の住民がいます" in _error_beside(response, "id_confirm_duplicates")
    assert _counts() == before
    confirmed = clerk.post(
        "/registry/changes/move-in/", {**MOVE_IN_FORM, "duplicate_seen": "1", "confirm_duplicates": "on"}, follow=True
    )
    assert confirmed.redirect_chain
    assert any("同じ氏名・生年月日・住所" in m for m in _messages(confirmed))  # the warning is kept


def test_ex_officio_entry_has_no_filing_date(clerk: Client, tokyo: list[str]) -> None:
    page = clerk.get("/registry/changes/ex-officio-entry/")
    assert 'name="filed_on"' not in _text(page)
    form = {k: v for k, v in MOVE_IN_FORM.items() if k != "filed_on"}
    refused = clerk.post("/registry/changes/ex-officio-entry/", form)
    assert refused.status_code == 400 and _error_beside(refused, "id_reason")
    response = clerk.post("/registry/changes/ex-officio-entry/", {**form, "reason": "実態調査"})
    assert response.status_code == 302
    assert Change.objects.get().change_type == "ex_officio_entry"
    assert Change.objects.get().filed_on is None


def test_joining_a_missing_household_is_refused_beside_the_field(clerk: Client, tokyo: list[str]) -> None:
    response = clerk.post("/registry/changes/move-in/", {**MOVE_IN_FORM, "household_number": "424242"})
    assert response.status_code == 400
    assert "見つかりません" in _error_beside(response, "id_household_number")
    assert _counts() == (0, 0, 0)


# --- 異動: 個人 -----------------------------------------------------------------------------------


def test_birth_joins_the_household(clerk: Client, family: ChangeResult) -> None:
    head = family.atena_numbers[0]
    response = clerk.post(
        f"/registry/persons/{head}/birth/",
        {
            "family_name": "𠮷田",
            "given_name": "次郎",
            "family_name_kana": "ヨシダ",
            "given_name_kana": "ジロウ",
            "birth_date": "2025-02-01",
            "sex": "1",
            "relationship": "child",
            "filed_on": "2025-02-10",
        },
        follow=True,
    )
    assert any("出生を処理しました" in m for m in _messages(response))
    members = queries.get_household(
        TenantContext.system(CHIYODA, "test"), family.household_numbers[0], today=date.today()
    )
    assert "𠮷田　次郎" in [m.full_name for m in members]


def test_death_of_the_head_needs_a_successor(clerk: Client, family: ChangeResult) -> None:
    head, wife, _ = family.atena_numbers
    url = f"/registry/persons/{head}/death/"
    assert 'name="new_head"' in _text(clerk.get(url))
    before = _counts()
    refused = clerk.post(url, {"effective_date": "2025-06-01", "filed_on": "2025-06-02"})
    assert refused.status_code == 400
    assert _error_beside(refused, "id_new_head")
    assert _counts() == before
    done = clerk.post(url, {"effective_date": "2025-06-01", "filed_on": "2025-06-02", "new_head": wife})
    assert done.status_code == 302 and done["Location"] == f"/registry/persons/{head}/"
    assert _record(head).status == "removed"
    assert _record(wife).is_household_head


def test_address_change_of_the_whole_household(clerk: Client, family: ChangeResult) -> None:
    head = family.atena_numbers[0]
    response = clerk.post(
        f"/registry/persons/{head}/address-change/",
        {
            "members": family.atena_numbers,
            "address": "東京都千代田区丸の内二丁目2番2号",
            "effective_date": "2025-01-10",
            "filed_on": "2025-02-20",  # more than 14 days later
        },
        follow=True,
    )
    msgs = _messages(response)
    assert any("転居を処理しました" in m for m in msgs)
    assert any("届出期間" in m for m in msgs)  # the late filing is a warning, not a refusal
    assert all(_record(a).address == "東京都千代田区丸の内二丁目2番2号" for a in family.atena_numbers)
    assert "届出期間経過" in _text(clerk.get(f"/registry/persons/{head}/"))
    listed = clerk.get("/registry/late-filings/", {"since": "2025-01-01", "until": "2025-12-31"})
    assert "転居" in _text(listed) and "41日" in _text(listed)


def test_address_change_of_part_of_a_household_needs_the_heads(clerk: Client, family: ChangeResult) -> None:
    head, wife, child = family.atena_numbers
    url = f"/registry/persons/{head}/address-change/"
    base = {"address": "東京都千代田区神田一丁目1番", "effective_date": "2025-01-10", "filed_on": "2025-01-11"}
    refused = clerk.post(url, {**base, "members": [head, child]})
    assert refused.status_code == 400
    assert _error_beside(refused, "id_new_household_head")
    assert _error_beside(refused, "id_remaining_head")
    done = clerk.post(url, {**base, "members": [head, child], "new_household_head": head, "remaining_head": wife})
    assert done.status_code == 302
    assert _record(head).household_number != _record(wife).household_number
    assert _record(wife).is_household_head and _record(head).is_household_head


def test_household_head_change(clerk: Client, family: ChangeResult) -> None:
    head, wife, child = family.atena_numbers
    url = f"/registry/persons/{head}/household/"
    page = _text(clerk.get(url))
    assert f'name="rel_{wife}"' in page
    base = {"change_type": "household_head_change", "effective_date": "2025-03-01", "filed_on": "2025-03-02"}
    refused = clerk.post(url, {**base, f"rel_{head}": "head", f"rel_{wife}": "head", f"rel_{child}": "child"})
    assert refused.status_code == 400
    assert "世帯主が複数" in _text(refused)
    done = clerk.post(url, {**base, f"rel_{head}": "husband", f"rel_{wife}": "head", f"rel_{child}": "child"})
    assert done.status_code == 302
    assert _record(wife).is_household_head and _record(head).relationship == "husband"


def test_household_split(clerk: Client, family: ChangeResult) -> None:
    head, _, child = family.atena_numbers
    done = clerk.post(
        f"/registry/persons/{head}/household/",
        {
            "change_type": "household_split",
            "effective_date": "2025-03-01",
            "filed_on": "2025-03-02",
            f"rel_{child}": "head",
        },
    )
    assert done.status_code == 302
    assert _record(child).household_number != _record(head).household_number
    assert _record(child).is_household_head


def test_name_change_keeps_the_former_name(clerk: Client, family: ChangeResult) -> None:
    wife = family.atena_numbers[1]
    url = f"/registry/persons/{wife}/name-change/"
    assert 'value="𠮷田"' in _text(clerk.get(url))
    done = clerk.post(
        url,
        {
            "family_name": "髙橋",
            "given_name": "花子",
            "family_name_kana": "たかはし",
            "given_name_kana": "ハナコ",
            "keep_former_family_name": "on",
            "effective_date": "2025-04-01",
            "filed_on": "2025-04-01",
        },
    )
    assert done.status_code == 302
    rec = _record(wife)
    assert (rec.family_name, rec.family_name_kana, rec.former_family_name) == ("髙橋", "タカハシ", "𠮷田")


def test_correction_fixes_the_chosen_items_and_points_at_the_change(clerk: Client, family: ChangeResult) -> None:
    child = family.atena_numbers[2]
    url = f"/registry/persons/{child}/correction/"
    page = _text(clerk.get(url))
    assert f'<option value="{family.change_number}">' in page
    current = {
        "family_name": "𠮷田",
        "given_name": "一郎",
        "family_name_kana": "ヨシダ",
        "given_name_kana": "イチロウ",
        "birth_date": "2012-06-06",
        "sex": "1",
        "address": "東京都千代田区霞が関一丁目1番1号",
        "previous_address": "大阪府大阪市北区梅田一丁目1番1号",
        "voter_registered": "no",
    }
    before = _counts()
    nothing = clerk.post(url, {**current, "corrects_change": family.change_number, "reason": "誤記"})
    assert nothing.status_code == 400 and "書き換えてください" in _text(nothing)
    no_reason = clerk.post(url, {**current, "corrects_change": family.change_number, "birth_date": "2012-06-16"})
    assert no_reason.status_code == 400 and _error_beside(no_reason, "id_reason")
    assert _counts() == before
    done = clerk.post(
        url,
        {**current, "corrects_change": family.change_number, "birth_date": "平成24年6月16日", "reason": "届書の誤記"},
        follow=True,
    )
    assert any("職権修正を処理しました" in m for m in _messages(done))
    assert _record(child).birth_date == date(2012, 6, 16)
    assert _record(child).given_name == "一郎"  # untouched items stay
    assert f'href="#change-{family.change_number}"' in _text(done)  # the history says what it corrects


def test_removal_and_restoration(clerk: Client, family: ChangeResult) -> None:
    child = family.atena_numbers[2]
    refused = clerk.post(f"/registry/persons/{child}/removal/", {"effective_date": "2025-05-01", "reason": ""})
    assert refused.status_code == 400 and _error_beside(refused, "id_reason")
    assert _record(child).status == "resident"
    assert (
        clerk.post(
            f"/registry/persons/{child}/removal/", {"effective_date": "2025-05-01", "reason": "居住実態なし"}
        ).status_code
        == 302
    )
    assert _record(child).status == "removed"
    page = _text(clerk.get(f"/registry/persons/{child}/"))
    assert "除票" in page and f"/registry/persons/{child}/restoration/" in page
    assert f"/registry/persons/{child}/address-change/" not in page
    done = clerk.post(
        f"/registry/persons/{child}/restoration/", {"effective_date": "2025-05-10", "reason": "誤って消除"}
    )
    assert done.status_code == 302
    assert _record(child).status == "resident"


def test_move_out_then_confirm(clerk: Client, family: ChangeResult) -> None:
    child = family.atena_numbers[2]
    url = f"/registry/persons/{child}/move-out/"
    refused = clerk.post(url, {"members": [child], "planned_date": "2026-12-20", "filed_on": "2026-11-20"})
    assert refused.status_code == 400 and _error_beside(refused, "id_destination")
    done = clerk.post(
        url,
        {
            "members": [child],
            "destination": "北海道札幌市中央区北1条西2丁目",
            "planned_date": "2026-12-20",
            "filed_on": "2026-11-20",
        },
    )
    assert done.status_code == 302
    assert _record(child).status == "moving_out"
    assert f"/registry/persons/{child}/confirm-move-out/" in _text(clerk.get(f"/registry/persons/{child}/"))
    confirmed = clerk.post(
        f"/registry/persons/{child}/confirm-move-out/",
        {"members": [child], "effective_date": "2026-11-21", "notified_on": "2026-11-25"},
    )
    assert confirmed.status_code == 302
    assert _record(child).status == "removed"


def test_the_head_moving_out_names_a_successor(clerk: Client, family: ChangeResult) -> None:
    head, wife, _ = family.atena_numbers
    url = f"/registry/persons/{head}/move-out/"
    form = {"members": [head], "destination": "大阪府", "planned_date": "2026-12-20", "filed_on": "2026-11-20"}
    refused = clerk.post(url, form)
    assert refused.status_code == 400 and _error_beside(refused, "id_new_head")
    assert clerk.post(url, {**form, "new_head": wife}).status_code == 302
    assert _record(wife).is_household_head


# --- 権限 ---------------------------------------------------------------------------------------

WRITE_FORMS = (
    "birth",
    "death",
    "move-out",
    "confirm-move-out",
    "address-change",
    "household",
    "name-change",
    "correction",
    "removal",
    "restoration",
)


def test_the_counter_reads_but_cannot_write(counter: Client, family: ChangeResult) -> None:
    head = family.atena_numbers[0]
    assert counter.get(f"/registry/persons/{head}/").status_code == 200
    page = _text(counter.get(f"/registry/persons/{head}/"))
    assert "/address-change/" not in page  # no links to forms the role cannot use
    before = _counts()
    for form in WRITE_FORMS:
        assert counter.get(f"/registry/persons/{head}/{form}/").status_code == 403
        assert counter.post(f"/registry/persons/{head}/{form}/", {"effective_date": "2025-01-01"}).status_code == 403
    for url in ("/registry/changes/move-in/", "/registry/changes/ex-officio-entry/"):
        assert counter.get(url).status_code == 403
        assert counter.post(url, MOVE_IN_FORM).status_code == 403
    assert counter.get(f"/registry/persons/{head}/protection/").status_code == 403
    assert counter.get("/registry/protections/").status_code == 403
    assert _counts() == before


def test_staff_without_registry_roles_get_403(make_staff: StaffFactory, family: ChangeResult) -> None:
    auditor = signed_in(Client(), make_staff(CHIYODA, "kansa", Role.AUDITOR))
    assert auditor.get("/registry/").status_code == 403
    assert auditor.get(f"/registry/persons/{family.atena_numbers[0]}/").status_code == 403


# --- 支援措置 ------------------------------------------------------------------------------------


def test_protection_set_listed_and_ended(clerk: Client, family: ChangeResult) -> None:
    head, wife, child = family.atena_numbers
    url = f"/registry/persons/{wife}/protection/"
    refused = clerk.post(url, {"op": "set", "starts_on": "2026-11-01", "adversary_name": ""})
    assert refused.status_code == 400 and _error_beside(refused, "id_adversary_name")
    done = clerk.post(
        url,
        {
            "op": "set",
            "starts_on": "2026-11-01",
            "adversary_name": "加害　太郎",
            "adversary_birth_date": "1975-01-01",
            "co_residents": [child],
        },
    )
    assert done.status_code == 302
    assert "支援措置の対象者です" in _text(clerk.get(f"/registry/persons/{wife}/"))
    assert "支援措置あり" in _text(clerk.get("/registry/", {"kana": "ヨシダ"}))
    listing = _text(clerk.get("/registry/protections/"))
    assert f"/registry/persons/{wife}/protection/" in listing and f"/registry/persons/{child}/protection/" in listing
    page = clerk.get(url)
    order_id = re.search(r'name="order_id" value="(\d+)"', _text(page)).group(1)  # type: ignore[union-attr]
    too_early = clerk.post(url, {"op": "extend", "order_id": order_id})
    assert too_early.status_code == 400 and "1か月前から" in _text(too_early)
    ended = clerk.post(
        url,
        {
            "op": "end",
            "order_id": order_id,
            f"end-{order_id}-ended_on": "2026-11-20",
            f"end-{order_id}-end_reason": "申出",
        },
    )
    assert ended.status_code == 302
    assert "支援措置の対象者です" not in _text(clerk.get(f"/registry/persons/{wife}/"))
    # An order of another person cannot be reached through this page.
    other = clerk.post(f"/registry/persons/{head}/protection/", {"op": "extend", "order_id": order_id})
    assert other.status_code == 404


# --- 証明書の交付 ----------------------------------------------------------------------------------


def _certificate_form(atena: str, **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "household",
        "members": [atena],
        "channel": "counter",
        "relation": "self",
        "requester_atena": atena,
        **overrides,
    }


def _preview_nonce(client: Client, url: str, form: dict[str, Any]) -> str:
    preview = client.post(url, {**form, "op": "preview"})
    assert preview.status_code == 200, _text(preview)
    assert "交付内容の確認" in _text(preview)
    return re.search(r'name="nonce" value="([^"]+)"', _text(preview)).group(1)  # type: ignore[union-attr]


def test_certificate_preview_then_issue_returns_the_pdf(counter: Client, family: ChangeResult) -> None:
    head, _, child = family.atena_numbers
    url = f"/registry/persons/{head}/certificate/"
    assert counter.get(url).status_code == 200  # the counter issues certificates
    form = _certificate_form(head, members=[child, head], include=["household_head"])
    preview = counter.post(url, {**form, "op": "preview"})
    html = _text(preview)
    assert "まだ交付されていません" in html and "𠮷田　太郎" in html and "世帯主の氏名・続柄" in html
    assert html.index("𠮷田　太郎") < html.index("𠮷田　一郎")  # the household's order, the head first
    nonce = _preview_nonce(counter, url, form)
    issued = counter.post(url, {**form, "op": "issue", "nonce": nonce})
    assert issued.status_code == 200
    assert issued["Content-Type"] == "application/pdf"
    assert re.fullmatch(r"attachment; filename=juminhyo-\d+\.pdf", issued["Content-Disposition"])
    assert issued.content.startswith(b"%PDF")
    after = counter.get(f"/registry/persons/{head}/")
    assert any("を交付しました" in m and "照合番号" in m and "手数料" in m for m in _messages(after))
    # The same preview cannot issue a second time (a double press).
    again = counter.post(url, {**form, "op": "issue", "nonce": nonce}, follow=True)
    assert again.redirect_chain and any("交付済み" in m for m in _messages(again))


def test_certificate_errors_are_in_japanese_beside_the_field(counter: Client, family: ChangeResult) -> None:
    head = family.atena_numbers[0]
    url = f"/registry/persons/{head}/certificate/"
    response = counter.post(url, {**_certificate_form(head, include=["individual_number"]), "op": "preview"})
    assert response.status_code == 400
    assert "利用目的" in _error_beside(response, "id_individual_number_purpose")
    third = _certificate_form(head, relation="third_party", requester_atena="", requester_name="債権者　一郎")
    response = counter.post(url, {**third, "op": "preview"})
    assert response.status_code == 400 and "請求事由" in _error_beside(response, "id_purpose")


def test_certificate_refusals_show_the_reason(clerk: Client, family: ChangeResult) -> None:
    wife = family.atena_numbers[1]
    actions.set_protection(
        TenantContext.system(CHIYODA, "test"),
        atena_number=wife,
        starts_on=date(2026, 11, 1),
        adversary=actions.Adversary("加害　太郎", date(1975, 1, 1)),
    )
    url = f"/registry/persons/{wife}/certificate/"
    form = _certificate_form(wife, channel="post", relation="proxy", requester_atena="", requester_name="代理　人")
    nonce = _preview_nonce(clerk, url, form)
    refused = clerk.post(url, {**form, "op": "issue", "nonce": nonce})
    assert refused.status_code == 400
    assert "代理人・郵送・コンビニ交付では交付できません" in _text(refused)
    assert refused["Content-Type"].startswith("text/html")
