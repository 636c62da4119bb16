"""Staff accounts, their roles, personal API tokens, and residents' sign-in accounts."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models

from lgcloud.core.models import TenantModel
from lgcloud.core.permissions import ROLE_LABELS, Role

from .identifiers import username_validator


class StaffManager(BaseUserManager["Staff"]):
    def get_by_natural_key(self, login_id: str | None) -> Staff:
        return self.get(login_id=login_id)


class Staff(AbstractBaseUser):
    """A member of staff of one municipality, or a platform operator (no municipality)."""

    municipality = models.ForeignKey(
        "municipalities.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="団体",
    )
    username = models.CharField("ユーザー名", max_length=64, validators=[username_validator])
    login_id = models.CharField(max_length=80, unique=True, editable=False)
    display_name = models.CharField("氏名", max_length=100)
    is_active = models.BooleanField("有効", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    USERNAME_FIELD = "login_id"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = StaffManager()

    class Meta:
        verbose_name = "職員"
        constraints = [
            models.UniqueConstraint(fields=["municipality", "username"], name="staff_municipality_username_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name}（{self.login_id}）"

    @property
    def lg_code(self) -> str | None:
        return self.municipality_id

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(a.role) for a in self.role_assignments.all())

    @property
    def role_labels(self) -> list[str]:
        return [ROLE_LABELS[r] for r in sorted(self.roles)]


class StaffRole(models.Model):
    """One role held by one member of staff (国の標準: 権限は役割単位で付与)."""

    municipality = models.ForeignKey(
        "municipalities.Municipality", on_delete=models.PROTECT, null=True, related_name="+"
    )
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=32, choices=[(r.value, r.label) for r in Role])
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "staff", "role"], name="staff_role_uniq")]

    def __str__(self) -> str:
        return f"{self.staff_id}:{self.role}"


class ApiToken(models.Model):
    """A personal API token for scripts and RPA; only its SHA-256 is stored.

    It acts with its owner's roles, and stops working when it expires, is
    revoked, or its owner is deactivated.
    """

    municipality = models.ForeignKey(
        "municipalities.Municipality", on_delete=models.PROTECT, null=True, related_name="+"
    )
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=100)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["municipality", "staff"], name="apitoken_mun_staff_idx")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


class ResidentAccount(TenantModel):
    """A resident's sign-in: an OpenID Connect identity linked to one person of one municipality's registry.

    Separate from :class:`Staff` on purpose: a resident is never a Django user, holds no
    role, and signs in only through an OpenID Connect provider (in production the Digital
    Agency's マイナンバーカード authentication). The link to the registry is the
    宛名番号 of the person the provider's 基本4情報 matched at the first sign-in
    (see docs/procedures.md).
    """

    issuer = models.CharField("IdP（iss）", max_length=255)
    subject = models.CharField("利用者識別子（sub）", max_length=255)
    atena_number = models.CharField("宛名番号", max_length=10)
    email = models.EmailField("連絡先メールアドレス", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "住民利用者"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "issuer", "subject"], name="resident_account_identity_uniq"
            ),
        ]
        indexes = [models.Index(fields=["municipality", "atena_number"], name="resident_account_atena_idx")]

    def __str__(self) -> str:
        return f"resident account {self.pk}"
