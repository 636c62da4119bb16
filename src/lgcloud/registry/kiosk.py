"""コンビニ交付: a resident proves who they are at a kiosk (card + PIN) and is given a certificate.

The kiosk is a machine account of the municipality (role ``kiosk``, one permission:
``registry:certificate:self_service``). Every request carries the resident's
住民票コード (as the card carries it) and the 4-digit PIN; nothing about the resident
survives the request.

Why the 2023–24 コンビニ交付 incidents (docs: scale-reliability-performance §4.2)
cannot happen here:

- *A timeout released a lock and fetched the next applicant's print image.* There is
  no print queue and no "next item": the PDF is the return value of
  :func:`~lgcloud.registry.certificates.issue_certificate` for this request, and a
  render timeout is an exception that rolls back the issuing transaction
  (no Certificate row, no issue number) and becomes an error answer. No code path
  turns a timeout into a document.
- *Two requests within 1 s overwrote each other.* Nothing here is shared between
  requests: no module-level mutable state, no cache, no temporary file with a
  reused name. The only shared state is rows in the database, changed under row
  locks and unique constraints (the PIN counter with ``SELECT … FOR UPDATE``, the
  issue number by the sequence row).
- *A single-server build on several servers.* There is one code path, and it keeps
  nothing in a process, so 1 worker or 40 on several machines behave the same; the
  concurrency test runs it with several gunicorn workers on PostgreSQL.

And the last step fails closed: the persons on the document must be exactly the
persons requested, in order, or nothing is returned; a certificate that was
recorded but fails this check is revoked at once (recorded, never handed out).

The issuing action requires ``registry:certificate:issue``, which the kiosk role
does not hold: it cannot use the counter's endpoints. :func:`issue_at_kiosk` lends
that permission to its own call only, after the card and PIN have been checked
and the subjects found in the resident's household.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from types import MappingProxyType
from typing import Literal, get_args

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import Http404
from django.utils import timezone

from lgcloud.audit.actions import record as audit
from lgcloud.core.tenancy import TenantContext, bound

from .certificates import (
    ISSUE,
    CertificateRequest,
    IssuedCertificate,
    IssueRefused,
    Requester,
    issue_certificate,
    revoke_certificate,
)
from .codes import ResidentStatus
from .models import KioskCredential, Person
from .permissions import RegistryPermission
from .rendering import PdfIdentity, PdfIdentityError, read_identity
from .rules.record import ResidentRecord

SELF_SERVICE = RegistryPermission.CERTIFICATE_SELF_SERVICE
SET_PIN = RegistryPermission.RESIDENT_WRITE
CHANNEL = "kiosk"
# A My Number card locks its 4-digit PIN after 3 wrong tries in a row.
PIN_ATTEMPTS = 3
# 住民票の写し (個人票・世帯連記式) and 記載事項証明書; never a 除票 or anything with 個人番号.
KioskKind = Literal["individual", "household", "record_items"]
KIOSK_KINDS: frozenset[str] = frozenset(get_args(KioskKind))
DEFAULT_RENDER_DEADLINE = 10.0
RENDER_DEADLINE_VARIABLE = "LGCLOUD_KIOSK_RENDER_DEADLINE"

_PIN = re.compile(r"[0-9]{4}")
_RESIDENT_CODE = re.compile(r"[0-9]{11}")


class KioskRefusal(Exception):
    """A kiosk request that is answered with an error; ``code`` is stable, the message Japanese."""

    def __init__(self, status: int, code: str, title: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.title = title
        self.message = message


def _card_refused() -> KioskRefusal:
    # One answer for "no such card here", "no PIN set", "removed from the register"
    # and "wrong PIN": the kiosk learns nothing about cards it cannot use.
    return KioskRefusal(
        401,
        "card_or_pin_invalid",
        "カードまたは暗証番号を確認できません",
        "カードまたは暗証番号が正しくありません。お住まいの市区町村の窓口にお問い合わせください。",
    )


def _locked() -> KioskRefusal:
    return KioskRefusal(
        423,
        "pin_locked",
        "暗証番号がロックされています",
        "暗証番号を3回続けて誤ったため、ロックされています。市区町村の窓口で暗証番号の再設定を行ってください。",
    )


def _not_in_household() -> KioskRefusal:
    return KioskRefusal(
        403,
        "not_in_household",
        "交付できません",
        "コンビニ交付では、本人と同じ世帯の方の証明書のみ取得できます。",
    )


def _mismatch() -> KioskRefusal:
    return KioskRefusal(
        500,
        "internal_error",
        "内部エラーが発生しました",
        "証明書を交付できませんでした。時間をおいて再度お試しください。",
    )


@dataclass(frozen=True)
class KioskRequest:
    """One resident's request at the kiosk.

    ``subject_atena_numbers`` empty means the resident themself; for ``household``
    it means every current member of the resident's household.
    """

    resident_code: str
    pin: str
    kind: KioskKind = "individual"
    subject_atena_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Resident:
    atena_number: str
    household_id: int
    record: ResidentRecord


# --- PIN (set at the counter) ------------------------------------------------------------------


def _check_pin_format(pin: str) -> None:
    if not _PIN.fullmatch(pin):
        raise ValidationError({"pin": "暗証番号は数字4桁で入力してください。"})


def set_kiosk_pin(ctx: TenantContext, *, atena_number: str, pin: str) -> None:
    """Set (or reset) a resident's kiosk PIN; this also lifts a lock. Done at the counter."""
    ctx.require(SET_PIN)
    _check_pin_format(pin)
    encoded = make_password(pin)  # slow on purpose: outside the transaction
    with bound(ctx):
        person = (
            Person.objects.filter(municipality_id=ctx.tenant_code, atena_number=atena_number)
            .exclude(status=ResidentStatus.REMOVED)
            .first()
        )
        if person is None:
            raise Http404("住民が見つかりません。")
        KioskCredential.objects.update_or_create(
            municipality_id=ctx.tenant_code,
            person=person,
            defaults={"pin_hash": encoded, "failed_attempts": 0, "locked_at": None},
        )
        audit(ctx, "registry.kiosk_pin.set", subject_type="person", subject_id=atena_number, fields=["kiosk_pin"])


