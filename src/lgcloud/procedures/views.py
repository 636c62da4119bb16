"""Pages of the procedures app: the residents' portal (オンライン申請) and the staff review and counter pages.

Residents sign in with OpenID Connect (accounts.oidc); their session holds only the account id
and municipality, never a Django user. Every page works without JavaScript and by keyboard;
ふりがな and large text are switched by a plain form post.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from lgcloud.accounts import devidp, oidc
from lgcloud.accounts.residents import (
    ResidentSignInRefused,
    get_resident_account,
    resident_context,
    sign_in_resident,
)
from lgcloud.core.pages import staff_page
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.problems import Problem
from lgcloud.core.tenancy import TenantContext
from lgcloud.linkage import queries as linkage_queries
from lgcloud.municipalities.queries import get_municipality

from . import access, actions, queries, rendering, storage
from .forms import CounterStartForm, ReasonForm, procedure_form
from .rules.definitions import Definition

SESSION_KEY = "lgcloud_resident"
PENDING_KEY = "lgcloud_oidc_pending"
PREFS_KEY = "lgcloud_display"
REVIEW = PlatformPermission.REVIEW
ASSIST = PlatformPermission.COUNTER_ASSIST
STATUS_LABELS = {
    "submitted": "受付済み（審査待ち）",
    "in_review": "審査中",
    "returned": "修正をお願いしています",
    "approved": "承認（処理済み）",
    "rejected": "却下",
}
STATUS_RUBY = {
    "submitted": "うけつけずみ（しんさまち）",
    "in_review": "しんさちゅう",
    "returned": "しゅうせいをおねがいしています",
    "approved": "しょうにん（しょりずみ）",
    "rejected": "きゃっか",
}
_LG = re.compile(r"^\d{6}$")


def _display(request: HttpRequest) -> dict[str, bool]:
    prefs = request.session.get(PREFS_KEY) or {}
    return {"furigana": bool(prefs.get("furigana")), "large_text": bool(prefs.get("large_text"))}


def _municipality(lg_code: str) -> Any:
    m = get_municipality(lg_code) if _LG.match(lg_code) else None
    if m is None or not m.on_platform:
        raise Http404("この団体のオンライン申請はありません。")
    return m


def _resident(request: HttpRequest, lg_code: str) -> dict[str, Any] | None:
    data = request.session.get(SESSION_KEY)
    if isinstance(data, dict) and data.get("lg_code") == lg_code:
        return data
    return None


def _portal(
    request: HttpRequest, template: str, lg_code: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    m = _municipality(lg_code)
    base = {"lg_code": lg_code, "municipality": m, "resident": _resident(request, lg_code), **_display(request)}
    return render(request, template, base | context, status=status)


ResidentView = Callable[..., HttpResponse]


def resident_page(view: ResidentView) -> ResidentView:
    """Signed in as a resident of the municipality in the URL; otherwise to the portal's sign-in."""

    @wraps(view)
    def wrapper(request: HttpRequest, lg_code: str, *args: Any, **kwargs: Any) -> HttpResponse:
        _municipality(lg_code)
        data = _resident(request, lg_code)
        if data is None:
            return redirect(reverse("procedures:portal_home", args=[lg_code]))
        ctx = resident_context(lg_code, int(data["account_id"]))
        if get_resident_account(ctx, int(data["account_id"])) is None:
            request.session.pop(SESSION_KEY, None)
            return redirect(reverse("procedures:portal_home", args=[lg_code]))
        return view(request, ctx, data, lg_code, *args, **kwargs)

    return wrapper


# -- だれが私の情報を見たか (the resident's access history, with inclusion proofs) -------------------


def _own_atena(ctx: TenantContext, data: dict[str, Any]) -> str:
    account = get_resident_account(ctx, int(data["account_id"]))
    if account is None:
        raise Http404
    return account.atena_number


