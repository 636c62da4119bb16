"""Certificates as PDF: HTML from a plain data object, then WeasyPrint. Pure of the database.

:func:`render_pdf` takes a :class:`CertificateDocument` (values only, no ORM
objects, no context) and returns the PDF bytes. It may run in a worker thread
(see ``certificates.issue_certificate``), so it touches nothing shared: no
database, no module state; it only reads its own template and stylesheet.

Layout (住民記録システム標準仕様書): 世帯連記式 prints up to 4 persons per A4 sheet, 個人票
one person. The title and household header (住所・世帯主) and the footer (交付番号,
page x/y, verification code, QR) repeat on every page as CSS running elements;
persons flow between them, never split, with a new page at every sheet. Nothing
has a fixed height, so nothing can be clipped: a sheet that does not fit flows
onto another page, numbered by CSS counters.

Fonts are named explicitly (the default ``fc-match`` changes when other CJK
fonts are installed): values from the register (names, addresses, 本籍) are set
in IPAmj明朝 ("IPAmjMincho"), the only installed font with 𠮷 (U+20BB7) and the
MJ 異体字 selected by IVS (葛+U+E0102 …); labels in IPAexゴシック, the rest in
IPAex明朝.

Every PDF carries its own identity in the document information dictionary
(``/Keywords``): the municipality, the 交付番号, the kind, the 宛名番号 of the
persons printed, in order, and the verification code. :func:`read_identity`
reads it back from the bytes, so the caller can check the document it is about
to hand out against the request (the final-step invariant).

Test hook: with ``settings.DEVELOPMENT`` true, ``settings.LGCLOUD_RENDER_DELAY_SECONDS``
(default 0) makes :func:`render_pdf` sleep that long before rendering, to inject a
slow renderer in timeout and concurrency tests. Production settings never read it.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

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
                # "+", not ",": WeasyPrint splits <meta name=keywords> at commas (and drops repeats).
                f"subjects={'+'.join(self.atena_numbers)}",
                f"code={self.verification_code}",
            ]
        )


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    pages: int


@dataclass(frozen=True)
class PdfIdentity:
    lg_code: str
    issue_number: int
    kind: str
    subjects: tuple[str, ...]
    verification_code: str


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


def _qr_data_uri(url: str) -> str:
    # Medium error correction survives a fold or a stain on a printed sheet.
    return str(segno.make(url, error="m").svg_data_uri(scale=1, border=0, dark="#000"))


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


def html_for(doc: CertificateDocument) -> str:
    """The certificate as HTML (Django's template engine; every value is auto-escaped)."""
    sheets = _sheets(doc)
    lead = doc.persons[0] if doc.persons else None
    header_address = lead.address if lead else ""
    width = _ROW_PAIRS if doc.layout == "household" else 1
    context = {
        "doc": doc,
        "keywords": doc.keywords,  # computed here so that a bad identifier stops the render loudly
        "household": doc.layout == "household",
        "show_head": "household_head" in doc.items,
        "header_address": " ".join(x for x in (header_address, lead.address_detail if lead else "") if x),
        "sheets": [
            {
                "persons": [
                    {"index": s.first_index + i, "rows": _flow(_cells(doc, p, header_address=header_address), width)}
                    for i, p in enumerate(s.persons)
                ],
            }
            for s in sheets
        ],
        "issued_on": _wareki(doc.issued_on),
        "qr": _qr_data_uri(doc.verify_url),
        "css": mark_safe((_TEMPLATES / "certificate.css").read_text(encoding="utf-8")),  # noqa: S308 - our own file
    }
    return render_to_string("registry/certificate.html", context)


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
    """HTML → PDF with WeasyPrint; the identity goes into the PDF's /Keywords."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    delay = _injected_delay()
    if delay:
        time.sleep(delay)
    html = html_for(doc)
    # A certificate loads nothing from outside: its only image is an inline data: URI,
    # and a failure to load it stops the rendering instead of printing a sheet without it.
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    document = HTML(string=html, base_url=str(_TEMPLATES), url_fetcher=fetcher).render()
    return RenderedPdf(document.write_pdf(), len(document.pages))


# --- reading the identity back ----------------------------------------------------------------
#
# A deliberately small reader for what WeasyPrint (pydyf) writes: the trailer (or the
# cross-reference stream's dictionary, which is never compressed) names the /Info object;
# that object is either a plain "N 0 obj" or sits in a Flate-compressed object stream.
# Anything it does not understand is an error, so the caller fails closed.


def _info_object_number(pdf: bytes) -> int:
    refs = re.findall(rb"/Info\s+(\d+)\s+0\s+R", pdf)
    if not refs:
        raise PdfIdentityError("PDF に文書情報がありません。")
    return int(refs[-1])  # the last trailer wins (incremental updates append)


def _object_streams(pdf: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(/First, /N, inflated data) of every object stream."""
    for match in re.finditer(rb"/Type\s*/ObjStm", pdf):
        start = pdf.rfind(b" obj", 0, match.start())
        stream_kw = re.compile(rb"stream\r?\n").search(pdf, match.end())
        if start < 0 or stream_kw is None:
            raise PdfIdentityError("PDF のオブジェクトストリームを読めません。")
        header = pdf[start : stream_kw.start()]
        length = re.search(rb"/Length\s+(\d+)(?!\s+\d+\s+R)", header)
        first = re.search(rb"/First\s+(\d+)", header)
        count = re.search(rb"/N\s+(\d+)", header)
        if length is None or first is None or count is None or b"/FlateDecode" not in header:
            raise PdfIdentityError("PDF のオブジェクトストリームを読めません。")
        raw = pdf[stream_kw.end() : stream_kw.end() + int(length.group(1))]
        yield int(first.group(1)), int(count.group(1)), zlib.decompress(raw)


def _object_body(pdf: bytes, number: int) -> bytes:
    direct = re.search(rb"(?<![0-9])%d\s+0\s+obj\b(.*?)endobj" % number, pdf, flags=re.S)
    if direct is not None:
        return direct.group(1)
    for first, count, data in _object_streams(pdf):
        numbers = [int(n) for n in data[:first].split()]
        if len(numbers) != 2 * count:
            raise PdfIdentityError("PDF のオブジェクトストリームを読めません。")
        pairs = list(zip(numbers[0::2], numbers[1::2], strict=True))
        for i, (num, offset) in enumerate(pairs):
            if num == number:
                end = pairs[i + 1][1] if i + 1 < len(pairs) else len(data) - first
                return data[first + offset : first + end]
    raise PdfIdentityError("PDF の文書情報が見つかりません。")


_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}


