"""Certificates as PDF: a plain data object, laid out by Typst. Pure of the database.

:func:`render_pdf` takes a :class:`CertificateDocument` (values only, no ORM
objects, no context) and returns the PDF bytes. It may run in a worker thread
(see ``certificates.issue_certificate``) while another thread renders another
certificate, so every render has its own Typst compiler and its own input; the
only thing shared is :class:`Typesetter` (the fonts, the template and the fonts'
variation-sequence tables), loaded once per process and never changed after.
Typst's own memo cache is keyed by a hash of every input it read, so a render can
only ever reuse work done for identical inputs (ADR 0003).

Layout (住民記録システム標準仕様書): 世帯連記式 prints up to 4 persons per A4 sheet, 個人票
one person. The title and household header (住所・世帯主) and the footer (交付番号,
page x/y, verification code, QR) repeat on every page; persons flow between
them, never split, with a new page at every sheet. Nothing has a fixed height, so
nothing can be clipped: a sheet that does not fit flows onto another page. The
layout itself is ``templates/registry/certificate.typ``; this module decides what
goes in it (which items, in which rows) and passes it as JSON.

Fonts are files, named explicitly (no ``fc-match``): values from the register
(names, addresses, 本籍) are set in IPAmj明朝, the only installed font with 𠮷
(U+20BB7) and the MJ 異体字 selected by IVS (葛+U+E0102 …); labels in IPAexゴシック,
the rest in IPAex明朝. Typst applies the fonts' variation-sequence tables (cmap
format 14) itself and falls back from IPAmj明朝 to IPAex明朝 for a character IPAmj
lacks. It does not fall back for a *sequence* a font lacks (it would draw IPAmj's
base glyph), so :func:`register_runs` sends an IVS sequence that only IPAex明朝
registers (the Adobe-Japan1 collection, e.g. 葛+U+E0100) to IPAex明朝.

Every PDF carries its own identity in the document information dictionary
(``/Keywords``): the municipality, the 交付番号, the kind, the 宛名番号 of the
persons printed, in order, and the verification code. :func:`read_pdf` reads it
back from the bytes with pypdf, with the number of pages, so the caller can check
the document it is about to hand out against the request (the final-step invariant).

Test hook: with ``settings.DEVELOPMENT`` true, ``settings.LGCLOUD_RENDER_DELAY_SECONDS``
(default 0) makes :func:`render_pdf` sleep that long before rendering, to inject a
slow renderer in timeout and concurrency tests. Production settings never read it.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import segno
from django.conf import settings

from lgcloud.core.checks import CERTIFICATE_FONT_FILES
from lgcloud.core.wareki import format_date

Layout = Literal["household", "individual"]

PERSONS_PER_SHEET = 4  # 世帯連記式: up to 4 persons per A4 sheet (住民記録システム標準仕様書)
IDENTITY_TAG = "lgcloud-certificate/1"
_TEMPLATES = Path(__file__).resolve().parent / "templates" / "registry"
_TOKEN = re.compile(r"[0-9A-Za-z_-]+")


@dataclass(frozen=True)
class PrintedPerson:
    """One person as printed. The document's ``items`` decide which rows appear; an empty value prints blank."""

    atena_number: str  # not printed; carried into the PDF's identity
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str  # 男 / 女
    address: str
    address_detail: str = ""
    former_family_name: str = ""  # 旧氏
    alias: str = ""  # 通称
    relationship: str = ""  # 続柄 (世帯主 for the head)
    resident_since: date | None = None  # 住民となった年月日
    address_since: date | None = None  # 住定日
    filed_on: date | None = None  # 届出日
    previous_address: str = ""  # 転入前住所
    domicile: str = ""  # 本籍
    domicile_head: str = ""  # 筆頭者
    resident_code: str = ""  # 住民票コード
    individual_number: str = ""  # 個人番号
    notes: tuple[str, ...] = ()  # 備考

    @property
    def name(self) -> str:
        return f"{self.family_name}　{self.given_name}" if self.given_name else self.family_name

    @property
    def name_kana(self) -> str:
        return f"{self.family_name_kana}　{self.given_name_kana}" if self.given_name_kana else self.family_name_kana