@resident_page
def access_log(request: HttpRequest, ctx: TenantContext, data: dict[str, Any], lg_code: str) -> HttpResponse:
    entries = linkage_queries.access_history(ctx.with_purpose("self.access_log"), _own_atena(ctx, data))
    return _portal(request, "procedures/access_log.html", lg_code, {"entries": entries})


@resident_page
def access_log_proof(
    request: HttpRequest, ctx: TenantContext, data: dict[str, Any], lg_code: str, entry_id: int
) -> HttpResponse:
    try:
        bundle = linkage_queries.access_proof(ctx.with_purpose("self.access_log"), _own_atena(ctx, data), entry_id)
    except Problem as exc:
        if exc.code != "not_sealed":
            raise
        messages.info(request, "この記録はまだ封印待ちです。少し時間をおいて、もう一度お試しください。")
        return redirect(reverse("procedures:access_log", args=[lg_code]))
    response = JsonResponse(bundle, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="audit-proof-{lg_code}-{bundle["entry"]["seq"]}.json"'
    return response


# -- display preferences (ふりがな, large text) -------------------------------------------------


@require_POST
def preferences(request: HttpRequest) -> HttpResponse:
    prefs = dict(request.session.get(PREFS_KEY) or {})
    for key in ("furigana", "large_text"):
        if key in request.POST:
            prefs[key] = request.POST[key] == "on"
    request.session[PREFS_KEY] = prefs
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target)


# -- sign-in -------------------------------------------------------------------------------------


def portal_home(request: HttpRequest, lg_code: str) -> HttpResponse:
    data = _resident(request, lg_code)
    procedures = queries.published_procedures(TenantContext.system(lg_code, purpose="resident.portal"), open_only=True)
    submissions = []
    if data is not None:
        ctx = resident_context(lg_code, int(data["account_id"]))
        submissions = queries.resident_submissions(ctx, int(data["account_id"]))
    return _portal(
        request,
        "procedures/portal_home.html",
        lg_code,
        {
            "procedures": procedures,
            "submissions": [(s, STATUS_LABELS[s.status], STATUS_RUBY[s.status]) for s in submissions],
            "dev_provider": devidp.enabled(),
        },
    )


def portal_login(request: HttpRequest, lg_code: str) -> HttpResponse:
    _municipality(lg_code)
    try:
        config = oidc.provider_config()
        if devidp.enabled():
            devidp.ensure_dev_client()
        url, pending = oidc.begin(config, lg_code)
    except oidc.OidcError as exc:
        return _portal(request, "procedures/sign_in_failed.html", lg_code, {"message": str(exc)}, status=503)
    request.session[PENDING_KEY] = pending.to_json()
    return HttpResponseRedirect(url)


def oidc_callback(request: HttpRequest) -> HttpResponse:
    raw = request.session.pop(PENDING_KEY, None)
    try:
        pending = oidc.pending_from_session(raw)
    except oidc.OidcError as exc:
        return render(request, "procedures/sign_in_expired.html", {"message": str(exc)}, status=400)
    lg_code = pending.lg_code
    if request.GET.get("error"):
        return _portal(
            request, "procedures/sign_in_failed.html", lg_code, {"message": "ログインが取り消されました。"}, status=400
        )
    try:
        config = oidc.provider_config()
        claims = oidc.complete(config, pending, state=request.GET.get("state", ""), code=request.GET.get("code", ""))
        signed_in = sign_in_resident(lg_code, config.issuer, claims, today=timezone.localdate())
    except (oidc.OidcError, ResidentSignInRefused) as exc:
        return _portal(request, "procedures/sign_in_failed.html", lg_code, {"message": str(exc)}, status=400)
    request.session.cycle_key()  # a new session id at sign-in (session fixation)
    request.session[SESSION_KEY] = {
        "account_id": signed_in.account_id,
        "lg_code": lg_code,
        "name": signed_in.display_name,
        "atena_number": signed_in.atena_number,
        "email": signed_in.email,
    }
    messages.success(request, f"{signed_in.display_name} さんとしてログインしました。")
    return redirect(reverse("procedures:portal_home", args=[lg_code]))


