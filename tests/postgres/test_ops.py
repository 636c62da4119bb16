"""運用監視 on PostgreSQL, as the app role under row-level security: metering never mixes municipalities."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from lgcloud.core.tenancy import TenantContext
from lgcloud.ops import actions
from lgcloud.ops.daily import table_usage
from lgcloud.ops.queries import usage_totals

from .conftest import CHIYODA, SHINJUKU, Seed

pytestmark = pytest.mark.django_db


def test_the_flush_upserts_each_municipalitys_rows_in_its_own_tenant_block(seed: Seed) -> None:
    today = timezone.localdate()
    platform = TenantContext.system(None, purpose="test")
    before = {c: usage_totals(TenantContext.system(c, "test"), today, today) for c in (CHIYODA, SHINJUKU)}
    for _ in range(2):  # the second flush adds to the same rows (INSERT … ON CONFLICT DO UPDATE)
        actions.add_usage(
            platform,
            {
                (CHIYODA, today, "001", "cpu_us"): 1000,
                (SHINJUKU, today, "001", "cpu_us"): 7,
                (None, today, "platform", "cpu_us"): 3,
            },
        )
    for code, added in ((CHIYODA, 2000), (SHINJUKU, 14)):
        after = usage_totals(TenantContext.system(code, "test"), today, today)
        assert after[("001", "cpu_us")] - before[code].get(("001", "cpu_us"), 0) == added
    # Outside any tenant block the app role sees none of it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ops_usageday")
        assert cursor.fetchone()[0] == 0


def test_database_bytes_are_measured_under_the_municipalitys_own_rls(seed: Seed) -> None:
    chiyoda = table_usage(TenantContext.system(CHIYODA, "test"))
    shinjuku = table_usage(TenantContext.system(SHINJUKU, "test"))
    assert chiyoda["001"][0] > 0 and chiyoda["001"][1] > chiyoda["001"][0]  # rows, then bytes
    assert shinjuku["001"][0] > 0
    assert chiyoda["platform"][0] > 0