@dataclass(frozen=True)
class CertificateDocument:
    """Everything printed on one certificate, decided by the caller; this module only lays it out.

    ``items`` names the optional rows printed, in the order given, from:
    ``household_head`` (世帯主・続柄), ``resident_since``, ``address_since``,
    ``filed_on``, ``previous_address``, ``domicile`` (本籍・筆頭者),
    ``resident_code``, ``individual_number``, ``notes``. 氏名, 生年月日, 性別 and
    住所 are always printed.
    """

    kind: str
    title: str
    layout: Layout
    certification: str  # 認証文
    lg_code: str
    municipality_name: str  # 東京都千代田区
    issuer_title: str  # 千代田区長
    issue_number: int
    issued_on: date
    verification_code: str
    verify_url: str
    persons: tuple[PrintedPerson, ...]
    items: tuple[str, ...] = ()
    household_head_name: str = ""  # printed in the header when "household_head" is an item

    @property
    def atena_numbers(self) -> tuple[str, ...]:
        return tuple(p.atena_number for p in self.persons)

    @property
    def keywords(self) -> str:
        """The identity written into the PDF: ASCII tokens, no personal data beyond 宛名番号."""
        for token in (self.lg_code, self.kind, self.verification_code, *self.atena_numbers):
            if not _TOKEN.fullmatch(token):
                raise ValueError("識別子に使えない文字が含まれています。")
        return " ".join(
            [
                IDENTITY_TAG,
                f"lg={self.lg_code}",
                f"issue={self.issue_number}",
                f"kind={self.kind}",
                # "+", not ",": PDF tools read a comma in /Keywords as a separator between keywords.
                f"subjects={'+'.join(self.atena_numbers)}",
                f"code={self.verification_code}",
            ]
        )


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes


@dataclass(frozen=True)
class PdfIdentity:
    lg_code: str
    issue_number: int
    kind: str
    subjects: tuple[str, ...]
    verification_code: str


@dataclass(frozen=True)
class PdfReadBack:
    identity: PdfIdentity
    pages: int


class PdfIdentityError(ValueError):
    """The PDF's identity is missing or unreadable."""


# --- layout -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sheet:
    number: int
    persons: tuple[PrintedPerson, ...]
    first_index: int  # 1-based number of the first person on the sheet


def _sheets(doc: CertificateDocument) -> list[_Sheet]:
    size = PERSONS_PER_SHEET if doc.layout == "household" else 1
    chunks = [doc.persons[i : i + size] for i in range(0, len(doc.persons), size)] or [()]
    return [_Sheet(n, chunk, (n - 1) * size + 1) for n, chunk in enumerate(chunks, start=1)]


def expected_pages(doc: CertificateDocument) -> int:
    """The fewest pages the document can take: one per sheet (a sheet starts a new page).

    A sheet whose persons do not fit one page flows onto the next (nothing is
    clipped), so a document may have more pages than this, never fewer.
    """
    return len(_sheets(doc))


def _wareki(value: date | None) -> str:
    return format_date(value) if value is not None else ""


@dataclass(frozen=True)
class _Cell:
    label: str
    value: str = ""
    span: int = 1  # in label+value pairs
    register: bool = True  # a value from the register: set in IPAmj明朝
    person: PrintedPerson | None = None  # the 氏名 cell (name, reading, 旧氏・通称)

    @property
    def colspan(self) -> int:
        return 2 * self.span - 1


_ROW_PAIRS = 3  # 世帯連記式: three label+value pairs per row