@require_POST
def portal_logout(request: HttpRequest, lg_code: str) -> HttpResponse:
    prefs = request.session.get(PREFS_KEY)
    request.session.flush()
    if prefs:
        request.session[PREFS_KEY] = prefs
    messages.success(request, "ログアウトしました。")
    return redirect(reverse("procedures:portal_home", args=[lg_code]))


def portal_help(request: HttpRequest, lg_code: str) -> HttpResponse:
    procedures = queries.published_procedures(TenantContext.system(lg_code, purpose="resident.portal"), open_only=True)
    return _portal(request, "procedures/help.html", lg_code, {"procedures": procedures})


# -- filing --------------------------------------------------------------------------------------


def _fee_rows(ctx: TenantContext, published: queries.PublishedProcedure) -> list[tuple[str, int]]:
    return queries.fee_quote(ctx, published.definition, published.content, today=timezone.localdate())


def _form_rows(form: Any, definition: Definition, errors: dict[str, list[str]]) -> dict[str, Any]:
    def row(name: str) -> dict[str, Any]:
        return {"field": form[name], "error": " ".join(errors.get(name, []))}

    return {
        "input_rows": [row(f.name) for f in definition.fields],
        "dispute_rows": {p.field: row(f"dispute_{p.field}") for p in definition.prefill},
        "file_rows": [row(f"file_{a.name}") for a in definition.attachments],
        "error_list": [(k, " ".join(v)) for k, v in errors.items()],
    }


def _filing(request: HttpRequest, definition: Definition) -> actions.Filing:
    values = {f.name: request.POST.get(f.name, "") for f in definition.fields}
    disputes = {p.field: request.POST.get(f"dispute_{p.field}", "") for p in definition.prefill}
    files = {}
    for a in definition.attachments:
        upload = request.FILES.get(f"file_{a.name}")
        if upload is not None:
            # Read at most one byte over the limit: a larger file is refused without reading it all.
            data = upload.read(a.max_bytes + 1)
            files[a.name] = actions.UploadedFile(upload.name or "attachment", data)
    return actions.Filing(values=values, disputes=disputes, files=files)


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    return {"__all__": list(exc.messages)}


@resident_page
@require_http_methods(["GET", "POST"])
def procedure_page(
    request: HttpRequest, ctx: TenantContext, data: dict[str, Any], lg_code: str, code: str
) -> HttpResponse:
    published = queries.published_procedure(ctx, code)
    definition = published.definition
    m = _municipality(lg_code)
    shown = queries.prefill_for(
        ctx, definition, data["atena_number"], today=timezone.localdate(), municipality_name=m.name
    )
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            number = actions.submit(
                ctx,
                code=code,
                atena_number=data["atena_number"],
                filing=_filing(request, definition),
                today=timezone.localdate(),
                resident_account_id=int(data["account_id"]),
                contact_email=data.get("email", ""),
            )
        except ValidationError as exc:
            errors, status = _errors(exc), 400
        else:
            messages.success(request, f"受け付けました。受付番号は {number} です。")
            return redirect(reverse("procedures:submission", args=[lg_code, number]))
        form = procedure_form(definition, data=request.POST)
    else:
        form = procedure_form(definition, initial={"contact_email": data.get("email", "")})
    deadline = queries.deadline_for(ctx, definition, dict(request.POST.items()) if request.method == "POST" else {})
    return _portal(
        request,
        "procedures/procedure_form.html",
        lg_code,
        {
            "d": definition,
            "version": published.version,
            "prefilled": shown,
            "fees": _fee_rows(ctx, published),
            "deadline": deadline,
            "multipart": bool(definition.attachments),
            **_form_rows(form, definition, errors),
        },
        status=status,
    )


