"""The tenant setting lives exactly as long as its ``bound()`` / ``platform_scope()`` block.

A pooled connection must never carry one request's municipality into the next,
and a block nested in a longer transaction must not leave its setting behind
for the statements that follow it.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from lgcloud.accounts.models import Staff
from lgcloud.core.tenancy import PLATFORM_SETTING, TENANT_SETTING, TenantContext, bound, platform_scope

from .conftest import Seed


def _setting() -> tuple[str, str]:
    """The tenant and platform settings as the next statement sees them ('' when unset)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(current_setting(%s, true), ''), coalesce(current_setting(%s, true), '')",
            [TENANT_SETTING, PLATFORM_SETTING],
        )
        row = cursor.fetchone()
    return str(row[0]), str(row[1])


def _system(lg_code: str | None) -> TenantContext:
    return TenantContext.system(lg_code, purpose="test")


def test_a_committed_block_leaves_the_pooled_connection_without_a_tenant(seed: Seed, autocommit_db: None) -> None:
    with bound(_system(seed.a.lg_code)):
        assert _setting() == (seed.a.lg_code, "")
        assert Staff.objects.count() == 3
    # The same connection, as the next request on a pooled worker would find it.
    assert _setting() == ("", "")
    with transaction.atomic():
        assert _setting() == ("", "")
        assert Staff.objects.count() == 0
    with platform_scope():
        assert _setting() == ("", "on")
    with transaction.atomic():
        assert _setting() == ("", "")
        assert Staff.objects.count() == 0


@pytest.mark.django_db
def test_a_nested_block_gives_back_the_enclosing_setting(seed: Seed) -> None:
    # pytest-django's test transaction encloses everything here, as an outer atomic() would in the app.
    assert connection.in_atomic_block
    with bound(_system(seed.a.lg_code)):
        assert _setting() == (seed.a.lg_code, "")
    assert _setting() == ("", "")
    assert Staff.objects.count() == 0
    with bound(_system(seed.b.lg_code)):
        with bound(_system(seed.a.lg_code)):
            assert set(Staff.objects.values_list("municipality_id", flat=True)) == {seed.a.lg_code}
        assert _setting() == (seed.b.lg_code, "")
        assert set(Staff.objects.values_list("municipality_id", flat=True)) == {seed.b.lg_code}
        with platform_scope():
            assert _setting() == ("", "on")
        assert _setting() == (seed.b.lg_code, "")
    assert _setting() == ("", "")


@pytest.mark.django_db
def test_an_error_inside_the_platform_scope_is_not_hidden(seed: Seed) -> None:
    """The rollback to the savepoint restores the setting; the original error reaches the caller."""
    with bound(_system(seed.a.lg_code)):
        with pytest.raises(IntegrityError), platform_scope():
            taken = Staff.objects.get(pk=seed.b.admin_id).login_id
            Staff.objects.create(municipality_id=seed.b.lg_code, username="dup", login_id=taken, display_name="x")
        assert _setting() == (seed.a.lg_code, "")
        assert Staff.objects.filter(municipality_id=seed.a.lg_code).count() == 3


@pytest.mark.django_db
def test_an_error_inside_a_tenant_block_rolls_the_setting_back(seed: Seed) -> None:
    with pytest.raises(ZeroDivisionError), bound(_system(seed.a.lg_code)):
        assert Staff.objects.count() == 3
        _ = 1 / 0
    assert _setting() == ("", "")
    assert Staff.objects.count() == 0