def _cells(doc: CertificateDocument, p: PrintedPerson, *, header_address: str) -> list[_Cell]:
    """The items printed for one person (住基法 第7条), ordered so that 世帯連記式 rows pack tight."""
    items = set(doc.items)
    individual = doc.layout == "individual"
    cells = [_Cell("氏名", span=2, person=p), _Cell("生年月日", _wareki(p.birth_date), register=False)]
    cells.append(_Cell("性別", p.sex, register=False))
    if "household_head" in items:
        if individual:
            cells.append(_Cell("世帯主", doc.household_head_name))
        cells.append(_Cell("続柄", p.relationship))
    if individual or p.address != header_address:
        cells.append(_Cell("住所", " ".join(x for x in (p.address, p.address_detail) if x), span=_ROW_PAIRS))
    if "resident_since" in items:
        cells.append(_Cell("住民となった年月日", _wareki(p.resident_since), register=False))
    if "address_since" in items:
        cells.append(_Cell("住定日", _wareki(p.address_since), register=False))
    if "filed_on" in items:
        cells.append(_Cell("届出日", _wareki(p.filed_on), register=False))
    if "resident_code" in items:
        cells.append(_Cell("住民票コード", p.resident_code, register=False))
    if "previous_address" in items:
        cells.append(_Cell("転入前住所", p.previous_address, span=_ROW_PAIRS))
    if "domicile" in items:
        cells.append(_Cell("本籍", p.domicile, span=2))
        cells.append(_Cell("筆頭者", p.domicile_head))
    if "individual_number" in items:
        cells.append(_Cell("個人番号", p.individual_number, register=False))
    if "notes" in items:
        cells.append(_Cell("備考", "\n".join(p.notes), span=2))
    return cells


def _flow(cells: list[_Cell], width: int) -> list[list[_Cell]]:
    """Cells into rows of ``width`` pairs, in order; a row that a cell does not fit is padded."""
    rows: list[list[_Cell]] = []
    row: list[_Cell] = []
    used = 0
    for cell in cells:
        span = min(cell.span, width)
        if used + span > width:
            rows.append([*row, _Cell("", span=width - used, register=False)] if used < width else row)
            row, used = [], 0
        row.append(cell if span == cell.span else _Cell(cell.label, cell.value, span, cell.register, cell.person))
        used += span
    if row:
        rows.append([*row, _Cell("", span=width - used, register=False)] if used < width else row)
    return rows


# --- fonts and the glyph routing --------------------------------------------------------------

# The two Mincho families whose variation sequences decide a run's font (the template names all
# three families; core.checks.CERTIFICATE_FONT_FILES has their files and warns when one is missing).
MJ, EX = "IPAmjMincho", "IPAexMincho"
_SELECTOR = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")  # variation selectors (VS1–16, IVS VS17–256)


class TypesetError(RuntimeError):
    """Typst reported a problem (an unknown font, a bad value); the document is not issued."""


@dataclass(frozen=True)
class Typesetter:
    """What every render shares, loaded once per process and never changed afterwards."""

    fonts: Any  # typst.Fonts: the three certificate fonts, nothing from the system
    template: bytes
    mj_sequences: frozenset[tuple[int, int]]  # (base, selector) pairs IPAmj明朝's cmap format 14 registers
    ex_sequences: frozenset[tuple[int, int]]  # the same for IPAex明朝


_typesetter: Typesetter | None = None
_typesetter_lock = threading.Lock()


def _sequences(path: Path) -> frozenset[tuple[int, int]]:
    from fontTools.ttLib import TTFont

    font = TTFont(path, lazy=True)  # only the cmap is read, not the 46 MB of outlines
    pairs: set[tuple[int, int]] = set()
    for table in font["cmap"].tables:
        if table.format == 14:
            for selector, entries in table.uvsDict.items():
                pairs.update((base, selector) for base, _glyph in entries)
    font.close()
    return frozenset(pairs)


def _load_typesetter() -> Typesetter:
    import typst

    files = {family: Path(path) for family, path in CERTIFICATE_FONT_FILES.items()}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise TypesetError("証明書用のフォントがありません: " + ", ".join(missing))
    fonts = typst.Fonts(
        include_system_fonts=False,
        include_embedded_fonts=False,
        font_paths=sorted({str(path.parent) for path in files.values()}),
    )
    absent = set(files) - set(fonts.families())
    if absent:
        raise TypesetError("証明書用のフォントを読めません: " + ", ".join(sorted(absent)))
    return Typesetter(
        fonts=fonts,
        template=(_TEMPLATES / "certificate.typ").read_bytes(),
        mj_sequences=_sequences(files[MJ]),
        ex_sequences=_sequences(files[EX]),
    )


