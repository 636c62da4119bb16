"""Writes to staff accounts, roles and API tokens: one transaction each, audited."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone

from lgcloud.audit.actions import record
from lgcloud.core.permissions import MFA_REQUIRED_ROLES, MUNICIPAL_ROLES, PLATFORM_ROLES, PlatformPermission, Role
from lgcloud.core.tenancy import TenantContext, bound, platform_scope

from .identifiers import make_login_id, username_validator
from .models import ApiToken, Staff, StaffRole

TOKEN_PREFIX = "lgc_"  # noqa: S105  (a public prefix that marks lgcloud tokens, not a secret)


def generate_password() -> str:
    """A 20-character password that passes the validators; shown once, never stored."""
    return secrets.token_urlsafe(15)


def _require_manager(ctx: TenantContext) -> None:
    if not ctx.is_system:
        ctx.require(PlatformPermission.STAFF_MANAGE)


def _check_roles(ctx: TenantContext, roles: Iterable[Role]) -> frozenset[Role]:
    chosen = frozenset(roles)
    if not chosen:
        raise ValidationError({"roles": "ロールを1つ以上選んでください。"})
    allowed = PLATFORM_ROLES if ctx.lg_code is None else MUNICIPAL_ROLES
    wrong = chosen - allowed
    if wrong:
        where = "運用者アカウント" if ctx.lg_code is None else "団体の職員"
        names = "、".join(r.label for r in sorted(wrong))
        raise ValidationError({"roles": f"{where}には次のロールを付与できません: {names}"})
    return chosen


@dataclass(frozen=True)
class CreatedStaff:
    staff: Staff
    generated_password: str | None


def create_staff(
    ctx: TenantContext,
    *,
    username: str,
    display_name: str,
    roles: Iterable[Role],
    password: str | None = None,
) -> CreatedStaff:
    """Create a member of staff in ``ctx``'s municipality (or an operator when it has none)."""
    _require_manager(ctx)
    chosen = _check_roles(ctx, roles)
    errors: dict[str, list[str]] = {}
    try:
        username_validator(username)
    except ValidationError as exc:
        errors["username"] = exc.messages
    if not display_name.strip():
        errors["display_name"] = ["氏名を入力してください。"]
    generated = None
    if password is None:
        password = generated = generate_password()
    candidate = Staff(municipality_id=ctx.lg_code, username=username, display_name=display_name.strip())
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with bound(ctx):
        if Staff.objects.filter(municipality_id=ctx.lg_code, username=username).exists():
            raise ValidationError({"username": f"ユーザー名 {username} は既に使われています。"})
        candidate.login_id = make_login_id(ctx.lg_code, username)
        candidate.set_password(password)
        candidate.save()
        StaffRole.objects.bulk_create(
            [StaffRole(municipality_id=ctx.lg_code, staff=candidate, role=r.value) for r in sorted(chosen)]
        )
        record(
            ctx,
            "accounts.staff.created",
            subject_type="staff",
            subject_id=candidate.pk,
            fields=["username", "display_name", "roles", "password"],
        )
    return CreatedStaff(candidate, generated)


def _locked_staff(ctx: TenantContext, staff_id: int) -> Staff:
    staff = Staff.objects.select_for_update().filter(pk=staff_id, municipality_id=ctx.lg_code).first()
    if staff is None:
        raise Http404("職員が見つかりません。")
    return staff


def _active_admins(ctx: TenantContext, excluding: int) -> int:
    return (
        StaffRole.objects.filter(municipality_id=ctx.lg_code, role=Role.MUNICIPAL_ADMIN.value, staff__is_active=True)
        .exclude(staff_id=excluding)
        .count()
    )


