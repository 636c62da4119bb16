"""住民票の写し等の交付 (住基法 第12条・第12条の2・第12条の3・第15条の4): the issuing action.

One call issues one certificate, in one transaction: read the subjects, apply
the 支援措置 rules, take the next 交付番号, render the PDF, check the PDF, record
the Certificate and the audit. Anything that fails on the way (a refusal, a render
error, the render deadline, the final check) leaves no Certificate row.

Lessons from the コンビニ交付 incidents of 2023 (shared/reference, §4.2), and how they
are met here:

- **No shared state between requests.** Everything a render needs is in one
  immutable :class:`~lgcloud.registry.rendering.CertificateDocument` built by this
  call; the render runs in a thread of an executor created for this call only, and
  its result is reachable only through this call's own future. There is no queue,
  cache or "current job" that another request could pick up.
- **A timeout aborts the whole request.** When ``render_deadline`` passes, the call
  raises ``IssueRefused("render_timeout")`` from inside the transaction, so the
  交付番号 and everything else roll back. The late render finishes in its thread and
  its bytes are dropped with the future (nothing else refers to them).
- **The invariant at the last step.** Before returning, the PDF's own metadata is
  read back from the bytes with pypdf (:func:`~lgcloud.registry.rendering.read_pdf`) and
  must name exactly this municipality, this 交付番号, this kind, this verification
  code and these 宛名番号 in this order, and it must have at least one page per sheet
  of the layout. Any difference raises ``IssueRefused("document_mismatch")`` and
  rolls back.

Refusals about the subjects (支援措置, household, 除票, missing purpose) are audited as
``registry.certificate.refused`` in a transaction of their own, so the record survives
the refusal (unless the caller wraps the call in a transaction it then rolls back).

The verification code printed on each certificate is ``<lg_code>-XXXXX-XXXXX-XXXXX-XXXXX``
(100 random bits in Crockford's base32, which has no I, L, O or U): the public page
finds the municipality from the prefix and shows no personal data.

The QR code encodes ``settings.PUBLIC_URL`` (``LGCLOUD_PUBLIC_URL``, the site's public
origin, e.g. ``https://lg.example.jp``) followed by ``/verify/<code>/``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, get_args

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from lgcloud.audit.actions import record as audit
from lgcloud.core import crypto
from lgcloud.core.checkdigits import CheckDigitError, validate_lg_code
from lgcloud.core.sequences import next_value
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.core.wareki import format_date
from lgcloud.municipalities.queries import get_municipality

from . import rendering
from .codes import IssueChannel, Relationship, RemovalReason, ResidentStatus, Sex
from .models import Certificate, Person, PersonVersion, ProtectionOrder
from .parameters import fee_for
from .permissions import RegistryPermission
from .rules.protection import check_issue
from .rules.record import ResidentRecord, fold_name

logger = logging.getLogger(__name__)

ISSUE = RegistryPermission.CERTIFICATE_ISSUE
INDIVIDUAL_NUMBER = b"individual_number"
SEQUENCE = "registry.certificate"

CertificateKind = Literal["household", "individual", "record_items", "removed"]
Relation = Literal["self", "household", "proxy", "third_party"]
KINDS: frozenset[str] = frozenset(get_args(CertificateKind))
RELATIONS: frozenset[str] = frozenset(get_args(Relation))
INCLUDABLE = frozenset({"household_head", "domicile", "resident_code", "individual_number"})
# Never printed by a コンビニ交付 terminal (the service offers copies without them).
NOT_ON_KIOSK = frozenset({"individual_number", "resident_code"})

KIND_LABELS: dict[str, str] = {
    "household": "住民票の写し（世帯連記式）",
    "individual": "住民票の写し（個人票）",
    "record_items": "住民票記載事項証明書",
    "removed": "除票の写し",
}
_TITLES = {
    "household": "住民票の写し",
    "individual": "住民票の写し",
    "record_items": "住民票記載事項証明書",
    "removed": "除票の写し",
}
_CERTIFICATIONS = {
    "household": "この写しは、住民票の原本と相違ないことを証明する。",
    "individual": "この写しは、住民票の原本と相違ないことを証明する。",
    "record_items": "上記のとおり住民票に記載されていることを証明する。",
    "removed": "この写しは、除票の原本と相違ないことを証明する。",
}
# 住民票の写し prints the whole record (the latest value of each item); 記載事項証明書 only
# 氏名・生年月日・性別・住所 and what was asked for (住民記録システム標準仕様書).
_RECORD_ITEMS = ("resident_since", "address_since", "filed_on", "previous_address")
_HEAD_TITLES = {"special_ward": "区", "city": "市", "town": "町", "village": "村"}

_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
_CODE_GROUPS, _CODE_GROUP_SIZE = 4, 5
_CODE_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})  # what a reader may type for 0 and 1


@dataclass(frozen=True)
class Requester:
    name: str
    birth_date: date | None = None
    atena_number: str | None = None  # when the requester is a resident of this municipality
    relation: Relation = "self"


@dataclass(frozen=True)
class CertificateRequest:
    kind: CertificateKind
    atena_numbers: tuple[str, ...]  # subjects in print order
    channel: str  # IssueChannel value: counter/proxy/post/kiosk
    requester: Requester
    include: frozenset[str] = frozenset()  # household_head, domicile, resident_code, individual_number
    individual_number_purpose: str = ""  # required (lawful purpose) when "individual_number" is included
    purpose: str = ""  # 請求事由


@dataclass(frozen=True)
class IssuedCertificate:
    issue_number: int
    verification_code: str
    pdf: bytes
    fee_yen: int
    pages: int
    atena_numbers: tuple[str, ...]


@dataclass(frozen=True)
class Verification:
    valid: bool
    revoked: bool
    issue_number: int
    issued_on: date
    municipality_name: str
    kind_label: str


class IssueRefused(Exception):
    """The certificate was not issued. ``code`` is stable (API, tests); ``message`` is Japanese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Refused(Exception):
    """A refusal about the subjects: audited against ``subjects`` after the rollback."""

    def __init__(self, code: str, message: str, subjects: tuple[str, ...]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.subjects = subjects


# --- the action -------------------------------------------------------------------------------


def issue_certificate(
    ctx: TenantContext, request: CertificateRequest, *, today: date, render_deadline: float | None = None
) -> IssuedCertificate:
    """Issue one certificate for ``request`` (see the module docstring for what is guaranteed).

    ``today`` is the issue date (JST business date). ``render_deadline`` bounds the
    render in seconds; when it passes the request is refused with ``render_timeout``.
    Raises :class:`IssueRefused`, ``Http404`` for an unknown 宛名番号, or PermissionDenied.
    """
    ctx.require(ISSUE)
    _check_shape(request)
    try:
        with bound(ctx):
            return _issue(ctx, request, today=today, render_deadline=render_deadline)
    except _Refused as refused:
        # The issuing transaction has rolled back; the refusal is recorded on its own.
        with bound(ctx):
            for atena in refused.subjects:
                audit(
                    ctx,
                    "registry.certificate.refused",
                    subject_type="person",
                    subject_id=atena,
                    fields=[f"refusal:{refused.code}", f"kind:{request.kind}", f"channel:{request.channel}"],
                )
        raise IssueRefused(refused.code, refused.message) from None


def _invalid(message: str) -> IssueRefused:
    return IssueRefused("invalid_request", message)


def _check_shape(request: CertificateRequest) -> None:
    """Requests that cannot be right whatever the register says (nothing is read, nothing audited)."""
    if request.kind not in KINDS:
        raise _invalid("証明書の種類が正しくありません。")
    if request.channel not in IssueChannel.values:
        raise _invalid("請求の方法が正しくありません。")
    if request.requester.relation not in RELATIONS:
        raise _invalid("請求者と対象者の関係が正しくありません。")
    if not request.requester.name.strip():
        raise _invalid("請求者の氏名を入力してください。")
    if not request.atena_numbers:
        raise _invalid("証明書に記載する人を選んでください。")
    if len(set(request.atena_numbers)) != len(request.atena_numbers):
        raise _invalid("同じ人が重複して選ばれています。")
    if request.kind in ("individual", "removed") and len(request.atena_numbers) != 1:
        raise _invalid("個人票（除票を含む）は1人ずつ請求してください。")
    unknown = set(request.include) - INCLUDABLE
    if unknown:
        raise _invalid(f"記載できない項目です: {', '.join(sorted(unknown))}")


def _issue(
    ctx: TenantContext, request: CertificateRequest, *, today: date, render_deadline: float | None
) -> IssuedCertificate:
    subjects = tuple(request.atena_numbers)
    if "individual_number" in request.include and not request.individual_number_purpose.strip():
        raise _Refused(
            "individual_number_purpose_required",
            "個人番号を記載するには、利用目的（提出先の事務）を入力してください。",
            subjects,
        )
    if request.channel == IssueChannel.KIOSK and request.include & NOT_ON_KIOSK:
        raise _Refused(
            "not_available_on_kiosk",
            "個人番号・住民票コードを記載した証明書はコンビニ交付では取得できません。窓口で請求してください。",
            subjects,
        )
    if request.requester.relation == "third_party" and not request.purpose.strip():
        raise _Refused(
            "purpose_required", "第三者による請求には請求事由の記載が必要です（住基法第12条の3）。", subjects
        )

    people = {
        p.atena_number: p
        for p in Person.objects.filter(municipality_id=ctx.tenant_code, atena_number__in=list(subjects))
    }
    missing = [a for a in subjects if a not in people]
    if missing:
        raise Http404(f"宛名番号 {', '.join(missing)} の住民が見つかりません。")
    records = {a: ResidentRecord.from_json(people[a].record) for a in subjects}

    _check_status(request, records)
    layout: rendering.Layout = (
        "household"
        if request.kind == "household" or (request.kind == "record_items" and len(subjects) > 1)
        else "individual"
    )
    if layout == "household" and len({r.household_number for r in records.values()}) > 1:
        raise _Refused("not_in_household", "世帯連記式の証明書には同じ世帯の人だけを記載できます。", subjects)
    same_household = _requester_is_subject_or_household(ctx, request, records)
    _check_protection(ctx, request, people, same_household=same_household, today=today)

    issue_number = next_value(ctx, SEQUENCE)
    code = _new_code(ctx.tenant_code)
    doc = _document(ctx, request, records, people, layout=layout, issue_number=issue_number, code=code, today=today)
    # The data the renderer gets is for exactly these subjects, in this order.
    if doc.atena_numbers != subjects:
        raise _mismatch(ctx, issue_number)
    rendered = _render_within(doc, render_deadline)
    pages = _check_final(
        ctx, rendered, request, issue_number=issue_number, code=code, expected_pages=rendering.expected_pages(doc)
    )

    fee = fee_for(request.kind, ctx.tenant_code, today)
    requester: dict[str, str] = {"relation": request.requester.relation, "channel": request.channel}
    if request.requester.relation in ("third_party", "proxy"):
        requester["name"] = request.requester.name
    Certificate.objects.create(
        municipality_id=ctx.tenant_code,
        issue_number=issue_number,
        kind=request.kind,
        channel=request.channel,
        persons=list(subjects),
        options={
            "include": sorted(request.include),
            "items": list(doc.items),
            "layout": layout,
            "pages": pages,
            "purpose": request.purpose,
            "individual_number_purpose": request.individual_number_purpose
            if "individual_number" in request.include
            else "",
        },
        requester=requester,
        fee_yen=fee,
        verification_code=code,
        pdf_sha256=hashlib.sha256(rendered.pdf).hexdigest(),
        issued_at=timezone.now(),
        issued_by=ctx.actor_name,
    )
    # Audit last: the audit chain's row lock is then held only for the commit, not the render.
    printed = ["name", "birth_date", "sex", "address", *doc.items]
    for atena in subjects:
        audit(
            ctx,
            "registry.certificate.issued",
            subject_type="person",
            subject_id=atena,
            fields=[*printed, f"certificate:{issue_number}", f"kind:{request.kind}", f"channel:{request.channel}"],
        )
        if "individual_number" in request.include:
            audit(
                ctx.with_purpose(request.individual_number_purpose[:100]),
                "registry.person.individual_number_revealed",
                subject_type="person",
                subject_id=atena,
                fields=["individual_number", f"certificate:{issue_number}"],
            )
    return IssuedCertificate(issue_number, code, rendered.pdf, fee, pages, subjects)


def _check_status(request: CertificateRequest, records: dict[str, ResidentRecord]) -> None:
    removed = tuple(a for a, r in records.items() if r.status == ResidentStatus.REMOVED)
    if request.kind == "removed":
        current = tuple(a for a in records if a not in removed)
        if current:
            raise _Refused("not_removed", "除票の写しは、住民票が消除された人についてのみ交付できます。", current)
    elif removed:
        raise _Refused(
            "removed_person",
            "住民票が消除された人（除票）は住民票の写しに記載できません。除票の写しを請求してください。",
            removed,
        )


def _requester_is_subject_or_household(
    ctx: TenantContext, request: CertificateRequest, records: dict[str, ResidentRecord]
) -> bool:
    """本人又は同一世帯の者 (住基法 第12条): from the register when the requester is a resident here."""
    requester = request.requester
    subjects = tuple(request.atena_numbers)
    if requester.atena_number is None:
        if request.channel == IssueChannel.KIOSK:
            raise _Refused(
                "not_in_household", "コンビニ交付では、本人又は同一世帯の人の証明書だけを交付できます。", subjects
            )
        # At the counter, staff check the identity document; the declared relation stands.
        return requester.relation in ("self", "household")
    # A 除票 is asked for by 本人 or a member of the household they belonged to (第15条の4),
    # so the comparison uses each record's last household, removed or not.
    row = Person.objects.filter(municipality_id=ctx.tenant_code, atena_number=requester.atena_number).first()
    household = ResidentRecord.from_json(row.record).household_number if row is not None else None
    same = row is not None and all(
        a == requester.atena_number or r.household_number == household for a, r in records.items()
    )
    if not same and (request.channel == IssueChannel.KIOSK or requester.relation in ("self", "household")):
        raise _Refused(
            "not_in_household", "請求者と同じ世帯に属していない人の証明書は、この方法では交付できません。", subjects
        )
    return same


def _check_protection(
    ctx: TenantContext,
    request: CertificateRequest,
    people: dict[str, Person],
    *,
    same_household: bool,
    today: date,
) -> None:
    """DV等支援措置: the 相手方 never, and a protected person's record only at the counter (rules/protection)."""
    orders = list(
        ProtectionOrder.objects.filter(
            municipality_id=ctx.tenant_code,
            person__in=list(people.values()),
            starts_on__lte=today,
            expires_on__gte=today,
            ended_on__isnull=True,
        )
    )
    requester_key = fold_name(request.requester.name)
    requester_birth = request.requester.birth_date
    for atena in request.atena_numbers:
        mine = [o for o in orders if o.person_id == people[atena].pk]
        # A name match with an unknown birth date on either side counts: the rule fails closed.
        adversary = any(
            o.adversary_name_key == requester_key
            and (o.adversary_birth_date is None or requester_birth is None or o.adversary_birth_date == requester_birth)
            for o in mine
        )
        refusal = check_issue(
            protected=bool(mine),
            channel=request.channel,
            requester_is_adversary=adversary,
            requester_is_subject_or_household=same_household,
        )
        if refusal is not None:
            raise _Refused(refusal.code, refusal.message, (atena,))


# --- the document -----------------------------------------------------------------------------


def _new_code(lg_code: str) -> str:
    chars = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_GROUPS * _CODE_GROUP_SIZE))
    groups = [chars[i : i + _CODE_GROUP_SIZE] for i in range(0, len(chars), _CODE_GROUP_SIZE)]
    return "-".join([lg_code, *groups])


