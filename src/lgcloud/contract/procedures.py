"""What an app's procedure effects, prefill items and checks receive from the procedures engine."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


class ProcedureRefused(Exception):
    """An effect or check refuses the submission; ``message`` is shown to the reviewer as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SubmissionView:
    """A submission as an effect sees it (read-only), with a way to attach a document it produced.

    ``attach(name, filename, content, content_type)`` stores a file with the submission (a 住民票の写し
    issued for the post, a notice), in the approval's transaction. ``definition`` lets an effect read
    the parts of the definition it owns (``on_approve`` options, ``definition_keys``).
    """

    number: int  # 受付番号
    procedure_code: str
    atena_number: str  # the applicant
    channel: str  # ``online`` or ``counter``
    filed_on: date  # the day it was filed (JST)
    values: Mapping[str, Any]
    definition: Mapping[str, Any]  # the definition it was filed under, as published (YAML content)
    attach: Callable[[str, str, bytes, str], None]

    @property
    def reason(self) -> str:
        """What the effect records as the reason of its change."""
        return f"オンライン申請 受付番号 {self.number}"


def on_approve_option(submission: SubmissionView, key: str) -> Any:
    """An option written under ``on_approve`` of the definition (``programme: covid_2020``)."""
    on_approve = submission.definition.get("on_approve") or {}
    return on_approve.get(key) if isinstance(on_approve, Mapping) else None