def set_staff_roles(ctx: TenantContext, staff_id: int, roles: Iterable[Role]) -> Staff:
    _require_manager(ctx)
    chosen = _check_roles(ctx, roles)
    with bound(ctx):
        staff = _locked_staff(ctx, staff_id)
        current = frozenset(Role(r) for r in staff.role_assignments.values_list("role", flat=True))
        if (
            ctx.lg_code
            and Role.MUNICIPAL_ADMIN in current
            and Role.MUNICIPAL_ADMIN not in chosen
            and _active_admins(ctx, staff.pk) == 0
        ):
            raise ValidationError({"roles": "団体管理者が1人もいなくなるため、このロールは外せません。"})
        removed, added = current - chosen, chosen - current
        StaffRole.objects.filter(staff=staff, role__in=[r.value for r in removed]).delete()
        StaffRole.objects.bulk_create(
            [StaffRole(municipality_id=ctx.lg_code, staff=staff, role=r.value) for r in sorted(added)]
        )
        if removed or added:
            record(ctx, "accounts.staff.roles_changed", subject_type="staff", subject_id=staff.pk, fields=["roles"])
    return staff


def set_staff_active(ctx: TenantContext, staff_id: int, active: bool) -> Staff:
    _require_manager(ctx)
    with bound(ctx):
        staff = _locked_staff(ctx, staff_id)
        if staff.pk == ctx.actor_id and not active:
            raise ValidationError({"is_active": "自分自身を無効にすることはできません。"})
        if not active and ctx.lg_code and _active_admins(ctx, staff.pk) == 0 and Role.MUNICIPAL_ADMIN in staff.roles:
            raise ValidationError({"is_active": "団体管理者が1人もいなくなるため、無効にできません。"})
        if staff.is_active != active:
            staff.is_active = active
            staff.save(update_fields=["is_active"])
            record(
                ctx,
                "accounts.staff.activated" if active else "accounts.staff.deactivated",
                subject_type="staff",
                subject_id=staff.pk,
                fields=["is_active"],
            )
    return staff


def reset_password(ctx: TenantContext, staff_id: int) -> str:
    """Give a member of staff a new generated password and return it (shown once)."""
    _require_manager(ctx)
    password = generate_password()
    with bound(ctx):
        staff = _locked_staff(ctx, staff_id)
        staff.set_password(password)
        staff.save(update_fields=["password"])
        record(ctx, "accounts.staff.password_reset", subject_type="staff", subject_id=staff.pk, fields=["password"])
    return password


def _hash_token(raw: str) -> str:
    # Tokens carry 256 bits of randomness: a fast hash is enough and lets us look them up.
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str


def create_api_token(ctx: TenantContext, staff_id: int, *, name: str, days: int | None = None) -> IssuedToken:
    """Issue a personal API token for ``staff_id`` (self-service, or a platform script)."""
    if not ctx.is_system and ctx.actor_id != staff_id:
        ctx.require(PlatformPermission.STAFF_MANAGE)
    days = settings.API_TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= 366:
        raise ValidationError({"days": "有効期間は1〜366日で指定してください。"})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with bound(ctx):
        staff = Staff.objects.filter(pk=staff_id, municipality_id=ctx.lg_code, is_active=True).first()
        if staff is None:
            raise Http404("職員が見つかりません。")
        if staff.roles & MFA_REQUIRED_ROLES:
            # A token is a password that skips the second factor.
            raise ValidationError(
                {
                    "name": "団体管理者・運用者のロールを持つ職員には、二要素認証を迂回できないよう"
                    " API トークンを発行しません。"
                }
            )
        token = ApiToken.objects.create(
            municipality_id=ctx.lg_code,
            staff=staff,
            name=name or "API",
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            token_hash=_hash_token(raw),
            expires_at=timezone.now() + timedelta(days=days),
        )
        record(ctx, "accounts.api_token.created", subject_type="staff", subject_id=staff.pk, fields=["api_token"])
    return IssuedToken(token, raw)


def revoke_api_token(ctx: TenantContext, token_id: int) -> None:
    with bound(ctx):
        token = ApiToken.objects.select_for_update().filter(pk=token_id, municipality_id=ctx.lg_code).first()
        if token is None or (token.staff_id != ctx.actor_id and not ctx.has(PlatformPermission.STAFF_MANAGE)):
            raise Http404("トークンが見つかりません。")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record(
                ctx, "accounts.api_token.revoked", subject_type="staff", subject_id=token.staff_id, fields=["api_token"]
            )


