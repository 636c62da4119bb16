"""Health checks: is the database reachable and migrated? Is the audit sealer keeping up?"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection

from lgcloud.audit.sealer import seal_lag

from .metrics import AUDIT_SEAL_LAG, DB_UP


@dataclass(frozen=True)
class Health:
    ok: bool
    database: str
    latency_ms: float


def check_health() -> Health:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
            # The municipality directory is platform data: readable without a tenant.
            cursor.execute("SELECT COUNT(*) FROM municipalities_municipality")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001  (any failure means "not healthy")
        DB_UP.set(0)
        return Health(False, f"error: {type(exc).__name__}", (time.perf_counter() - started) * 1000)
    DB_UP.set(1)
    return Health(True, connection.vendor, (time.perf_counter() - started) * 1000)


@dataclass(frozen=True)
class SealHealth:
    ok: bool
    lag_seconds: float | None  # None: the database could not be asked
    alert_seconds: float


def check_audit_seal() -> SealHealth:
    """The sealer lag (age of the oldest unsealed audit record) against LGCLOUD_AUDIT_SEAL_LAG_ALERT."""
    alert = float(settings.AUDIT_SEAL_LAG_ALERT)
    try:
        lag = seal_lag().total_seconds()
    except DatabaseError:
        return SealHealth(False, None, alert)
    AUDIT_SEAL_LAG.set(lag)
    return SealHealth(lag <= alert, lag, alert)
