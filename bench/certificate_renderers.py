"""住民票の写し: PDF renderers side by side, in CPU per PDF and glyph correctness, as a ratio to a search.

    .venv/bin/python bench/certificate_renderers.py                       # the lead's run
    .venv/bin/python bench/certificate_renderers.py --renders 5 --searches 20 --residents 300 \\
        --force --out /tmp/certificates.md                                # a smoke run on a busy machine

The same certificates go through each candidate:

- ``weasyprint``: the HTML/CSS certificate lgcloud printed until ADR 0003
  (bench/certificate_html/), with one ``FontConfiguration`` and one parsed stylesheet
  for the whole process, so fonts are loaded once, not per PDF;
- ``reportlab``: the same layout with platypus, fonts registered once; reportlab has
  no font fallback and ignores variation selectors, so this candidate routes each
  character to a font that has it and maps each IVS sequence to its variant glyph
  (from the font's cmap format 14 table, through a private-use code point);
- ``typst``: ``lgcloud.registry.rendering.render_pdf``, the renderer in use.

Each candidate also pays the final-step read-back (``rendering.read_pdf``, pypdf) that
the issuing action runs on every PDF. The documents come from a synthetic town loaded
into a throwaway SQLite database (``registry.generator``, as the other benchmarks):
世帯連記式 with 4 persons and 個人票, every one different (different persons, 交付番号 and
verification code, so no renderer can reuse a previous document's layout), with the
first person's 氏 written with 𠮷 (U+20BB7), 髙, 﨑 (U+FA11) or an IVS sequence.

CPU is ``time.process_time()`` over ``--renders`` documents after ``--warmup`` ones.
The search is ``registry.queries.search_persons`` by kana prefix on the same database in
the same process (a transaction, the query and its audit record, as a staff search
runs), so the certificate's cost is also given as a multiple of a search. The whole
issuing action (``registry.certificates.issue_certificate``: checks, render, read-back,
Certificate row and audit) is timed as well.

Glyphs: for each probe name the candidate renders a 個人票 three times: the name, the name
with the variant replaced by its base (or common) form, and the name with the variant
replaced by a character no font has (U+10FFFD, drawn as tofu). Pages are rasterised
with pdftoppm and compared: the probe passes when its page differs from both (a
variation selector that is ignored draws the base glyph; a missing glyph draws tofu).
For an IVS probe the page must also differ from "base + tofu" (the selector drawn as a
box). ``text`` says whether pdftotext gives the name back exactly as stored.

The run refuses to start when the 1-minute load average is above 1.0 (``--force`` runs
anyway, and the report says so); the load average is recorded before, during (every
5 s, the highest) and after. The report goes to stdout and to ``--out`` (default
bench/results/certificates-<date>.md).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MUNICIPALITY = "131016"  # 千代田区
TODAY = date(2026, 11, 26)
HTML_DIR = ROOT / "bench" / "certificate_html"
LOAD_LIMIT = 1.0
GOAL_INDIVIDUAL_MS, GOAL_HOUSEHOLD_MS, GOAL_SEARCH_RATIO = 20.0, 40.0, 2.5

# 氏 written as the 戸籍 writes them; the first person of each timed document gets one in turn.
SPECIAL_FAMILY_NAMES = ("\U00020bb7野", "髙﨑", "葛\U000e0102西", "辻\U000e0102", "葛\U000e0100城", "山\ufa11")
TOFU = "\U0010fffd"  # a code point no installed font has


@dataclass(frozen=True)
class Probe:
    name: str  # as stored
    base: str  # the variant replaced by its base (or common) form
    tofu: tuple[str, ...]  # the variant replaced by what a missing glyph looks like


PROBES = (
    Probe("\U00020bb7野", "吉野", (TOFU + "野",)),
    Probe("髙橋", "高橋", (TOFU + "橋",)),
    Probe("山\ufa11", "山崎", ("山" + TOFU,)),
    Probe("葛\U000e0102西", "葛西", (TOFU + "西", "葛" + TOFU + "西")),  # Moji_Joho (IPAmj明朝)
    Probe("辻\U000e0102", "辻", (TOFU, "辻" + TOFU)),  # Moji_Joho (IPAmj明朝)
    Probe("葛\U000e0100城", "葛城", (TOFU + "城", "葛" + TOFU + "城")),  # Adobe-Japan1 (IPAex明朝)
)


# --- load average -------------------------------------------------------------------------------


def _load() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return one, five, fifteen


def _fmt_load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.2f}" for x in values)


class LoadWatch:
    """Samples the 1-minute load average every few seconds while the measurements run."""

    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(_load()[0])

    def __enter__(self) -> LoadWatch:
        self.samples.append(_load()[0])
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(_load()[0])


# --- the machine and the database ---------------------------------------------------------------


def _machine() -> str:
    from bench.registry_bench import _machine as machine  # the same line as the registry benchmark's

    return f"{machine()}, Python {platform.python_version()}"


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for name in ("typst", "weasyprint", "reportlab", "pypdf", "segno"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} (not installed)")
    return ", ".join(parts)


@contextmanager
def _database(residents: int, seed: int) -> Iterator[None]:
    with tempfile.TemporaryDirectory(prefix="lgcloud-cert-bench-") as var:
        os.environ.update(
            LGCLOUD_ENV="development",
            LGCLOUD_VAR_DIR=var,
            DJANGO_SETTINGS_MODULE="lgcloud.settings",
            LGCLOUD_DATABASE_URL=f"sqlite:///{var}/bench.sqlite3",
        )
        import django

        django.setup()
        from django.core.management import call_command

        from lgcloud.core.tenancy import TenantContext
        from lgcloud.municipalities.actions import load_municipalities, shipped_rows
        from lgcloud.registry.bulk import load_households
        from lgcloud.registry.generator import generate_town

        call_command("migrate", interactive=False, verbosity=0)
        load_municipalities(TenantContext.system(None, purpose="bench"), shipped_rows())
        ctx = TenantContext.system(MUNICIPALITY, purpose="bench.load", actor_name="bench")
        town = generate_town(MUNICIPALITY, residents, seed=seed, as_of=TODAY - timedelta(days=30), history=True)
        load_households(ctx, town, batch_size=5000)
        yield


def _clerk() -> Any:
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext

    return TenantContext(
        lg_code=MUNICIPALITY,
        actor_id=1,
        actor_name="bench 窓口",
        roles=frozenset({Role.REGISTRY_CLERK}),
        purpose="bench",
    )


def _households(minimum: int) -> list[list[str]]:
    """宛名番号 of current households with at least ``minimum`` members, head first."""
    from lgcloud.registry.codes import ResidentStatus
    from lgcloud.registry.models import Person

    members: dict[int, list[tuple[bool, str]]] = {}
    rows = Person.objects.filter(municipality_id=MUNICIPALITY).exclude(status=ResidentStatus.REMOVED)
    for household_id, head, atena in rows.values_list("household_id", "is_household_head", "atena_number"):
        members.setdefault(household_id, []).append((not head, atena))
    return [[a for _, a in sorted(m)] for m in members.values() if len(m) >= minimum]


def _documents(count: int, layout: str) -> list[Any]:
    """``count`` certificates of ``layout`` built by the issuing code itself, each for other persons."""
    from lgcloud.registry import certificates
    from lgcloud.registry.models import Person
    from lgcloud.registry.rules.record import ResidentRecord

    ctx = _clerk()
    households = _households(4 if layout == "household" else 1)
    if not households:
        raise SystemExit("the synthetic town has no household of 4: raise --residents")
    docs = []
    for i in range(count):
        members = households[i % len(households)]
        subjects = tuple(members[:4]) if layout == "household" else (members[i // len(households) % len(members)],)
        people = {
            p.atena_number: p for p in Person.objects.filter(municipality_id=MUNICIPALITY, atena_number__in=subjects)
        }
        records = {a: ResidentRecord.from_json(people[a].record) for a in subjects}
        request = certificates.CertificateRequest(
            kind="household" if layout == "household" else "individual",
            atena_numbers=subjects,
            channel="counter",
            requester=certificates.Requester(name="bench"),
            include=frozenset({"household_head"}),
        )
        code = certificates._new_code(MUNICIPALITY)
        doc = certificates._document(
            ctx, request, records, people, layout=layout, issue_number=10_000 + i, code=code, today=TODAY
        )
        first = replace(doc.persons[0], family_name=SPECIAL_FAMILY_NAMES[i % len(SPECIAL_FAMILY_NAMES)])
        docs.append(replace(doc, persons=(first, *doc.persons[1:])))
    return docs


# --- the candidates -----------------------------------------------------------------------------


class WeasyPrintCandidate:
    """The HTML/CSS certificate of lgcloud before ADR 0003; fonts and stylesheet loaded once."""

    name = "weasyprint"

    def __init__(self) -> None:
        from django.template import Engine
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        self.engine = Engine(dirs=[str(HTML_DIR)])
        self.font_config = FontConfiguration()
        self.css = CSS(filename=str(HTML_DIR / "certificate.css"), font_config=self.font_config)

    def render(self, doc: Any) -> bytes:
        from django.template import Context
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher

        from lgcloud.registry import rendering

        sheets = rendering._sheets(doc)
        lead = doc.persons[0] if doc.persons else None
        header_address = lead.address if lead else ""
        width = rendering._ROW_PAIRS if doc.layout == "household" else 1
        context = {
            "doc": doc,
            "keywords": doc.keywords,
            "household": doc.layout == "household",
            "show_head": "household_head" in doc.items,
            "header_address": " ".join(x for x in (header_address, lead.address_detail if lead else "") if x),
            "sheets": [
                {
                    "persons": [
                        {
                            "index": s.first_index + i,
                            "rows": rendering._flow(rendering._cells(doc, p, header_address=header_address), width),
                        }
                        for i, p in enumerate(s.persons)
                    ]
                }
                for s in sheets
            ],
            "issued_on": rendering._wareki(doc.issued_on),
            "qr": _qr_data_uri(doc.verify_url),
        }
        html = self.engine.get_template("certificate.html").render(Context(context))
        fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
        return bytes(
            HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=[self.css], font_config=self.font_config)
        )


def _qr_data_uri(url: str) -> str:
    import segno

    return str(segno.make(url, error="m").svg_data_uri(scale=1, border=0, dark="#000"))


class TypstCandidate:
    """``lgcloud.registry.rendering.render_pdf``: the renderer in use."""

    name = "typst"

    def __init__(self) -> None:
        from lgcloud.registry import rendering

        rendering.typesetter()  # the fonts, once per process

    def render(self, doc: Any) -> bytes:
        from lgcloud.registry import rendering

        return rendering.render_pdf(doc).pdf


class ReportLabCandidate:
    """The same certificate with reportlab's platypus; fonts registered once, glyphs routed by hand."""

    name = "reportlab"

    def __init__(self) -> None:
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        from lgcloud.core.checks import CERTIFICATE_FONT_FILES

        self.fonts: dict[str, Any] = {}
        self.sequences: dict[str, dict[tuple[int, int], int]] = {}
        self.private: dict[str, dict[tuple[int, int], str]] = {}
        for family, path in CERTIFICATE_FONT_FILES.items():
            font = TTFont(family, path)
            pdfmetrics.registerFont(font)
            self.fonts[family] = font
            self.sequences[family] = _variation_glyphs(Path(path))
            self.private[family] = {}
        self.style = ParagraphStyle
        self._styles: dict[tuple[str, float], Any] = {}
        # The 氏名 cell mixes the reading (7 pt) and the name (13–15 pt): leading for the larger.
        self.name_style = ParagraphStyle("name", fontName="IPAexGothic", fontSize=7, leading=17, wordWrap="CJK")

    # glyph routing: reportlab draws one font per run and knows no variation selectors
    def _has(self, family: str, ch: str) -> bool:
        return ord(ch) in self.fonts[family].face.charToGlyph

    def _variant(self, family: str, base: str, selector: str) -> str | None:
        """A private-use code point drawing the font's glyph for base+selector (None: the font lacks it)."""
        key = (ord(base), ord(selector))
        gid = self.sequences[family].get(key)
        if gid is None:
            return None
        known = self.private[family].get(key)
        if known is not None:
            return known
        face = self.fonts[family].face
        code = 0xF0000 + len(self.private[family])  # plane 15: never in these fonts' cmaps
        face.charToGlyph[code] = gid
        face.charWidths[code] = face.hmetrics[gid][0] * 1000.0 / face.unitsPerEm
        face.glyphToChar.setdefault(gid, []).append(code)
        self.private[family][key] = chr(code)
        return chr(code)

    def markup(self, text: str, families: tuple[str, ...]) -> str:
        """Paragraph markup: each cluster in the first of ``families`` that has it (its IVS variant included)."""
        from xml.sax.saxutils import escape

        out: list[tuple[str, str]] = []
        i = 0
        while i < len(text):
            j = i + 1
            while j < len(text) and ("\ufe00" <= text[j] <= "\ufe0f" or "\U000e0100" <= text[j] <= "\U000e01ef"):
                j += 1
            cluster, family, drawn = text[i:j], families[0], text[i]
            if j - i > 1:
                for f in families:
                    variant = self._variant(f, cluster[0], cluster[1])
                    if variant is not None:
                        family, drawn = f, variant
                        break
            else:
                family = next((f for f in families if self._has(f, cluster)), families[0])
            if out and out[-1][0] == family:
                out[-1] = (family, out[-1][1] + drawn)
            else:
                out.append((family, drawn))
            i = j
        return "".join(f'<font name="{f}">{escape(t)}</font>' for f, t in out)

    def para(self, text: str, size: float, families: tuple[str, ...], *, leading: float = 1.35) -> Any:
        from reportlab.platypus import Paragraph

        key = (families[0], size)
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self.style(
                f"s{len(self._styles)}", fontName=families[0], fontSize=size, leading=size * leading, wordWrap="CJK"
            )
        return Paragraph("<br/>".join(self.markup(line, families) for line in text.split("\n")), style)

    def render(self, doc: Any) -> bytes:
        return _reportlab_certificate(self, doc)


