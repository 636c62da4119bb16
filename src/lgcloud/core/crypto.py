"""Encryption of 個人番号 at rest: AES-256-GCM, a data key per municipality wrapped by a master key.

The master key comes from ``LGCLOUD_MASTER_KEY`` (base64 of 32 bytes). A
developer machine generates one in var/. The municipality code is bound into
every ciphertext as associated data, so a value copied into another
municipality's row does not decrypt.
"""

from __future__ import annotations

import base64
import os
import secrets
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from lgcloud.core.models import TenantDataKey
from lgcloud.core.tenancy import TenantContext, bound

_NONCE = 12
_VERSION = b"\x01"


def _master_key() -> bytes:
    raw = settings.MASTER_KEY
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured("LGCLOUD_MASTER_KEY は 32 バイトの鍵を base64 で指定してください。")
    return key


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if blob[:1] != _VERSION:
        raise ValueError("unknown ciphertext version")
    return AESGCM(key).decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], aad)


@lru_cache(maxsize=2048)
def _unwrap(lg_code: str, wrapped: bytes) -> bytes:
    return _open(_master_key(), wrapped, b"datakey:" + lg_code.encode())


def _data_key(ctx: TenantContext) -> bytes:
    lg_code = ctx.lg_code
    if lg_code is None:
        raise PermissionError("the platform context holds no data key")
    with bound(ctx):
        row = TenantDataKey.objects.filter(municipality_id=lg_code).first()
        if row is None:
            wrapped = _seal(_master_key(), secrets.token_bytes(32), b"datakey:" + lg_code.encode())
            TenantDataKey.objects.bulk_create(
                [TenantDataKey(municipality_id=lg_code, wrapped_key=wrapped)], ignore_conflicts=True
            )
            row = TenantDataKey.objects.get(municipality_id=lg_code)
        return _unwrap(lg_code, bytes(row.wrapped_key))


def encrypt(ctx: TenantContext, plaintext: str, purpose: bytes) -> bytes:
    """Encrypt for ``ctx``'s municipality; ``purpose`` (e.g. b"individual_number") is bound in too."""
    key = _data_key(ctx)  # refuses the platform context
    return _seal(key, plaintext.encode("utf-8"), purpose + b":" + str(ctx.lg_code).encode())


def decrypt(ctx: TenantContext, blob: bytes, purpose: bytes) -> str:
    key = _data_key(ctx)  # refuses the platform context
    return _open(key, bytes(blob), purpose + b":" + str(ctx.lg_code).encode()).decode("utf-8")