def typesetter() -> Typesetter:
    """The process's :class:`Typesetter`, loaded on first use (about 0.1 s) and kept."""
    global _typesetter
    if _typesetter is None:
        with _typesetter_lock:
            if _typesetter is None:
                _typesetter = _load_typesetter()
    return _typesetter


Run = tuple[str, str]  # (text, "mj" | "ex")


def register_runs(text: str) -> list[Run]:
    """A value from the register as runs of one font each: IPAmj明朝, except an IVS sequence only IPAex明朝 has.

    A sequence neither font registers is left in IPAmj明朝, which draws the base
    character (what Unicode asks of a renderer that lacks the variant).
    """
    if not _SELECTOR.search(text):
        return [(text, "mj")]
    ts = typesetter()
    runs: list[Run] = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and _SELECTOR.fullmatch(text[j]):
            j += 1
        cluster = text[i:j]
        font = "mj"
        if j - i > 1:
            pair = (ord(cluster[0]), ord(cluster[1]))
            if pair not in ts.mj_sequences and pair in ts.ex_sequences:
                font = "ex"
        if runs and runs[-1][1] == font:
            runs[-1] = (runs[-1][0] + cluster, font)
        else:
            runs.append((cluster, font))
        i = j
    return runs


# --- the document as Typst reads it -----------------------------------------------------------

_PAGE_BODY_MM = 297 - 46 - 30  # A4 less the margins that hold the header and the footer
_VERIFY_NOTE = (
    "この証明書が交付されたこと及び失効していないことは、右の二次元コードから確認できます（氏名等は表示されません）。"
)


def _qr_svg(url: str) -> str:
    # Medium error correction survives a fold or a stain on a printed sheet.
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=1, border=0, dark="#000", xmldecl=False)
    return out.getvalue().decode("ascii")


def _lines(value: str, *, register: bool) -> list[list[Run]]:
    return [register_runs(line) if register else [(line, "ex")] for line in value.split("\n")]


def _cell(cell: _Cell) -> dict[str, Any]:
    if cell.person is not None:
        p = cell.person
        asides = [f"旧氏　{p.former_family_name}"] if p.former_family_name else []
        asides += [f"通称　{p.alias}"] if p.alias else []
        return {
            "kind": "name",
            "label": cell.label,
            "colspan": cell.colspan,
            "kana": p.name_kana,
            "name": register_runs(p.name),
            "asides": [register_runs(a) for a in asides],
        }
    if not cell.label:
        return {"kind": "blank", "colspan": cell.colspan}
    return {
        "kind": "value",
        "label": cell.label,
        "colspan": cell.colspan,
        "lines": _lines(cell.value, register=cell.register),
    }