def staff_for_token(raw: str) -> Staff | None:
    """The active owner of a valid, unexpired, unrevoked token, or None."""
    if not raw.isascii() or not raw.startswith(TOKEN_PREFIX):  # a token is ASCII: anything else is no token
        return None
    now = timezone.now()
    with platform_scope():
        token = (
            ApiToken.objects.select_related("staff", "staff__municipality")
            .prefetch_related("staff__role_assignments")
            .filter(token_hash=_hash_token(raw), revoked_at__isnull=True, expires_at__gt=now, staff__is_active=True)
            .first()
        )
        if token is None or token.staff.roles & MFA_REQUIRED_ROLES:
            return None
        # At most one write a minute per token: scripts poll often.
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.staff


def start_session(ctx: TenantContext, request: HttpRequest, staff: Staff) -> None:
    """Sign ``staff`` in on ``request`` and audit it.

    Bound to the member of staff's own municipality: Django writes last_login
    on sign-in, and on PostgreSQL that row is only visible inside its tenant.
    """
    with bound(ctx):
        login(request, staff)
        record(ctx, "accounts.session.started", subject_type="staff", subject_id=staff.pk)


def record_sign_out(ctx: TenantContext, staff: Staff) -> None:
    with bound(ctx):
        record(ctx, "accounts.session.ended", subject_type="staff", subject_id=staff.pk)


def set_password_if_changed(ctx: TenantContext, staff_id: int, password: str) -> bool:
    """Set a known password (the demo's); does nothing when it already matches."""
    if not ctx.is_system:
        ctx.require(PlatformPermission.STAFF_MANAGE)
    with bound(ctx):
        staff = _locked_staff(ctx, staff_id)
        if staff.check_password(password):
            return False
        validate_password(password, staff)
        staff.set_password(password)
        staff.save(update_fields=["password"])
        record(ctx, "accounts.staff.password_reset", subject_type="staff", subject_id=staff.pk, fields=["password"])
    return True


@dataclass(frozen=True)
class Onboarded:
    lg_code: str
    admin: Staff | None
    generated_password: str | None


def onboard_municipality(
    ctx: TenantContext, lg_code: str, *, admin_username: str, admin_display_name: str
) -> Onboarded:
    """Put a municipality on the platform with its first 団体管理者, in one transaction.

    Joining the platform gives it the platform's default implementation of each 業務 (the app
    directory, from today); its 団体管理者 can request others. Safe to repeat: an existing account of that name is
    left as it is, and 業務 already chosen keep their choice.
    """
    from django.db import transaction

    from lgcloud.municipalities.actions import update_municipality

    if not ctx.is_system:
        ctx.require(PlatformPermission.PLATFORM_MUNICIPALITY_MANAGE)
    tenant_ctx = TenantContext.system(lg_code, purpose="accounts.onboarding", actor_name=ctx.actor_name)
    with transaction.atomic():
        update_municipality(ctx, lg_code, on_platform=True)
        with bound(tenant_ctx):
            exists = Staff.objects.filter(municipality_id=lg_code, username=admin_username).exists()
        if exists:
            return Onboarded(lg_code, None, None)
        created = create_staff(
            tenant_ctx, username=admin_username, display_name=admin_display_name, roles=[Role.MUNICIPAL_ADMIN]
        )
    return Onboarded(lg_code, created.staff, created.generated_password)


def reset_mfa(ctx: TenantContext, staff_id: int) -> int:
    """Remove a member of staff's authenticator (a lost phone); they enrol again at next sign-in."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _require_manager(ctx)
    with bound(ctx):
        staff = _locked_staff(ctx, staff_id)
        if staff.pk == ctx.actor_id:
            raise ValidationError(
                {"mfa": "自分自身の二要素認証はリセットできません。別の団体管理者に依頼してください。"}
            )
        removed: int = TOTPDevice.objects.filter(user=staff).delete()[0]
        record(ctx, "accounts.mfa.reset", subject_type="staff", subject_id=staff.pk, fields=["totp_device"])
    return removed
