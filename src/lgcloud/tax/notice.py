"""税額決定通知書 as PDF: HTML from a plain data object, then WeasyPrint (as registry/rendering.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.template.loader import render_to_string

from lgcloud.core import wareki

from .rules.collection import ORDINARY_MONTHS, SPECIAL_MONTHS


@dataclass(frozen=True)
class NoticeDocument:
    municipality_name: str
    fiscal_year: int
    atena_number: str
    name: str
    address: str
    total: int
    collection: str
    collection_label: str
    instalments: list[int]
    lines: list[dict[str, Any]]
    issued_on: date


def _era_year(fiscal_year: int) -> str:
    return wareki.format_date(date(fiscal_year, 4, 1)).split("年")[0] + "年度"


def html_for(doc: NoticeDocument) -> str:
    months = SPECIAL_MONTHS if doc.collection == "special" else ORDINARY_MONTHS
    labels = (
        [f"{m}月" for m in months]
        if doc.collection == "special"
        else [f"第{i}期（{m}月）" for i, m in enumerate(months, 1)]
    )
    return render_to_string(
        "tax/notice.html",
        {
            "doc": doc,
            "era_year": _era_year(doc.fiscal_year),
            "issued_on": wareki.format_date(doc.issued_on),
            "schedule": list(zip(labels, doc.instalments, strict=False)),
            "lines": [line for line in doc.lines if line["amount"] or line["code"] in {"total", "taxable_income"}],
        },
    )


def render_notice_pdf(doc: NoticeDocument) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return bytes(HTML(string=html_for(doc), url_fetcher=fetcher).write_pdf())
