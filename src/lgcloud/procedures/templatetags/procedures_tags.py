"""ふりがな: ``{% ruby "転居届" "てんきょとどけ" %}`` prints ruby when the reader switched ふりがな on."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def ruby(context: dict[str, Any], text: str, reading: str) -> str:
    if context.get("furigana") and reading:
        return format_html("<ruby>{}<rp>（</rp><rt>{}</rt><rp>）</rp></ruby>", text, reading)
    return format_html("{}", text)
