"""Health checks: is the database reachable and migrated?"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connection

from .metrics import DB_UP


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
