"""The 全銀 総合振込 records: 120 bytes each in Shift_JIS, half-width kana, numbers never silently cut."""

from __future__ import annotations

from datetime import date

import pytest

from lgcloud.benefits.rules import zengin

PAYER = zengin.Payer("1000000001", "ｷﾕｳﾌｷﾝｶｲｹｲ", "0001", "ミズホ", "001", "トウキヨウ", 1, "0000001")


@pytest.mark.parametrize(
    ("given", "written"),
    [("ヤマダ　タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"), ("がっこう", "ｶﾞﾂｺｳ"), ("ｷｬｼｰ", "ｷﾔｼ-"), ("ヴィラ", "ｳﾞｲﾗ"), ("ＡＢＣ ｶﾌﾞ", "ABC ｶﾌﾞ")],
)
def test_names_become_half_width_large_kana(given: str, written: str) -> None:
    assert zengin.to_zengin_kana(given) == written


def test_kanji_is_refused_not_guessed() -> None:
    with pytest.raises(zengin.ZenginError):
        zengin.to_zengin_kana("山田")


def test_every_record_is_120_bytes_and_the_trailer_adds_up() -> None:
    transfers = [
        zengin.Transfer(
            "0005", "ミツビシユ－エフジエイ", "001", "ホンテン", 1, "1234567", "ヤマダ タロウ", 100_000, "0000012345"
        ),
        zengin.Transfer("0009", "ミツイスミトモ", "100", "ギンザ", 2, "7654321", "ｻﾄｳ ﾊﾅｺ", 30_000),
    ]
    content = zengin.transfer_file(PAYER, date(2026, 12, 10), transfers)
    assert len(content) == 5 * (120 + 2)
    records = zengin.parse(content)
    assert [len(r.encode("cp932")) for r in records] == [120] * 5
    assert records[0].startswith("1210") and records[0][14:54].rstrip() == "ｷﾕｳﾌｷﾝｶｲｹｲ"
    assert records[1][80:90] == "0000100000" and records[1][91:101] == "0000012345"
    assert records[3] == "8" + "000002" + "000000130000" + " " * 101
    assert records[4] == "9" + " " * 119


def test_a_number_too_long_for_its_field_is_an_error() -> None:
    big = zengin.Transfer("0005", "ミツビシ", "001", "ホンテン", 1, "12345678", "ヤマダ", 1)
    with pytest.raises(zengin.ZenginError):
        zengin.data(big)
    with pytest.raises(zengin.ZenginError):
        zengin.data(zengin.Transfer("0005", "ミツビシ", "001", "ホンテン", 1, "1234567", "ヤマダ", 0))