@resident_page
@require_http_methods(["GET", "POST"])
def submission_page(
    request: HttpRequest, ctx: TenantContext, data: dict[str, Any], lg_code: str, number: int
) -> HttpResponse:
    submission = access.get_submission_for_resident(ctx, int(data["account_id"]), number)
    definition = queries.submission_definition(ctx, submission)
    errors: dict[str, list[str]] = {}
    status = 200
    form = None
    if submission.status == "returned":
        if request.method == "POST":
            try:
                actions.resubmit(
                    ctx,
                    account_id=int(data["account_id"]),
                    number=number,
                    filing=_filing(request, definition),
                    today=timezone.localdate(),
                )
            except ValidationError as exc:
                errors, status = _errors(exc), 400
                form = procedure_form(definition, data=request.POST)
            else:
                messages.success(request, "修正して再提出しました。")
                return redirect(reverse("procedures:submission", args=[lg_code, number]))
        if form is None:
            initial = dict(submission.values) | {f"dispute_{k}": v for k, v in submission.disputes.items()}
            form = procedure_form(definition, initial=initial)
    elif request.method == "POST":
        raise PermissionDenied
    rows = _form_rows(form, definition, errors) if form is not None else {}
    values = [(f.label, _shown_value(f, submission.values.get(f.name))) for f in definition.fields]
    return _portal(
        request,
        "procedures/submission.html",
        lg_code,
        {
            "s": submission,
            "d": definition,
            "status_label": STATUS_LABELS[submission.status],
            "status_ruby": STATUS_RUBY[submission.status],
            "values": values,
            "events": queries.submission_events(ctx, submission),
            "editable": form is not None,
            "prefilled": submission.prefill,
            **rows,
        },
        status=status,
    )


def _shown_value(spec: Any, value: Any) -> str:
    if value in (None, ""):
        return "（未入力）"
    if spec.type == "choice":
        return next((c.label for c in spec.choices if c.value == value), str(value))
    if spec.type == "boolean":
        return "はい" if value else "いいえ"
    return str(value)