def canonical_code(text: str) -> str | None:
    """A verification code as typed or scanned, in its printed form; None if it cannot be one."""
    compact = "".join(ch for ch in text.upper() if ch.isalnum() and ch.isascii())
    lg_code, rest = compact[:6], compact[6:].translate(_CODE_READ_AS)
    if not lg_code.isdigit() or len(rest) != _CODE_GROUPS * _CODE_GROUP_SIZE:
        return None
    if any(ch not in _CODE_ALPHABET for ch in rest):
        return None
    groups = [rest[i : i + _CODE_GROUP_SIZE] for i in range(0, len(rest), _CODE_GROUP_SIZE)]
    return "-".join([lg_code, *groups])


def verify_url(code: str) -> str:
    """Where the QR code points: the public origin (if configured) and the verification page."""
    return f"{settings.PUBLIC_URL}/verify/{code}/"


def issuer_title(name: str, kind: str) -> str:
    """「千代田区長」「八王子市長」「奥多摩町長」「檜原村長」 from the municipality's name and kind."""
    suffix = _HEAD_TITLES.get(kind, "")
    return f"{name}長" if not suffix or name.endswith(suffix) else f"{name}{suffix}長"


def _labels(rec: ResidentRecord) -> tuple[str, str]:
    sex = Sex(rec.sex).label if rec.sex in Sex.values else ""
    relationship = Relationship(rec.relationship).label if rec.relationship in Relationship.values else rec.relationship
    return sex, relationship