def _estimated_height_mm(rows: list[list[_Cell]], *, individual: bool) -> float:
    """A generous estimate of a person's height: 10 characters a line per pair of columns (40 in 個人票)."""
    per_pair = 40 if individual else 10
    height = 0.0
    for row in rows:
        lines = 1
        for cell in row:
            text = cell.person.name if cell.person is not None else cell.value
            width = per_pair * cell.span
            lines = max(
                lines, sum(-(-len(line) // width) or 1 for line in text.split("\n")) + (3 if cell.person else 0)
            )
        height += lines * 5.0 + 2.0
    return height


def document_model(doc: CertificateDocument) -> dict[str, Any]:
    """Everything the template prints, as plain JSON values (register values as font runs)."""
    sheets = _sheets(doc)
    lead = doc.persons[0] if doc.persons else None
    header_address = lead.address if lead else ""
    individual = doc.layout == "individual"
    width = 1 if individual else _ROW_PAIRS
    model_sheets = []
    for sheet in sheets:
        persons = []
        for i, p in enumerate(sheet.persons):
            rows = _flow(_cells(doc, p, header_address=header_address), width)
            persons.append(
                {
                    "index": sheet.first_index + i,
                    "rows": [[_cell(c) for c in row] for row in rows],
                    # Kept on one page, unless it could not fit on any page (then it may break).
                    "breakable": _estimated_height_mm(rows, individual=individual) > _PAGE_BODY_MM * 0.9,
                }
            )
        model_sheets.append(persons)
    return {
        "title": doc.title,
        "author": doc.issuer_title,
        "keywords": doc.keywords,  # computed here so that a bad identifier stops the render loudly
        "description": f"{doc.title} 交付番号 第{doc.issue_number}号 {doc.municipality_name}",
        "household": not individual,
        "header_address": register_runs(
            " ".join(x for x in (header_address, lead.address_detail if lead else "") if x)
        ),
        "head_name": register_runs(doc.household_head_name) if "household_head" in doc.items else None,
        "issue_number": str(doc.issue_number),
        "code": doc.verification_code,
        "qr": _qr_svg(doc.verify_url),
        "verify_note": _VERIFY_NOTE,
        "sheets": model_sheets,
        "certification": doc.certification,
        "issued_on": _wareki(doc.issued_on),
        "issuer": doc.issuer_title,
    }


def _injected_delay() -> float:
    """The test hook described in the module docstring (development settings only)."""
    if not settings.DEVELOPMENT:
        return 0.0
    try:
        # Optional and development-only, so absent from the settings the stubs know.
        return max(float(settings.LGCLOUD_RENDER_DELAY_SECONDS), 0.0)  # type: ignore[misc]
    except AttributeError:
        return 0.0


def render_pdf(doc: CertificateDocument) -> RenderedPdf:
    """The certificate as PDF (Typst); the identity goes into the PDF's /Keywords."""
    import typst

    delay = _injected_delay()
    if delay:
        time.sleep(delay)
    ts = typesetter()
    data = json.dumps(document_model(doc), ensure_ascii=False, separators=(",", ":"))
    # A compiler of its own: its inputs (sys.inputs) are this document's and no other's.
    compiler = typst.Compiler(font_paths=ts.fonts, ignore_system_fonts=True)
    # Untagged: a certificate is a print image (counter, kiosk, post), and tags cost about
    # 1.5 ms of CPU per PDF (bench/certificate_renderers.py).
    pdf, warnings = compiler.compile_with_warnings(
        input=ts.template, sys_inputs={"data": data}, format="pdf", pdf_tags=False
    )
    if warnings:
        # A warning is a font or layout problem (e.g. an unknown font family): fail closed.
        raise TypesetError("Typst warned: " + "; ".join(str(w.message) for w in warnings))
    if not isinstance(pdf, bytes):
        raise TypesetError("Typst returned no PDF")
    return RenderedPdf(pdf)


# --- reading the identity back ----------------------------------------------------------------


def read_pdf(pdf: bytes) -> PdfReadBack:
    """The identity the PDF carries (see :attr:`CertificateDocument.keywords`) and its page count, from its bytes."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(pdf), strict=True)
        info = reader.metadata
        keywords = str(info.get("/Keywords", "")).split() if info is not None else []
        pages = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise PdfIdentityError("PDF の識別情報を読めません。") from exc
    if not keywords or keywords[0] != IDENTITY_TAG:
        raise PdfIdentityError("lgcloud の証明書ではありません。")
    fields = dict(token.split("=", 1) for token in keywords[1:] if "=" in token)
    try:
        identity = PdfIdentity(
            lg_code=fields["lg"],
            issue_number=int(fields["issue"]),
            kind=fields["kind"],
            subjects=tuple(fields["subjects"].split("+")),
            verification_code=fields["code"],
        )
    except (KeyError, ValueError) as exc:
        raise PdfIdentityError("PDF の識別情報が欠けています。") from exc
    return PdfReadBack(identity, pages)


def read_identity(pdf: bytes) -> PdfIdentity:
    """The identity the PDF carries, read from its bytes (see :func:`read_pdf`)."""
    return read_pdf(pdf).identity