def _literal_string(data: bytes, start: int) -> bytes:
    """A PDF literal string starting at ``data[start] == b'('``: balanced parentheses, backslash escapes."""
    out = bytearray()
    depth = 0
    i = start
    while i < len(data):
        ch = data[i : i + 1]
        if ch == b"\\":
            nxt = data[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out += _ESCAPES[nxt]
                i += 2
                continue
            octal = re.match(rb"[0-7]{1,3}", data[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(0), 8) & 0xFF)
                i += 1 + len(octal.group(0))
                continue
            if nxt == b"\r" and data[i + 2 : i + 3] == b"\n":
                i += 3  # line continuation (CR LF)
            elif nxt in (b"\r", b"\n"):
                i += 2  # line continuation
            else:
                out += nxt  # an unknown escape stands for the character itself
                i += 2
            continue
        if ch == b"(":
            depth += 1
            if depth > 1:
                out += ch
        elif ch == b")":
            depth -= 1
            if depth == 0:
                return bytes(out)
            out += ch
        else:
            out += ch
        i += 1
    raise PdfIdentityError("PDF の文字列が閉じていません。")


def _text(raw: bytes) -> str:
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    return raw.decode("latin-1")


def _info_entry(info: bytes, key: bytes) -> str:
    match = re.search(rb"/" + key + rb"\s*([(<])", info)
    if match is None:
        raise PdfIdentityError("PDF に識別情報がありません。")
    if match.group(1) == b"(":
        return _text(_literal_string(info, match.start(1)))
    end = info.index(b">", match.end())
    return _text(bytes.fromhex(info[match.end() : end].decode("ascii")))


def read_identity(pdf: bytes) -> PdfIdentity:
    """The identity the PDF carries (see :attr:`CertificateDocument.keywords`), read from its bytes."""
    try:
        info = _object_body(pdf, _info_object_number(pdf))
        keywords = _info_entry(info, b"Keywords").split()
    except (ValueError, zlib.error) as exc:
        if isinstance(exc, PdfIdentityError):
            raise
        raise PdfIdentityError("PDF の識別情報を読めません。") from exc
    if not keywords or keywords[0] != IDENTITY_TAG:
        raise PdfIdentityError("lgcloud の証明書ではありません。")
    fields = dict(token.split("=", 1) for token in keywords[1:] if "=" in token)
    try:
        return PdfIdentity(
            lg_code=fields["lg"],
            issue_number=int(fields["issue"]),
            kind=fields["kind"],
            subjects=tuple(fields["subjects"].split("+")),
            verification_code=fields["code"],
        )
    except (KeyError, ValueError) as exc:
        raise PdfIdentityError("PDF の識別情報が欠けています。") from exc