def _notes(rec: ResidentRecord) -> tuple[str, ...]:
    if rec.status == ResidentStatus.REMOVED and rec.removed_on is not None:
        when = format_date(rec.removed_on)
        if rec.removal_reason == RemovalReason.MOVED_OUT:
            return (f"{when}　転出" + (f"（転出先　{rec.moving_out_to}）" if rec.moving_out_to else ""),)
        if rec.removal_reason == RemovalReason.DIED:
            return (f"{when}　死亡",)
        return (f"{when}　職権消除",)
    if rec.status == ResidentStatus.MOVING_OUT:
        return (f"転出予定（転出先　{rec.moving_out_to}）",)
    return ()


def _head_name(ctx: TenantContext, rec: ResidentRecord) -> str:
    """世帯主の氏名: for a 除票, the head of the household on the day before the removal."""
    if rec.relationship == Relationship.HEAD:
        return rec.full_name
    if rec.status != ResidentStatus.REMOVED or rec.removed_on is None:
        head = (
            Person.objects.filter(
                municipality_id=ctx.tenant_code,
                household__household_number=rec.household_number,
                is_household_head=True,
            )
            .exclude(status=ResidentStatus.REMOVED)
            .first()
        )
        return ResidentRecord.from_json(head.record).full_name if head is not None else ""
    on = rec.removed_on - timedelta(days=1)
    for person in Person.objects.filter(
        municipality_id=ctx.tenant_code, household__household_number=rec.household_number
    ):
        version = (
            PersonVersion.objects.filter(person=person, effective_date__lte=on)
            .order_by("-effective_date", "-id")
            .first()
        )
        if version is not None:
            then = ResidentRecord.from_json(version.record)
            if then.household_number == rec.household_number and then.is_household_head:
                return then.full_name
    return ""


