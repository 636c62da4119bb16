"""Django settings for lgcloud, read from the environment.

Every variable is listed in docs/operations.md. Production is the default; a
developer machine says ``LGCLOUD_ENV=development`` (``make run`` and the tests do).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from lgcloud.contract.discovery import django_apps
from lgcloud.core import database_url
from lgcloud.core.residency import validate_storage_region

ENV = os.environ.get("LGCLOUD_ENV", "production")
if ENV not in {"production", "development"}:
    raise ImproperlyConfigured(f"LGCLOUD_ENV は production か development を指定してください（指定値: {ENV!r}）。")
DEVELOPMENT = ENV == "development"

VAR_DIR = Path(os.environ.get("LGCLOUD_VAR_DIR", Path.cwd() / "var")).resolve()

# 7. Data residency: refuse to start with storage outside Japan.
STORAGE_REGION = validate_storage_region(os.environ.get("LGCLOUD_STORAGE_REGION", "jp-east"))


def _secret_key() -> str:
    key = os.environ.get("LGCLOUD_SECRET_KEY")
    if key:
        return key
    if not DEVELOPMENT:
        raise ImproperlyConfigured("本番環境では LGCLOUD_SECRET_KEY を設定してください。")
    # A developer machine keeps one generated key so sessions survive restarts.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _master_key() -> str:
    key = os.environ.get("LGCLOUD_MASTER_KEY")
    if key:
        return key
    if not DEVELOPMENT:
        raise ImproperlyConfigured("本番環境では LGCLOUD_MASTER_KEY（個人番号の暗号化に使う鍵）を設定してください。")
    path = VAR_DIR / "master_key"
    if not path.exists():
        path.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


# Wraps each municipality's data key (AES-256-GCM) for 個人番号 at rest.
MASTER_KEY = _master_key()
DEBUG = os.environ.get("LGCLOUD_DEBUG", "0") == "1"
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("LGCLOUD_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("LGCLOUD_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "ninja",
    "oauth2_provider",
    "lgcloud.core",
    "lgcloud.municipalities",
    "lgcloud.accounts",
    "lgcloud.audit",
    "lgcloud.portability",
    "lgcloud.linkage",
    "lgcloud.procedures",
    "lgcloud.ops",
    "lgcloud.web",
    # 業務 apps: every installed package that declares an entry point in the group
    # ``lgcloud.apps`` (lgcloud's own apps and vendors' alike; LGCLOUD_APPS narrows it).
    *django_apps(),
]

MIDDLEWARE = [
    # Outermost, so the CPU and time it books per municipality and 業務 are the whole request's.
    "lgcloud.ops.metering.MeteringMiddleware",
    "lgcloud.core.middleware.RequestIdMiddleware",
    "lgcloud.core.api.ApiProblemMiddleware",
    "lgcloud.ops.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "lgcloud.accounts.middleware.StaffContextMiddleware",
    "lgcloud.core.admission.TenantAdmissionMiddleware",
    "lgcloud.core.placement.TenantWriteFreezeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so that a lock-out is answered before any view runs.
    "axes.middleware.AxesMiddleware",
]

# The implementation of each 業務 a municipality starts with when it joins the platform
# (comma-separated app ids; empty: the only, or lgcloud's reference, implementation of each).
DEFAULT_APPS = os.environ.get("LGCLOUD_DEFAULT_APPS", "")

ROOT_URLCONF = "lgcloud.urls"
WSGI_APPLICATION = "lgcloud.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lgcloud.web.context_processors.staff_context",
            ],
        },
    },
]

# Database: SQLite in var/ by default; PostgreSQL via LGCLOUD_DATABASE_URL.
DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'lgcloud.sqlite3'}"
DATABASE_URL = os.environ.get("LGCLOUD_DATABASE_URL", DEFAULT_DATABASE_URL)
# A multi-host URL (east,west) with target_session_attrs=read-write finds the primary
# again after a failover (core.database_url; docs/operations.md). Health checks drop a
# pooled connection to a server that went away before a request uses it.
_db = database_url.parse(
    DATABASE_URL,
    conn_max_age=int(os.environ.get("LGCLOUD_DB_CONN_MAX_AGE", "0")),
    conn_health_checks=os.environ.get("LGCLOUD_DB_CONN_HEALTH_CHECKS", "1") == "1",
)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write
        # lock at BEGIN so two writers queue instead of failing mid-transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DATABASES = {"default": _db}
# National scale: more PostgreSQL clusters, as a JSON object alias → URL (multi-host URLs
# allowed); the tenant directory in the default database places each municipality on one
# of them (core.placement). Empty: everything on the default database.
TENANT_CLUSTERS: dict[str, str] = json.loads(os.environ.get("LGCLOUD_TENANT_CLUSTERS", "") or "{}")
for _alias, _url in TENANT_CLUSTERS.items():
    DATABASES[_alias] = database_url.parse(
        _url,
        conn_max_age=int(os.environ.get("LGCLOUD_DB_CONN_MAX_AGE", "0")),
        conn_health_checks=os.environ.get("LGCLOUD_DB_CONN_HEALTH_CHECKS", "1") == "1",
    )
DATABASE_ROUTERS = ["lgcloud.core.placement.TenantRouter"]
# Seconds a worker trusts its copy of the tenant directory (a move waits this long).
TENANT_DIRECTORY_TTL = float(os.environ.get("LGCLOUD_TENANT_DIRECTORY_TTL", "5"))
# Requests of one municipality a worker process runs at once (0: no cap); see core.admission.
TENANT_MAX_INFLIGHT = int(os.environ.get("LGCLOUD_TENANT_MAX_INFLIGHT", "0"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The PostgreSQL role the application connects as (never the owner): migrations
# grant it table privileges and keep it off UPDATE/DELETE on the audit log.
APP_DB_ROLE = os.environ.get("LGCLOUD_APP_DB_ROLE", "lgcloud_app")

AUTH_USER_MODEL = "accounts.Staff"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "lgcloud.accounts.backends.StaffBackend",
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"

# Lock-out (django-axes): five failures lock the account for 30 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("LGCLOUD_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LGCLOUD_LOGIN_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "lgcloud.accounts.lockout.login_id_for_axes"
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
SILENCED_SYSTEM_CHECKS = [
    # axes.W006 wants the IP in the lock-out key. We lock the account itself
    # (username alone), which is stricter: rotating IPs or user agents gains nothing.
    "axes.W006",
]

# Sessions and cookies.
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_SECURE = not DEVELOPMENT
CSRF_COOKIE_SECURE = not DEVELOPMENT
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEVELOPMENT:
    SECURE_HSTS_SECONDS = int(os.environ.get("LGCLOUD_HSTS_SECONDS", str(365 * 24 * 60 * 60)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is a promise that every subdomain serves HTTPS for good: opt in per domain.
    SECURE_HSTS_PRELOAD = os.environ.get("LGCLOUD_HSTS_PRELOAD", "0") == "1"
    # __Host-: the browser takes the cookie only over HTTPS, for this host, path /.
    SESSION_COOKIE_NAME = "__Host-lgcloud_session"
    CSRF_COOKIE_NAME = "__Host-lgcloud_csrftoken"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = os.environ.get("LGCLOUD_SSL_REDIRECT", "1") == "1"
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

# Content-Security-Policy (django-csp): same-origin only, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise serves from the finders in development; the folder must still exist.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production serves what `lgcloud collectstatic` wrote: names with a content hash
    # (cached for a year) and compressed copies. Development serves from the apps.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEVELOPMENT
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEVELOPMENT
# Source maps (megabytes, for developers' tools only) are not worth compressing.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = ["map", "jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "woff", "woff2"]

# The address residents and third parties reach lgcloud at: the verification
# QR on certificates points there (https://…/verify/<code>/).
PUBLIC_URL = os.environ.get("LGCLOUD_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# 監査ログの封印 (audit.sealer): the Ed25519 key that signs each chain's tree heads (base64 of a
# 32-byte seed; production sets it for the sealer only, development generates one into VAR_DIR),
# the name the log signs as (default: the public host + "/audit"), and the sealer lag (seconds)
# above which the operator's health page raises an alert.
AUDIT_SIGNING_KEY = os.environ.get("LGCLOUD_AUDIT_SIGNING_KEY", "")
AUDIT_LOG_NAME = os.environ.get("LGCLOUD_AUDIT_LOG_NAME", "")
AUDIT_VERIFIER_KEYS = [k.strip() for k in os.environ.get("LGCLOUD_AUDIT_VERIFIER_KEYS", "").split(",") if k.strip()]
AUDIT_SEAL_LAG_ALERT = float(os.environ.get("LGCLOUD_AUDIT_SEAL_LAG_ALERT", "5"))

# API tokens for staff scripts and RPA.
API_TOKEN_DEFAULT_DAYS = int(os.environ.get("LGCLOUD_API_TOKEN_DAYS", "90"))
# Optional bearer token protecting /metrics (Prometheus scrape config sets it).
METRICS_TOKEN = os.environ.get("LGCLOUD_METRICS_TOKEN", "")

# Usage metering (docs/metering.md): each worker flushes its in-memory tally this often (0: only
# when told, e.g. by a command or the tests) and appends raw request records under this folder.
USAGE_FLUSH_SECONDS = float(os.environ.get("LGCLOUD_USAGE_FLUSH_SECONDS", "15"))
USAGE_LOG_DIR = os.environ.get("LGCLOUD_USAGE_LOG_DIR", str(VAR_DIR / "usage"))
# Distinct municipality label values a worker gives its Prometheus metrics before "other".
METRICS_MAX_MUNICIPALITIES = int(os.environ.get("LGCLOUD_METRICS_MAX_MUNICIPALITIES", "2000"))

OTP_TOTP_ISSUER = "lgcloud"

# 全件出力 (portability): approved exports are written only under this folder, as
# <EXPORT_DIR>/<lg_code>/<YYYYmmddTHHMMSS>-<request id>/; moving a bundle off the server is an
# operator procedure (docs/portability.md). Towns up to EXPORT_SYNC_MAX_PERSONS residents are
# exported during the approval request itself; larger ones by `lgcloud run_exports`.
EXPORT_DIR = Path(os.environ.get("LGCLOUD_EXPORT_DIR", VAR_DIR / "exports")).resolve()
EXPORT_SYNC_MAX_PERSONS = int(os.environ.get("LGCLOUD_EXPORT_SYNC_MAX_PERSONS", "20000"))

NINJA_PAGINATION_PER_PAGE = 50

# 連携: other systems sign in with OAuth 2.0 client credentials; scopes come from the
# purpose data map (linkage/parameters/data_map.yaml), see docs/linkage.md.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"  # named so migrations can depend on it
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "OAUTH2_VALIDATOR_CLASS": "lgcloud.linkage.oauth.ClientValidator",
    "SCOPES_BACKEND_CLASS": "lgcloud.linkage.oauth.DataMapScopes",
}

# 行政手続オンライン化 (procedures): residents sign in with OpenID Connect; see docs/procedures.md.
# The 開発用 provider (accounts/devidp.py) is for development and tests only and refused in production.
OIDC_DEV_PROVIDER = DEVELOPMENT and os.environ.get("LGCLOUD_OIDC_DEV_PROVIDER", "1") == "1"
if not DEVELOPMENT and os.environ.get("LGCLOUD_OIDC_DEV_PROVIDER", "0") == "1":
    raise ImproperlyConfigured("開発用 OIDC プロバイダ（LGCLOUD_OIDC_DEV_PROVIDER）は本番環境では使えません。")
OIDC_ISSUER = os.environ.get("LGCLOUD_OIDC_ISSUER", f"{PUBLIC_URL}/dev-idp" if OIDC_DEV_PROVIDER else "")
OIDC_CLIENT_ID = os.environ.get("LGCLOUD_OIDC_CLIENT_ID", "lgcloud-dev-portal" if OIDC_DEV_PROVIDER else "")
OIDC_SCOPES = os.environ.get("LGCLOUD_OIDC_SCOPES", "openid profile address email")


def _dev_oidc_secret() -> str:
    import hashlib
    import hmac

    digest = hmac.new(SECRET_KEY.encode(), b"dev-oidc-client", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


OIDC_CLIENT_SECRET = os.environ.get("LGCLOUD_OIDC_CLIENT_SECRET", _dev_oidc_secret() if OIDC_DEV_PROVIDER else "")


def _dev_oidc_key() -> str:
    """The development provider's RSA signing key, generated once into VAR_DIR (development only)."""
    path = VAR_DIR / "dev_oidc_key.pem"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        path.chmod(0o600)
    return path.read_text()