def _paper(
    definition: Definition, version: int, shown: dict[str, Any], m: Any, fees: list[tuple[str, int]]
) -> HttpResponse:
    pdf = rendering.render_paper_form(
        definition, version=version, prefilled=shown, municipality=m.name, fees=dict(fees)
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{definition.code}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@resident_page
def paper_form(request: HttpRequest, ctx: TenantContext, data: dict[str, Any], lg_code: str, code: str) -> HttpResponse:
    published = queries.published_procedure(ctx, code)
    m = _municipality(lg_code)
    shown = queries.prefill_for(
        ctx, published.definition, data["atena_number"], today=timezone.localdate(), municipality_name=m.name
    )
    return _paper(published.definition, published.version, shown, m, _fee_rows(ctx, published))


# -- staff: review queue and decision -----------------------------------------------------------


@staff_page(REVIEW)
def review_queue(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    procedures = queries.reviewable_codes(ctx)
    code = request.GET.get("procedure", "")
    status = request.GET.get("status", "")
    if status not in STATUS_LABELS:
        status = ""
    rows = queries.review_queue(ctx, code=code, status=status)
    titles = {p.code: p.definition.title for p in procedures}
    return render(
        request,
        "procedures/review_queue.html",
        {
            "procedures": procedures,
            "rows": [(s, titles.get(s.procedure_code, s.procedure_code), STATUS_LABELS[s.status]) for s in rows],
            "code": code,
            "status": status,
            "statuses": list(STATUS_LABELS.items()),
        },
    )


@staff_page(REVIEW)
@require_http_methods(["GET", "POST"])
def review_detail(request: HttpRequest, ctx: TenantContext, number: int) -> HttpResponse:
    reason_form = ReasonForm(request.POST or None)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op == "claim":
                actions.claim(ctx, number)
                messages.success(request, "審査を開始しました。")
            elif op == "approve":
                actions.approve(ctx, number, today=timezone.localdate())
                messages.success(request, "承認し、処理しました。")
            elif op == "return":
                actions.return_for_correction(ctx, number, reason=request.POST.get("reason", ""))
                messages.success(request, "補正を依頼しました。")
            elif op == "reject":
                actions.reject(ctx, number, reason=request.POST.get("reason", ""))
                messages.success(request, "却下しました。")
            else:
                raise Http404
        except ValidationError as exc:
            errors = [m for v in _errors(exc).values() for m in v]
            status = 400
        else:
            return redirect(reverse("procedures:review_detail", args=[number]))
    submission = access.get_submission_for_review(ctx, number)
    definition = queries.submission_definition(ctx, submission)
    return render(
        request,
        "procedures/review_detail.html",
        {
            "s": submission,
            "d": definition,
            "status_label": STATUS_LABELS[submission.status],
            "rows": queries.comparison(ctx, submission),
            "values": [(f.label, _shown_value(f, submission.values.get(f.name))) for f in definition.fields],
            "events": queries.submission_events(ctx, submission),
            "attachments": queries.submission_attachments(ctx, submission),
            "errors": errors,
            "reason_form": reason_form,
            "mine": submission.claimed_by_id == ctx.actor_id,
            "deadline": queries.deadline_for(ctx, definition, submission.values),
            "can_decide": ctx.has(REVIEW),
        },
        status=status,
    )


@staff_page(REVIEW)
def attachment_download(request: HttpRequest, ctx: TenantContext, number: int, attachment_id: int) -> HttpResponse:
    attachment = access.get_attachment_for_review(ctx, number, attachment_id)
    try:
        data = storage.read(ctx.tenant_code, attachment.storage_path)
    except (PermissionError, FileNotFoundError) as exc:
        raise Http404 from exc
    response = HttpResponse(data, content_type=attachment.content_type)
    response["Content-Disposition"] = f'attachment; filename="attachment-{attachment.pk}"'
    response["Cache-Control"] = "no-store"
    return response


# -- staff: counter-assisted filing (代理入力) ------------------------------------------------------


@staff_page(ASSIST)
@require_http_methods(["GET", "POST"])
def counter_start(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    procedures = queries.published_procedures(ctx, open_only=True)
    form = CounterStartForm(request.POST or None)
    choices = [(p.code, p.definition.title) for p in procedures]
    form.fields["procedure"].choices = choices  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        return redirect(
            reverse("procedures:counter_form", args=[form.cleaned_data["procedure"], form.cleaned_data["atena_number"]])
        )
    return render(
        request,
        "procedures/counter_start.html",
        {"form": form, "rows": form.rows()},
        status=400 if form.errors else 200,
    )


@staff_page(ASSIST)
@require_http_methods(["GET", "POST"])
def counter_form(request: HttpRequest, ctx: TenantContext, code: str, atena: str) -> HttpResponse:
    published = queries.published_procedure(ctx, code)
    definition = published.definition
    m = _municipality(ctx.tenant_code)
    shown = queries.prefill_for(ctx, definition, atena, today=timezone.localdate(), municipality_name=m.name)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            number = actions.submit(
                ctx, code=code, atena_number=atena, filing=_filing(request, definition), today=timezone.localdate()
            )
        except ValidationError as exc:
            errors, status = _errors(exc), 400
        else:
            messages.success(request, f"代理入力で受け付けました。受付番号 {number}")
            return redirect(
                reverse("procedures:review_detail", args=[number])
                if ctx.has(REVIEW)
                else reverse("procedures:counter_start")
            )
        form = procedure_form(definition, data=request.POST)
    else:
        form = procedure_form(definition)
    return render(
        request,
        "procedures/counter_form.html",
        {
            "d": definition,
            "version": published.version,
            "atena": atena,
            "prefilled": shown,
            "fees": _fee_rows(ctx, published),
            "multipart": bool(definition.attachments),
            **_form_rows(form, definition, errors),
        },
        status=status,
    )


@staff_page(ASSIST)
def counter_paper(request: HttpRequest, ctx: TenantContext, code: str, atena: str) -> HttpResponse:
    published = queries.published_procedure(ctx, code)
    m = _municipality(ctx.tenant_code)
    shown = queries.prefill_for(ctx, published.definition, atena, today=timezone.localdate(), municipality_name=m.name)
    return _paper(published.definition, published.version, shown, m, _fee_rows(ctx, published))
