"""The glyphs on a printed 住民票: each name drawn with its own glyph, compared with reference images.

A 個人票 is rendered for a name of one character (𠮷 U+20BB7, 髙, 﨑 U+FA11, and the IVS
sequences 葛+U+E0102 and 辻+U+E0102 of the Moji_Joho collection that IPAmj明朝 draws, 葛+U+E0100
of Adobe-Japan1 that IPAex明朝 draws). The PDF's text layer must give the name back exactly as
stored, and pdftoppm's picture of the glyph at that place must match the committed reference
(``glyphs/*.png``, 300 dpi, black and white) within a tolerance. The negative cases show the
comparison can fail: the base character drawn instead of the variant (a variation selector
ignored), the common form instead of 𠮷/髙/﨑, and tofu instead of a glyph never match.

IVS: Unicode Ideographic Variation Database, https://unicode.org/ivd/ (Moji_Joho and
Adobe-Japan1 collections); 𠮷 and the MJ glyphs: 文字情報基盤, https://moji.or.jp/mojikiban/ .

After a deliberate change of fonts or layout, write the references again and look at them
before committing:

    DJANGO_SETTINGS_MODULE=tests.settings .venv/bin/python -m tests.registry.test_certificate_glyphs --write
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from lgcloud.registry import rendering

REFERENCES = Path(__file__).resolve().parent / "glyphs"
DPI = 300
# Share of pixels that may differ from the reference (another poppler's anti-aliasing). The
# closest pair of real glyphs checked here, 𠮷 and 吉, differ in about 2 % of the pixels.
TOLERANCE = 0.006
TOFU = "\U0010fffd"  # no font has it: drawn as the missing-glyph box

GLYPHS = {
    "u20bb7": "\U00020bb7",  # 𠮷 (つちよし), outside the BMP
    "u9ad9": "髙",  # はしごだか
    "ufa11": "\ufa11",  # 﨑, a CJK compatibility ideograph (never folded to 崎)
    "u845b-ue0102": "葛\U000e0102",  # Moji_Joho: IPAmj明朝's own glyph for it
    "u8fbb-ue0102": "辻\U000e0102",  # Moji_Joho: 一点しんにょう
    "u845b-ue0100": "葛\U000e0100",  # Adobe-Japan1: only IPAex明朝 registers it
}
WRONG = [
    ("u845b-ue0102", "葛", "the selector ignored: the base glyph"),
    ("u8fbb-ue0102", "辻", "the selector ignored: the base glyph"),
    ("u845b-ue0100", "葛", "the selector ignored: IPAmj明朝's base glyph"),
    ("u20bb7", "吉", "the common form"),
    ("u9ad9", "高", "the common form"),
    ("ufa11", "崎", "the unified ideograph"),
    ("u20bb7", TOFU, "tofu"),
    ("u845b-ue0102", TOFU, "tofu"),
]

_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def _document(name: str) -> rendering.CertificateDocument:
    person = rendering.PrintedPerson(
        atena_number="0000000001",
        family_name=name,
        given_name="",
        family_name_kana="",
        given_name_kana="",
        birth_date=date(1980, 4, 1),
        sex="男",
        address="東京都千代田区霞が関一丁目1番1号",
    )
    return rendering.CertificateDocument(
        kind="individual",
        title="住民票の写し",
        layout="individual",
        certification="この写しは、住民票の原本と相違ないことを証明する。",
        lg_code="131016",
        municipality_name="東京都千代田区",
        issuer_title="千代田区長",
        issue_number=1,
        issued_on=date(2026, 11, 26),
        verification_code="131016-AAAAA-AAAAA-AAAAA-AAAAA",
        verify_url="https://lg.example.jp/verify/131016-AAAAA-AAAAA-AAAAA-AAAAA/",
        persons=(person,),
    )


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is needed: apt-get install poppler-utils"
    return path


def _render(name: str, work: Path) -> Path:
    path = work / "certificate.pdf"
    path.write_bytes(rendering.render_pdf(_document(name)).pdf)
    return path


def _box(pdf: Path, name: str) -> tuple[float, float, float, float] | None:
    """Where the PDF's text layer has ``name`` as a word (points from the top left), if it has."""
    html = subprocess.run([_tool("pdftotext"), "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True)
    for x0, y0, x1, y1, word in _WORD.findall(html.stdout):
        if word == name:
            return float(x0), float(y0), float(x1), float(y1)
    return None


def _crop(pdf: Path, box: tuple[float, float, float, float], work: Path) -> Image.Image:
    scale = DPI / 72
    x0, y0, x1, y1 = (round(v * scale) for v in box)
    out = work / "glyph"
    subprocess.run(
        [
            _tool("pdftoppm"),
            "-r",
            str(DPI),
            "-gray",
            "-singlefile",
            "-png",
            "-x",
            str(x0),
            "-y",
            str(y0),
            "-W",
            str(x1 - x0),
            "-H",
            str(y1 - y0),
            str(pdf),
            str(out),
        ],
        check=True,
    )
    with Image.open(out.with_suffix(".png")) as image:
        return image.point(lambda v: 255 if v >= 128 else 0).convert("1")


def _difference(a: Image.Image, b: Image.Image) -> float:
    """Share of pixels that differ (1.0 when the sizes differ)."""
    if a.size != b.size:
        return 1.0
    pa, pb = a.tobytes(), b.tobytes()
    bits = sum(bin(x ^ y).count("1") for x, y in zip(pa, pb, strict=True))
    return bits / (a.size[0] * a.size[1])


def _glyph(name: str, work: Path, box: tuple[float, float, float, float] | None = None) -> Image.Image:
    pdf = _render(name, work)
    found = _box(pdf, name)
    if box is None:
        assert found is not None, f"the text layer does not give back {name!r} as stored"
        box = found
    return _crop(pdf, box, work)


def _reference(stem: str) -> Image.Image:
    with Image.open(REFERENCES / f"{stem}.png") as image:
        return image.convert("1")


@pytest.mark.parametrize("stem", sorted(GLYPHS))
def test_each_name_is_drawn_with_its_own_glyph(stem: str, tmp_path: Path) -> None:
    drawn = _glyph(GLYPHS[stem], tmp_path)
    assert _difference(drawn, _reference(stem)) <= TOLERANCE


@pytest.mark.parametrize(("stem", "wrong", "why"), WRONG)
def test_a_wrong_glyph_does_not_match(stem: str, wrong: str, why: str, tmp_path: Path) -> None:
    # Cropped where the right name is drawn: the same place on the same sheet.
    box = _box(_render(GLYPHS[stem], tmp_path), GLYPHS[stem])
    assert box is not None
    drawn = _glyph(wrong, tmp_path, box)
    assert _difference(drawn, _reference(stem)) > 3 * TOLERANCE, why


def test_ivs_sequences_go_to_the_font_that_registers_them() -> None:
    assert rendering.register_runs("山田") == [("山田", "mj")]
    assert rendering.register_runs("葛\U000e0102西") == [("葛\U000e0102西", "mj")]  # IPAmj明朝 has it
    assert rendering.register_runs("葛\U000e0100城") == [("葛\U000e0100", "ex"), ("城", "mj")]  # IPAex明朝 only
    # A sequence neither font registers stays in IPAmj明朝 (its base glyph is drawn).
    assert rendering.register_runs("葛\U000e01ef") == [("葛\U000e01ef", "mj")]


def test_concurrent_renders_each_print_their_own_person() -> None:
    """Renders in parallel threads share the fonts and nothing else (the 2023 コンビニ交付 failure)."""
    from pypdf import PdfReader

    names = ["\U00020bb7野", "髙橋", "山\ufa11", "葛\U000e0102西", "辻\U000e0102", "佐藤", "鈴木", "田中"]
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            doc = _document(names[i % len(names)])
            person = replace(doc.persons[0], atena_number=f"{i:010d}")
            results[i] = rendering.render_pdf(replace(doc, persons=(person,), issue_number=i)).pdf
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors

    for i, pdf in results.items():
        identity = rendering.read_identity(pdf)
        assert (identity.issue_number, identity.subjects) == (i, (f"{i:010d}",))
        text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        assert names[i % len(names)] in text
        assert not [n for n in set(names) - {names[i % len(names)]} if n in text]


def _write_references() -> None:
    import django

    django.setup()
    REFERENCES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for stem, name in GLYPHS.items():
            _glyph(name, Path(tmp)).save(REFERENCES / f"{stem}.png", optimize=True)
            print(f"wrote {REFERENCES / stem}.png")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(__doc__)
    _write_references()