# --- the resident at the kiosk -----------------------------------------------------------------


def _authenticate(ctx: TenantContext, resident_code: str, pin: str) -> _Resident:
    """The resident holding this card and PIN, or KioskRefusal.

    The attempt counter is committed even when the PIN is wrong (its own
    transaction), and the credential row is locked while it is checked, so two
    kiosks trying the same card at once cannot both get a "first" wrong try.
    """
    if not _RESIDENT_CODE.fullmatch(resident_code) or not _PIN.fullmatch(pin):
        raise _card_refused()
    refusal: KioskRefusal | None = None
    resident: _Resident | None = None
    with bound(ctx):
        people = list(
            Person.objects.filter(municipality_id=ctx.tenant_code, resident_code=resident_code).exclude(
                status=ResidentStatus.REMOVED
            )[:2]
        )
        credential = None
        if len(people) == 1:  # never guess between two persons with one code
            credential = (
                KioskCredential.objects.select_for_update()
                .filter(municipality_id=ctx.tenant_code, person=people[0])
                .first()
            )
        if credential is None:
            make_password(pin)  # about the time a real check takes: no timing hint that the card is unknown
            refusal = _card_refused()
            audit(ctx, "registry.kiosk.card_refused", subject_type="kiosk_card", fields=["resident_code"])
        elif credential.locked_at is not None:
            refusal = _locked()
            audit(ctx, "registry.kiosk.pin_locked", subject_type="person", subject_id=people[0].atena_number)
        elif not check_password(pin, credential.pin_hash):
            credential.failed_attempts += 1
            if credential.failed_attempts >= PIN_ATTEMPTS:
                credential.locked_at = timezone.now()
                refusal = _locked()
            else:
                refusal = _card_refused()
            credential.save(update_fields=["failed_attempts", "locked_at", "updated_at"])
            audit(
                ctx,
                "registry.kiosk.pin_failed" if credential.locked_at is None else "registry.kiosk.pin_locked",
                subject_type="person",
                subject_id=people[0].atena_number,
                fields=["kiosk_pin"],
            )
        else:
            if credential.failed_attempts:
                credential.failed_attempts = 0
                credential.save(update_fields=["failed_attempts", "updated_at"])
            person = people[0]
            resident = _Resident(person.atena_number, person.household_id, ResidentRecord.from_json(person.record))
    # Raised after the commit: the failed attempt must count.
    if refusal is not None or resident is None:
        raise refusal or _card_refused()
    return resident


def _subjects(ctx: TenantContext, resident: _Resident, kind: str, requested: Sequence[str]) -> tuple[str, ...]:
    """The 宛名番号 to print, in household order; every one must share the resident's household.

    A 宛名番号 outside the household, or one that does not exist, is the same
    refusal: the kiosk cannot probe the register. (The issuing action checks the
    household again inside its own transaction, so a 異動 in between is caught.)
    """
    with bound(ctx):
        in_household = list(
            Person.objects.filter(municipality_id=ctx.tenant_code, household_id=resident.household_id)
            .exclude(status=ResidentStatus.REMOVED)
            .order_by("-is_household_head", "birth_date", "atena_number")
            .values_list("atena_number", flat=True)
        )
    if resident.atena_number not in in_household:
        raise _not_in_household()  # the resident changed household since signing in
    wanted = list(dict.fromkeys(requested))
    if not wanted:
        wanted = in_household if kind == "household" else [resident.atena_number]
    if kind != "household" and len(wanted) != 1:
        raise ValidationError({"subject_atena_number": "この証明書は1人ずつ請求してください。"})
    if any(a not in in_household for a in wanted):
        raise _not_in_household()
    return tuple(a for a in in_household if a in wanted)


