"""Paper fallback: a procedure as a prefilled PDF form to sign and bring or post (WeasyPrint).

Pure of the database: it takes the definition and the prefilled items as values. Items the
registry knows are printed; the rest are empty boxes to fill in by hand.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from .rules.definitions import Definition


def render_paper_form(
    definition: Definition,
    *,
    version: int,
    prefilled: dict[str, dict[str, Any]],
    municipality: str,
    fees: dict[str, int],
) -> bytes:
    from weasyprint import HTML  # imported here: loading WeasyPrint costs ~1 s

    html = render_to_string(
        "procedures/paper.html",
        {"d": definition, "version": version, "prefilled": prefilled, "municipality": municipality, "fees": fees},
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
