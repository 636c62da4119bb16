"""Reads of the procedures app: the published catalogue, a resident's submissions, the review queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.http import Http404
from django.utils import timezone

from lgcloud.audit.actions import record as audit
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext, bound

from . import hooks, prefill
from .models import Attachment, ProcedureDefinition, Submission, SubmissionEvent, SubmissionStatus
from .rules.deadlines import filing_deadline
from .rules.definitions import Definition, parse_definition

REVIEW = PlatformPermission.REVIEW


@dataclass(frozen=True)
class PublishedProcedure:
    code: str
    version: int
    definition: Definition
    content: dict[str, Any]  # as published (the parts the approval's effect reads, such as its fees)


@dataclass(frozen=True)
class ComparisonRow:
    label: str
    registry_value: str
    submitted_value: str
    differs: bool
    note: str = ""


def published_procedures(ctx: TenantContext, *, open_only: bool = False) -> list[PublishedProcedure]:
    """The latest published version of every procedure; with ``open_only``, those the municipality can
    take now (the portal and the counter list these; review sees every procedure)."""
    with bound(ctx):
        latest: dict[str, ProcedureDefinition] = {}
        for row in ProcedureDefinition.objects.order_by("code", "version"):
            latest[row.code] = row
        out = []
        for r in latest.values():
            definition = parse_definition(r.content)
            if open_only:
                if not hooks.available(ctx.tenant_code, definition):
                    continue  # the municipality uses no app that performs it (the app directory)
                definition = prefill.resolve_choices(ctx, definition)
                if any(f.choices_from and not f.choices for f in definition.fields):
                    continue  # e.g. 給付金の申請 while no programme takes applications
            out.append(PublishedProcedure(r.code, r.version, definition, r.content))
        return out


def published_procedure(ctx: TenantContext, code: str) -> PublishedProcedure:
    with bound(ctx):
        row = ProcedureDefinition.objects.filter(code=code).order_by("-version").first()
        if row is None:
            raise Http404("この手続は受け付けていません。")
        definition = prefill.resolve_choices(ctx, parse_definition(row.content))
        return PublishedProcedure(row.code, row.version, definition, row.content)


def definition_versions(ctx: TenantContext, code: str) -> list[int]:
    with bound(ctx):
        return list(ProcedureDefinition.objects.filter(code=code).order_by("version").values_list("version", flat=True))


def submission_definition(ctx: TenantContext, submission: Submission) -> Definition:
    """The definition version the submission was filed under (not today's)."""
    return prefill.resolve_choices(ctx, parse_definition(submission.definition.content))


def prefill_for(
    ctx: TenantContext, definition: Definition, atena_number: str, *, today: date, municipality_name: str
) -> dict[str, dict[str, Any]]:
    with bound(ctx):
        return prefill.prefill_for(ctx, definition, atena_number, today=today, municipality_name=municipality_name)


def deadline_for(ctx: TenantContext, definition: Definition, values: dict[str, Any]) -> date | None:
    """The last day to file, from the event date entered (届出期間, with closed days)."""
    if definition.deadline is None:
        return None
    raw = values.get(definition.deadline.field)
    try:
        event = date.fromisoformat(str(raw))
    except ValueError:
        return None
    return filing_deadline(event, definition.deadline.days)


def fee_quote(
    ctx: TenantContext, definition: Definition, content: dict[str, Any], *, today: date
) -> list[tuple[str, int]]:
    """The fees to show before filing, [(label, yen per copy)], as the approval's effect states them."""
    offer = hooks.effect_for(ctx.tenant_code, definition.approval_action)
    if offer is None or not offer.spec.fees:
        return []
    return [(str(label), int(yen)) for label, yen in offer.call("fees")(ctx, content, today)]


def resident_submissions(ctx: TenantContext, account_id: int) -> list[Submission]:
    ctx.require(PlatformPermission.RESIDENT_FILE)
    with bound(ctx):
        return list(
            Submission.objects.select_related("definition")
            .filter(municipality_id=ctx.tenant_code, resident_account_id=account_id)
            .order_by("-number")
        )


def reviewable_codes(ctx: TenantContext) -> list[PublishedProcedure]:
    """The procedures ctx reviews (by the definition's reviewing role)."""
    roles = {r.value for r in ctx.roles}
    return [p for p in published_procedures(ctx) if p.definition.reviewer_role in roles or ctx.is_system]


def review_queue(ctx: TenantContext, *, code: str = "", status: str = "") -> list[Submission]:
    """Open submissions (or those of ``status``) of ctx's municipality, of the procedures ctx reviews."""
    ctx.require(REVIEW)
    codes = [p.code for p in reviewable_codes(ctx)]
    if code:
        codes = [c for c in codes if c == code]
    with bound(ctx):
        qs = Submission.objects.select_related("definition").filter(
            municipality_id=ctx.tenant_code, procedure_code__in=codes
        )
        if status:
            qs = qs.filter(status=status)
        else:
            qs = qs.filter(status__in=[SubmissionStatus.SUBMITTED, SubmissionStatus.IN_REVIEW])
        rows = list(qs.order_by("submitted_at", "number")[:200])
        audit(ctx, "procedures.queue.listed", subject_type="submission_queue", subject_id=len(rows))
        return rows


def submission_events(ctx: TenantContext, submission: Submission) -> list[SubmissionEvent]:
    with bound(ctx):
        return list(
            SubmissionEvent.objects.filter(municipality_id=ctx.tenant_code, submission=submission).order_by(
                "occurred_at", "id"
            )
        )


def submission_attachments(ctx: TenantContext, submission: Submission) -> list[Attachment]:
    with bound(ctx):
        return list(Attachment.objects.filter(municipality_id=ctx.tenant_code, submission=submission).order_by("id"))


def comparison(ctx: TenantContext, submission: Submission) -> list[ComparisonRow]:
    """The submission beside the registry record as it is now, differences marked.

    Prefilled items: the value shown to the resident vs. the registry now (a change since filing,
    or a resident's 「違う」 note, is marked). Entered items tied to a registry item (e.g. the new
    address): the registry's current value vs. what is asked for.
    """
    definition = submission_definition(ctx, submission)
    with bound(ctx):
        current = prefill.prefill_for(
            ctx, definition, submission.atena_number, today=timezone.localdate(), municipality_name=""
        )
        stored = prefill.stored_values(ctx, definition, submission.atena_number)
    rows: list[ComparisonRow] = []
    for p in definition.prefill:
        shown = str(submission.prefill.get(p.field, {}).get("value", ""))
        now = str(current.get(p.field, {}).get("value", ""))
        note = submission.disputes.get(p.field, "")
        rows.append(ComparisonRow(p.label, now, shown, shown != now or bool(note), note))
    for f in definition.fields:
        if f.name not in stored:
            continue
        asked = str(submission.values.get(f.name) or "")
        now = stored[f.name]
        rows.append(ComparisonRow(f.label, now, asked, asked != now))
    return rows