def _document(
    ctx: TenantContext,
    request: CertificateRequest,
    records: dict[str, ResidentRecord],
    people: dict[str, Person],
    *,
    layout: rendering.Layout,
    issue_number: int,
    code: str,
    today: date,
) -> rendering.CertificateDocument:
    include = request.include
    items: list[str] = []
    if "household_head" in include:
        items.append("household_head")
    if request.kind != "record_items":
        items += _RECORD_ITEMS
    if "domicile" in include:
        items.append("domicile")
    if "resident_code" in include:
        items.append("resident_code")
    if "individual_number" in include:
        items.append("individual_number")
    if request.kind != "record_items":
        items.append("notes")

    persons = []
    for atena in request.atena_numbers:
        rec = records[atena]
        sex, relationship = _labels(rec)
        number = ""
        blob = people[atena].individual_number_ciphertext
        if "individual_number" in include and blob is not None:
            number = crypto.decrypt(ctx, bytes(blob), INDIVIDUAL_NUMBER)
        persons.append(
            rendering.PrintedPerson(
                atena_number=rec.atena_number,
                family_name=rec.family_name,
                given_name=rec.given_name,
                family_name_kana=rec.family_name_kana,
                given_name_kana=rec.given_name_kana,
                birth_date=rec.birth_date,
                sex=sex,
                address=rec.address,
                address_detail=rec.address_detail,
                former_family_name=rec.former_family_name,
                alias=rec.alias,
                relationship=relationship if "household_head" in include else "",
                resident_since=rec.resident_since,
                address_since=rec.address_since,
                filed_on=rec.filed_on,
                previous_address=rec.previous_address,
                domicile=rec.registered_domicile if "domicile" in include else "",
                domicile_head=rec.domicile_head if "domicile" in include else "",
                resident_code=rec.resident_code if "resident_code" in include else "",
                individual_number=number,
                notes=_notes(rec),
            )
        )
    municipality = get_municipality(ctx.tenant_code)
    if municipality is None:
        raise Http404("団体が見つかりません。")
    head = _head_name(ctx, records[request.atena_numbers[0]]) if "household_head" in include else ""
    return rendering.CertificateDocument(
        kind=request.kind,
        title=_TITLES[request.kind],
        layout=layout,
        certification=_CERTIFICATIONS[request.kind],
        lg_code=ctx.tenant_code,
        municipality_name=municipality.full_name,
        issuer_title=issuer_title(municipality.name, municipality.kind),
        issue_number=issue_number,
        issued_on=today,
        verification_code=code,
        verify_url=verify_url(code),
        persons=tuple(persons),
        items=tuple(items),
        household_head_name=head,
    )