def _audit(ctx: TenantContext, action: str, resident: _Resident, *fields: str) -> None:
    with bound(ctx):
        audit(ctx, action, subject_type="person", subject_id=resident.atena_number, fields=list(fields))


def render_deadline() -> float:
    """Seconds the kiosk waits for a certificate to render (``LGCLOUD_KIOSK_RENDER_DEADLINE``)."""
    configured = getattr(settings, RENDER_DEADLINE_VARIABLE, None)
    raw = configured if configured is not None else os.environ.get(RENDER_DEADLINE_VARIABLE)
    if raw is None or raw == "":
        return DEFAULT_RENDER_DEADLINE
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = 0.0
    if not value > 0:
        raise ImproperlyConfigured(f"{RENDER_DEADLINE_VARIABLE} は正の秒数で指定してください（指定値: {raw!r}）。")
    return value


# Read-only: this module keeps no state that one request could leave for another.
_REFUSAL_STATUS = MappingProxyType(
    {
        "render_timeout": 503,
        "render_failed": 500,
        "document_mismatch": 500,
        "invalid_request": 422,
    }
)


def _refused(exc: IssueRefused) -> KioskRefusal:
    if exc.code == "render_timeout":
        return KioskRefusal(
            503,
            "render_timeout",
            "証明書を作成できませんでした",
            "混み合っているため証明書を作成できませんでした。交付はされず、手数料もかかっていません。"
            "もう一度お試しください。",
        )
    return KioskRefusal(_REFUSAL_STATUS.get(exc.code, 403), exc.code, "交付できません", exc.message)


def _pdf_is(issued: IssuedCertificate, lg_code: str, kind: str, subjects: tuple[str, ...]) -> bool:
    try:
        identity = read_identity(issued.pdf)
    except PdfIdentityError:
        return False
    return identity == PdfIdentity(lg_code, issued.issue_number, kind, subjects, issued.verification_code)


def issue_at_kiosk(
    ctx: TenantContext, request: KioskRequest, *, today: date, render_deadline: float | None
) -> IssuedCertificate:
    """Authenticate the resident, check who may be printed, issue, and check what was issued.

    Raises KioskRefusal (card, PIN, household, timeout, a refusal by the issuing
    rules) or ValidationError; returns only a certificate that was committed for
    exactly the persons requested. Every outcome after the card check is audited
    against the resident who asked (``registry.kiosk.issued`` / ``.refused``).
    """
    ctx.require(SELF_SERVICE)
    if request.kind not in KIOSK_KINDS:
        raise ValidationError({"kind": "コンビニ交付で取得できない証明書です。"})
    resident = _authenticate(ctx, request.resident_code, request.pin)
    kind = f"kind:{request.kind}"
    try:
        subjects = _subjects(ctx, resident, request.kind, request.subject_atena_numbers)
    except KioskRefusal as exc:
        _audit(ctx, "registry.kiosk.refused", resident, f"code:{exc.code}", kind)
        raise
    # The counter's permission, lent to this call only, for this authenticated resident.
    issuing = replace(ctx, permissions=ctx.permissions | {ISSUE})
    try:
        issued = issue_certificate(
            issuing,
            CertificateRequest(
                kind=request.kind,
                atena_numbers=subjects,
                channel=CHANNEL,
                requester=Requester(
                    name=resident.record.full_name,
                    birth_date=resident.record.birth_date,
                    atena_number=resident.atena_number,
                    relation="self" if subjects == (resident.atena_number,) else "household",
                ),
            ),
            today=today,
            render_deadline=render_deadline,
        )
    except IssueRefused as exc:
        # Nothing was issued (the issuing transaction rolled back).
        _audit(ctx, "registry.kiosk.refused", resident, f"code:{exc.code}", kind)
        raise _refused(exc) from exc
    # The invariant, at the last step: the bytes about to be sent name exactly whom this
    # request asked for, under this certificate's number and code (read from the PDF itself).
    if issued.atena_numbers != subjects or not _pdf_is(issued, ctx.tenant_code, request.kind, subjects):
        revoke_certificate(issuing, issued.issue_number, "コンビニ交付の最終確認で不一致を検出（交付せず）")
        _audit(ctx, "registry.kiosk.refused", resident, "code:document_mismatch", kind)
        raise _mismatch()
    _audit(ctx, "registry.kiosk.issued", resident, f"certificate:{issued.issue_number}", kind)
    return issued