if OIDC_DEV_PROVIDER:
    # Only the signing key: the provider's views name their own validator and server classes,
    # so the linkage app's client-credentials set-up above is left as it is.
    OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"] = _dev_oidc_key()

# Attachments to procedures: stored per municipality under this folder, checked, optionally scanned.
ATTACHMENT_DIR = Path(os.environ.get("LGCLOUD_ATTACHMENT_DIR", VAR_DIR / "attachments")).resolve()
ATTACHMENT_MAX_BYTES = int(os.environ.get("LGCLOUD_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
ATTACHMENT_SCANNER = os.environ.get("LGCLOUD_ATTACHMENT_SCANNER", "")
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# E-mail to residents (status of their procedures). Without LGCLOUD_SMTP_HOST a development
# machine prints messages to the console.
SMTP_HOST = os.environ.get("LGCLOUD_SMTP_HOST", "")
if SMTP_HOST or not DEVELOPMENT:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_HOST = SMTP_HOST or "localhost"
EMAIL_PORT = int(os.environ.get("LGCLOUD_SMTP_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("LGCLOUD_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("LGCLOUD_SMTP_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("LGCLOUD_SMTP_STARTTLS", "0") == "1"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("LGCLOUD_MAIL_FROM", "lgcloud <no-reply@localhost>")


# Logs never carry request bodies or personal data; each line has the request id.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "lgcloud.core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LGCLOUD_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django logs 4xx/5xx with the request path only; bodies never reach logs.
        "django.request": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # WeasyPrint logs each font and stylesheet it loads; keep warnings only.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