# --- render, then check what was rendered -----------------------------------------------------


def _render_within(doc: rendering.CertificateDocument, deadline: float | None) -> rendering.RenderedPdf:
    """Render in a thread of this call's own executor and wait at most ``deadline`` seconds.

    On timeout the whole request is refused (the caller's transaction rolls back);
    the thread runs on to its end and its result is dropped with the future, which
    nothing outside this function ever sees.
    """
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="certificate-render")
    started = time.monotonic()
    try:
        future = executor.submit(rendering.render_pdf, doc)
        try:
            return future.result(timeout=deadline)
        except FutureTimeout:
            future.cancel()
            logger.warning(
                "certificate render exceeded %.2fs (lg_code=%s issue=%s); request refused",
                deadline,
                doc.lg_code,
                doc.issue_number,
            )
            raise IssueRefused(
                "render_timeout",
                "混み合っているため証明書を作成できませんでした。交付はされていません。もう一度お試しください。",
            ) from None
        except Exception as exc:  # noqa: BLE001 - every render failure refuses the request (re-raised below)
            # The type only: a renderer's message may quote the HTML, i.e. names and addresses.
            logger.error(
                "certificate render failed with %s (lg_code=%s issue=%s)",
                type(exc).__name__,
                doc.lg_code,
                doc.issue_number,
            )
            raise IssueRefused("render_failed", "証明書を作成できませんでした。交付はされていません。") from None
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        logger.debug("certificate render took %.3fs", time.monotonic() - started)


