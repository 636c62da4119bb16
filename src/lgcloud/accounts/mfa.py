"""TOTP second factor (django-otp) for 団体管理者 and 運用者."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import segno
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from lgcloud.audit.actions import record
from lgcloud.core.tenancy import bound

from .context import context_for
from .models import Staff


@dataclass(frozen=True)
class Enrollment:
    secret: str
    uri: str
    qr_svg: str


def has_confirmed_device(staff: Staff) -> bool:
    return bool(TOTPDevice.objects.filter(user=staff, confirmed=True).exists())


def enrollment_for(staff: Staff) -> Enrollment:
    """The pending (unconfirmed) TOTP device's secret, creating one on first use."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=staff, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=staff, name="lgcloud", confirmed=False)
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    uri = device.config_url
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4, title="二要素認証の登録用QRコード")
    return Enrollment(secret, uri, qr_svg)


def verify(request: HttpRequest, staff: Staff, token: str) -> bool:
    """Check a TOTP code; on success mark the session verified (and confirm a new device)."""
    device = TOTPDevice.objects.filter(user=staff, confirmed=True).first()
    enrolling = device is None
    if device is None:
        device = TOTPDevice.objects.filter(user=staff, confirmed=False).first()
    if device is None or not device.verify_token(token):
        return False
    ctx = context_for(staff, purpose="accounts.mfa")
    with bound(ctx):
        if enrolling:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            record(ctx, "accounts.mfa.enrolled", subject_type="staff", subject_id=staff.pk, fields=["totp_device"])
        record(ctx, "accounts.session.mfa_verified", subject_type="staff", subject_id=staff.pk)
    otp_login(request, device)
    return True
