"""The sealer's Ed25519 signing key and the log's name.

Production reads the key from ``LGCLOUD_AUDIT_SIGNING_KEY`` (base64 of a 32-byte Ed25519
seed); only the sealer needs it, so web workers run without it (the verifier key is stored
with every tree head). A developer machine generates one into ``<VAR_DIR>/audit_signing_key``
the first time, like the secret key.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from functools import cache
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .checkpoint import Signer

KEY_FILE = "audit_signing_key"


def log_name() -> str:
    """The name the log signs as; each chain's checkpoint origin is ``<name>/<chain>``."""
    configured = str(getattr(settings, "AUDIT_LOG_NAME", "") or "")
    if configured:
        return configured
    return f"{urlsplit(settings.PUBLIC_URL).netloc or 'lgcloud'}/audit"


def origin(chain: str) -> str:
    return f"{log_name()}/{chain}"


def _seed() -> bytes:
    encoded = str(getattr(settings, "AUDIT_SIGNING_KEY", "") or "")
    if not encoded:
        if not settings.DEVELOPMENT:
            raise ImproperlyConfigured(
                "本番環境では監査ログの封印に LGCLOUD_AUDIT_SIGNING_KEY（Ed25519 の秘密鍵 32 バイトの base64）を"
                "設定してください。"
            )
        path = settings.VAR_DIR / KEY_FILE
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
            path.chmod(0o600)
        encoded = path.read_text().strip()
    try:
        seed = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        seed = b""
    if len(seed) != 32:
        raise ImproperlyConfigured("LGCLOUD_AUDIT_SIGNING_KEY は 32 バイトの鍵を base64 で指定してください。")
    return seed


@cache
def signer() -> Signer:
    return Signer(log_name(), Ed25519PrivateKey.from_private_bytes(_seed()))