def _mismatch(ctx: TenantContext, issue_number: int) -> IssueRefused:
    # No personal data in the log: the municipality and the (rolled back) 交付番号 only.
    logger.error("certificate final check failed (lg_code=%s issue=%s); nothing issued", ctx.lg_code, issue_number)
    return IssueRefused(
        "document_mismatch", "証明書の最終確認で不一致を検出したため、交付を中止しました。職員にお知らせください。"
    )


def _check_final(
    ctx: TenantContext,
    rendered: rendering.RenderedPdf,
    request: CertificateRequest,
    *,
    issue_number: int,
    code: str,
    expected_pages: int,
) -> int:
    """The final-step invariant: the bytes about to be handed out are this request's document.

    Returns the number of pages, as read from the bytes.
    """
    try:
        read = rendering.read_pdf(rendered.pdf)
    except rendering.PdfIdentityError:
        raise _mismatch(ctx, issue_number) from None
    expected = rendering.PdfIdentity(ctx.tenant_code, issue_number, request.kind, tuple(request.atena_numbers), code)
    # Each sheet starts a page, so fewer pages than sheets means a sheet is missing.
    if read.identity != expected or read.pages < expected_pages:
        raise _mismatch(ctx, issue_number)
    return read.pages


# --- after issue ------------------------------------------------------------------------------


def revoke_certificate(ctx: TenantContext, issue_number: int, reason: str) -> None:
    """失効: the verification page shows 失効 from now on (e.g. issued in error, or reported lost)."""
    ctx.require(ISSUE)
    if not reason.strip():
        raise ValidationError({"reason": "失効の理由を入力してください。"})
    with bound(ctx):
        cert = (
            Certificate.objects.select_for_update()
            .filter(municipality_id=ctx.tenant_code, issue_number=issue_number)
            .first()
        )
        if cert is None:
            raise Http404("証明書が見つかりません。")
        if cert.revoked_at is not None:
            return
        cert.revoked_at = timezone.now()
        cert.options = {**cert.options, "revocation": {"reason": reason, "by": ctx.actor_name}}
        cert.save(update_fields=["revoked_at", "options"])
        audit(
            ctx,
            "registry.certificate.revoked",
            subject_type="certificate",
            subject_id=issue_number,
            fields=["revoked_at"],
        )


def verify_code(code: str) -> Verification | None:
    """Public: whether a verification code belongs to an issued certificate. No personal data.

    The municipality is read from the code's prefix (with its check digit) and the
    look-up runs bound to it, so the second wall (row-level security) holds too.
    """
    canonical = canonical_code(code)
    if canonical is None:
        return None
    lg_code = canonical[:6]
    try:
        validate_lg_code(lg_code)
    except CheckDigitError:
        return None
    municipality = get_municipality(lg_code)
    if municipality is None:
        return None
    ctx = TenantContext.system(lg_code, "registry.certificate.verify")
    with bound(ctx):
        cert = Certificate.objects.filter(municipality_id=lg_code, verification_code=canonical).first()
        if cert is None:
            return None
        return Verification(
            valid=cert.revoked_at is None,
            revoked=cert.revoked_at is not None,
            issue_number=cert.issue_number,
            issued_on=timezone.localdate(cert.issued_at),
            municipality_name=municipality.full_name,
            kind_label=KIND_LABELS.get(cert.kind, "証明書"),
        )