MJ_FIRST = ("IPAmjMincho", "IPAexMincho")
EX_FIRST = ("IPAexMincho", "IPAmjMincho")
GOTHIC = ("IPAexGothic", "IPAexMincho", "IPAmjMincho")


def _variation_glyphs(path: Path) -> dict[tuple[int, int], int]:
    """(base, selector) → glyph id from the font's cmap format 14 (a default sequence maps to the base glyph)."""
    from fontTools.ttLib import TTFont

    font = TTFont(path, lazy=True)
    best = font.getBestCmap()
    out: dict[tuple[int, int], int] = {}
    for table in font["cmap"].tables:
        if table.format == 14:
            for selector, entries in table.uvsDict.items():
                for base, glyph in entries:
                    name = glyph if glyph is not None else best.get(base)
                    if name is not None:
                        out[(base, selector)] = font.getGlyphID(name)
    font.close()
    return out


def _reportlab_certificate(rl: ReportLabCandidate, doc: Any) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from lgcloud.registry import rendering

    page_w, page_h = A4
    margin_x, margin_top, margin_bottom = 14 * mm, 46 * mm, 30 * mm
    body_w = page_w - 2 * margin_x
    household = doc.layout == "household"
    lead = doc.persons[0] if doc.persons else None
    header_address = lead.address if lead else ""
    shade = colors.Color(239 / 255, 239 / 255, 239 / 255)
    grid = [("GRID", (0, 0), (-1, -1), 0.6, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")]

    def label(text: str, size: float = 7) -> Any:
        return rl.para(text, size, GOTHIC)

    def header_table() -> Any:
        rows = [
            [
                label("住所"),
                rl.para(" ".join(x for x in (header_address, lead.address_detail if lead else "") if x), 11, MJ_FIRST),
            ]
        ]
        if "household_head" in doc.items:
            rows.append([label("世帯主"), rl.para(doc.household_head_name, 11, MJ_FIRST)])
        table = Table(rows, colWidths=[32 * mm, body_w - 32 * mm])
        table.setStyle(TableStyle([*grid, ("BACKGROUND", (0, 0), (0, -1), shade)]))
        return table

    def person_table(p: Any, index: int) -> Any:
        width = rendering._ROW_PAIRS if household else 1
        rows = rendering._flow(rendering._cells(doc, p, header_address=header_address), width)
        label_size, value_size = (7, 9.5) if household else (8.5, 10.5)
        if household:
            value_w = (body_w - 7 * mm - 3 * 25 * mm) / 3
            widths = [7 * mm, 25 * mm, value_w, 25 * mm, value_w, 25 * mm, value_w]
        else:
            widths = [34 * mm, body_w - 34 * mm]
        data: list[list[Any]] = []
        style = [*grid, ("BOX", (0, 0), (-1, -1), 1, colors.black)]
        offset = 1 if household else 0
        for r, row in enumerate(rows):
            line: list[Any] = [rl.para(str(index), 10, EX_FIRST) if household and r == 0 else ""] if household else []
            col = offset
            for cell in row:
                if not cell.label:
                    line += [""] * (cell.colspan + 1)
                    style.append(("SPAN", (col, r), (col + cell.colspan, r)))
                    col += cell.colspan + 1
                    continue
                style.append(("BACKGROUND", (col, r), (col, r), shade))
                line.append(label(cell.label, label_size))
                if cell.person is not None:
                    person = cell.person
                    parts = [rl.markup(person.name_kana, GOTHIC)] if person.name_kana else []
                    name = f'<font size="{15 if not household else 13}">{rl.markup(person.name, MJ_FIRST)}</font>'
                    parts.append(name)
                    parts += (
                        [rl.markup(f"旧氏　{person.former_family_name}", MJ_FIRST)] if person.former_family_name else []
                    )
                    parts += [rl.markup(f"通称　{person.alias}", MJ_FIRST)] if person.alias else []
                    line.append(Paragraph("<br/>".join(parts), rl.name_style))
                else:
                    line.append(rl.para(cell.value, value_size, MJ_FIRST if cell.register else EX_FIRST))
                line += [""] * (cell.colspan - 1)
                if cell.colspan > 1:
                    style.append(("SPAN", (col + 1, r), (col + cell.colspan, r)))
                col += cell.colspan + 1
            data.append(line)
        if household:
            style.append(("SPAN", (0, 0), (0, len(rows) - 1)))
            style.append(("VALIGN", (0, 0), (0, -1), "MIDDLE"))
        table = Table(data, colWidths=widths)
        table.setStyle(TableStyle(style))
        return table

    closing = [
        Spacer(1, 2.5 * mm),
        rl.para("以下余白", 9, EX_FIRST),
        Spacer(1, 4 * mm),
        rl.para(doc.certification, 11, EX_FIRST),
        Spacer(1, 2 * mm),
        rl.para(rendering._wareki(doc.issued_on), 11, EX_FIRST),
        Spacer(1, 2 * mm),
        rl.para(" ".join(doc.issuer_title), 15, EX_FIRST),
    ]
    story: list[Any] = []
    sheets = rendering._sheets(doc)
    for s, sheet in enumerate(sheets):
        if s:
            story.append(PageBreak())
        for i, p in enumerate(sheet.persons):
            table = person_table(p, sheet.first_index + i)
            last = s == len(sheets) - 1 and i == len(sheet.persons) - 1
            story.append(KeepTogether([table, *closing]) if last else KeepTogether([table, Spacer(1, 2.5 * mm)]))
    import segno

    qr = segno.make(doc.verify_url, error="m")
    head = header_table() if household else None

    class NumberedCanvas(Canvas):
        """Pages are drawn at save time, when their number is known (page x/y)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._decorate(number, total)
                super().showPage()
            super().save()

        def _decorate(self, number: int, total: int) -> None:
            self.setFont("IPAexMincho", 9)
            self.drawRightString(page_w - margin_x, page_h - 18 * mm, f"{number}/{total}")
            self.setFont("IPAexMincho", 18)
            self.drawCentredString(page_w / 2, page_h - 27 * mm, " ".join(doc.title))
            if head is not None:
                head.wrapOn(self, body_w, 20 * mm)
                head.drawOn(self, margin_x, page_h - margin_top + 3 * mm)
            y = margin_bottom - 1.5 * mm
            self.setLineWidth(0.6)
            self.line(margin_x, margin_bottom, page_w - margin_x, margin_bottom)
            self.setFont("IPAexMincho", 8.5)
            self.drawString(
                margin_x,
                y - 8.5,
                f"交付番号　第{doc.issue_number}号　　{number}/{total}葉　　検証コード　{doc.verification_code}",
            )
            self.setFont("IPAexMincho", 7)
            self.drawString(
                margin_x,
                y - 18,
                "この証明書が交付されたこと及び失効していないことは、右の二次元コードから確認できます（氏名等は表示されません）。",
            )
            size = 20 * mm / len(qr.matrix)
            left, top = page_w - margin_x - 20 * mm, y
            for r, row in enumerate(qr.matrix):
                for c, dark in enumerate(row):
                    if dark:
                        self.rect(left + c * size, top - (r + 1) * size, size, size, stroke=0, fill=1)

    out = io.BytesIO()
    template = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=margin_x,
        rightMargin=margin_x,
        topMargin=margin_top,
        bottomMargin=margin_bottom,
        title=doc.title,
        author=doc.issuer_title,
        keywords=doc.keywords,
    )
    template.build(story, canvasmaker=NumberedCanvas)
    return out.getvalue()


CANDIDATES: dict[str, Callable[[], Any]] = {
    "weasyprint": WeasyPrintCandidate,
    "reportlab": ReportLabCandidate,
    "typst": TypstCandidate,
}


# --- measurements -------------------------------------------------------------------------------


@dataclass
class Cost:
    label: str
    per_call_ms: list[float] = field(default_factory=list)  # process CPU per call, one value per round
    calls: int = 0
    note: str = ""

    @property
    def ms(self) -> float:
        return statistics.median(self.per_call_ms) if self.per_call_ms else float("nan")


def _cpu_per_call(items: list[Any], call: Callable[[Any], object], warmup: int, rounds: int = 3) -> list[float]:
    """CPU ms per call: the median of ``rounds`` passes over ``items`` (after ``warmup`` calls)."""
    for item in items[:warmup]:
        call(item)
    timed = items[warmup:] or items
    results = []
    chunk = max(1, len(timed) // rounds)
    for r in range(rounds):
        part = timed[r * chunk : (r + 1) * chunk] or timed
        started = time.process_time()
        for item in part:
            call(item)
        results.append((time.process_time() - started) * 1000 / len(part))
    return results


def measure_search(count: int, warmup: int) -> Cost:
    from lgcloud.registry import queries
    from lgcloud.registry.models import Person

    ctx = _clerk()
    keys = list(Person.objects.filter(municipality_id=MUNICIPALITY).values_list("kana_key", flat=True)[:count])
    # Search as staff type it: the 氏 reading and the first kana of the 名 (e.g. タカハシタ).
    prefixes = [k[:5] for k in keys if k] or ["ア"]
    items = [prefixes[i % len(prefixes)] for i in range(count + warmup)]
    cost = Cost("registry search (search_persons by kana, audited)")
    cost.per_call_ms = _cpu_per_call(
        items, lambda kana: queries.search_persons(ctx, queries.SearchQuery(kana=kana), today=TODAY), warmup
    )
    cost.calls = count
    return cost


def measure_candidate(candidate: Any, docs: list[Any], warmup: int, label: str) -> tuple[Cost, Cost]:
    from lgcloud.registry import rendering

    render = Cost(f"{candidate.name}: {label}")
    render.per_call_ms = _cpu_per_call(docs, candidate.render, warmup)
    render.calls = len(docs) - warmup
    pdfs = [candidate.render(d) for d in docs[: min(len(docs), 10)]]
    readback = Cost(f"{candidate.name}: {label}, read-back")
    readback.per_call_ms = _cpu_per_call(pdfs * 3, rendering.read_pdf, 1)
    for pdf, doc in zip(pdfs, docs, strict=False):
        read = rendering.read_pdf(pdf)
        if read.identity.subjects != doc.atena_numbers or read.pages < rendering.expected_pages(doc):
            render.note = "the PDF does not carry its identity"
    return render, readback


def measure_issue(layout: str, count: int, warmup: int) -> Cost:
    from lgcloud.registry import certificates

    ctx = _clerk()
    households = _households(4 if layout == "household" else 1)
    requests = []
    for i in range(count + warmup):
        members = households[i % len(households)]
        subjects = tuple(members[:4]) if layout == "household" else (members[0],)
        requests.append(
            certificates.CertificateRequest(
                kind=layout,  # type: ignore[arg-type]
                atena_numbers=subjects,
                channel="counter",
                requester=certificates.Requester(name="bench"),
                include=frozenset({"household_head"}),
            )
        )
    cost = Cost(f"issue_certificate ({layout}): the whole action")
    cost.per_call_ms = _cpu_per_call(
        requests, lambda req: certificates.issue_certificate(ctx, req, today=TODAY, render_deadline=None), warmup
    )
    cost.calls = count
    return cost


# --- glyphs -------------------------------------------------------------------------------------


def _raster(pdf: bytes, work: Path, name: str) -> bytes:
    from PIL import Image

    path = work / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-singlefile", "-png", str(path), str(work / name)], check=True)
    with Image.open(work / f"{name}.png") as image:
        return image.convert("L").tobytes()


def _text(pdf: bytes, work: Path) -> str:
    path = work / "text.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True, encoding="utf-8"
    ).stdout


def check_glyphs(candidate: Any, doc: Any) -> dict[str, tuple[bool, bool]]:
    """Probe name → (drawn right, text right)."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="lgcloud-glyphs-") as tmp:
        work = Path(tmp)

        def page(family_name: str, tag: str) -> tuple[bytes, bytes]:
            person = replace(doc.persons[0], family_name=family_name)
            pdf = candidate.render(replace(doc, persons=(person,), household_head_name=""))
            return pdf, _raster(pdf, work, f"{tag}-{len(list(work.iterdir()))}")

        for probe in PROBES:
            pdf, drawn = page(probe.name, "probe")
            others = [page(probe.base, "base")[1]] + [page(t, "tofu")[1] for t in probe.tofu]
            text_ok = probe.name in _text(pdf, work)
            results[probe.name] = (all(drawn != other for other in others), text_ok)
    return results


# --- the report ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=200, help="documents timed per candidate and layout")
    parser.add_argument("--warmup", type=int, default=5, help="renders before timing (fonts, caches)")
    parser.add_argument("--searches", type=int, default=500, help="searches timed")
    parser.add_argument("--issues", type=int, default=100, help="whole issuing actions timed per layout")
    parser.add_argument("--residents", type=int, default=3000, help="residents in the synthetic town")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--candidates", default=",".join(CANDIDATES), help="comma-separated: " + ", ".join(CANDIDATES))
    parser.add_argument("--force", action="store_true", help=f"run even when the load average is above {LOAD_LIMIT}")
    parser.add_argument("--out", type=Path, help="report file (default bench/results/certificates-<date>.md)")
    args = parser.parse_args()

    before = _load()
    if before[0] > LOAD_LIMIT and not args.force:
        print(
            f"load average {_fmt_load(before)}: above {LOAD_LIMIT}, so the figures would measure the other jobs."
            " Run when the machine is quiet, or pass --force (the report then says so).",
            file=sys.stderr,
        )
        return 2
    for tool in ("pdftoppm", "pdftotext"):
        if shutil.which(tool) is None:
            print(f"{tool} is needed: apt-get install poppler-utils", file=sys.stderr)
            return 2
    names = [n.strip() for n in args.candidates.split(",") if n.strip()]
    unknown = set(names) - set(CANDIDATES)
    if unknown:
        parser.error(f"unknown candidates: {', '.join(sorted(unknown))}")

    lines: list[str] = []

    def out(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    command = ".venv/bin/python bench/certificate_renderers.py " + " ".join(sys.argv[1:])
    with ExitStack() as stack:
        started = time.monotonic()
        stack.enter_context(_database(args.residents, args.seed))
        total = args.renders + args.warmup
        docs = {"household": _documents(total, "household"), "individual": _documents(total, "individual")}
        candidates = []
        skipped = []
        for name in names:
            try:
                candidates.append(CANDIDATES[name]())
            except ImportError as exc:  # reportlab is in the bench group: uv sync --group bench
                skipped.append(f"{name} ({exc.name} is not installed: uv sync --frozen --group bench)")

        watch = stack.enter_context(LoadWatch())
        search = measure_search(args.searches, args.warmup)
        results: dict[str, dict[str, tuple[Cost, Cost]]] = {}
        glyphs: dict[str, dict[str, tuple[bool, bool]]] = {}
        for candidate in candidates:
            results[candidate.name] = {
                layout: measure_candidate(candidate, docs[layout], args.warmup, label)
                for layout, label in (("household", "世帯連記式, 4 persons"), ("individual", "個人票"))
            }
            glyphs[candidate.name] = check_glyphs(candidate, docs["individual"][0])
        issues = [measure_issue(layout, args.issues, args.warmup) for layout in ("individual", "household")]
        stack.close()  # the load watch and the database
        after = _load()
        elapsed = time.monotonic() - started

    out(f"## 住民票の写し: renderers, {date.today().isoformat()}")
    out()
    out(f"- machine: {_machine()}")
    out(f"- versions: {_versions()}")
    out(f"- command: `{command}`")
    out(
        f"- load average (1/5/15 min) before: {_fmt_load(before)}; during (1 min, highest of"
        f" {len(watch.samples)} samples every 5 s): {max(watch.samples):.2f}; after: {_fmt_load(after)}"
    )
    if before[0] > LOAD_LIMIT:
        out(f"- **run with --force above load {LOAD_LIMIT}: the figures include other jobs' CPU; indicative only**")
    out(
        f"- {args.residents:,} synthetic residents in {MUNICIPALITY}; {args.renders} documents timed per candidate and"
        f" layout after {args.warmup} warm-up renders, {args.searches} searches, {args.issues} issues per layout;"
        f" run time {elapsed:,.0f} s"
    )
    for line in skipped:
        out(f"- skipped: {line}")
    out()
    out(f"A registry search costs **{search.ms:.2f} ms** of CPU (median of 3 passes: {_passes(search)}).")
    out()
    out("| candidate | layout | render ms CPU | read-back ms | per PDF ms | × search | goal ms | goal met |")
    out("|---|---|---:|---:|---:|---:|---:|---|")
    for name, layouts in results.items():
        for layout, (render, readback) in layouts.items():
            per_pdf = render.ms + readback.ms
            goal = GOAL_HOUSEHOLD_MS if layout == "household" else GOAL_INDIVIDUAL_MS
            met = per_pdf <= goal and (layout == "household" or per_pdf <= GOAL_SEARCH_RATIO * search.ms)
            note = f" ({render.note})" if render.note else ""
            out(
                f"| {name} | {'世帯連記式 (4)' if layout == 'household' else '個人票'} | {render.ms:.1f}"
                f" ({_passes(render)}) | {readback.ms:.2f} | {per_pdf:.1f} | {per_pdf / search.ms:.1f} | {goal:.0f}"
                f" | {'yes' if met else 'no'}{note} |"
            )
    out()
    out(
        f"Goals: ≤ {GOAL_INDIVIDUAL_MS:.0f} ms and ≤ {GOAL_SEARCH_RATIO}× a search for a 個人票,"
        f" ≤ {GOAL_HOUSEHOLD_MS:.0f} ms for a 世帯連記式 of 4 (issue 17)."
    )
    out()
    out("The whole issuing action with the renderer in use (checks, render, read-back, Certificate row, audit):")
    out()
    out("| action | ms CPU | × search |")
    out("|---|---:|---:|")
    for cost in issues:
        out(f"| {cost.label} | {cost.ms:.1f} ({_passes(cost)}) | {cost.ms / search.ms:.1f} |")
    out()
    out("Glyphs (drawn: differs from the base form and from tofu; text: pdftotext gives the name back as stored):")
    out()
    out("| candidate | " + " | ".join(_show(p.name) for p in PROBES) + " |")
    out("|---|" + "---|" * len(PROBES))
    for name, by_probe in glyphs.items():
        cells = [
            ("drawn" if drawn else "**WRONG**") + (", text" if text else ", no text")
            for drawn, text in by_probe.values()
        ]
        out(f"| {name} | " + " | ".join(cells) + " |")
    report = "\n".join(lines) + "\n"
    target = args.out or ROOT / "bench" / "results" / f"certificates-{date.today().isoformat()}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(report, encoding="utf-8")
    print(f"\nwritten to {target}")
    return 0


def _passes(cost: Cost) -> str:
    return " / ".join(f"{x:.1f}" for x in cost.per_call_ms)


def _show(name: str) -> str:
    """A probe name with its selector spelled out (a table cell would show it invisibly)."""
    return "".join(f"+U+{ord(c):X}" if "\U000e0100" <= c <= "\U000e01ef" else c for c in name)


if __name__ == "__main__":
    raise SystemExit(main())
