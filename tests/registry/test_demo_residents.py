"""``lgcloud demo_residents``: residents with households and real history, once per municipality."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from lgcloud.audit.models import AuditRecord
from lgcloud.core.checkdigits import validate_individual_number
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry import queries
from lgcloud.registry.bulk import count_residents
from lgcloud.registry.models import Change, Person
from lgcloud.registry.queries import SearchQuery

pytestmark = pytest.mark.django_db

DEMO = ("131016", "131041", "132012")
RESIDENTS = 120  # per municipality: small, so the suite stays fast (the real demo loads 1,950)


def ctx(code: str) -> TenantContext:
    return TenantContext.system(code, purpose="test")


def run(**options: object) -> str:
    out = StringIO()
    call_command("demo_residents", residents=RESIDENTS, stdout=out, **options)
    return out.getvalue()


def test_the_demo_municipalities_get_what_the_issue_asks_for_once(tokyo: list[str]) -> None:
    # One test, one run: the demo is the slowest fixture of the registry tests.
    first = run()
    today = timezone.localdate()
    for code in DEMO:
        c = ctx(code)
        assert RESIDENTS <= count_residents(c) < RESIDENTS + 40
        assert f"（{code}）: 住民 {count_residents(c):,} 人" in first

        # History: bulk for the town as it was a year ago, the last year through the real actions.
        kinds = set(Change.objects.filter(municipality_id=code).values_list("change_type", flat=True))
        assert {"move_in", "birth", "address_change", "death", "move_out_planned", "move_out_confirmed"} <= kinds
        for kind in ("death", "birth", "address_change", "move_in"):
            assert AuditRecord.objects.filter(municipality_id=code, action=f"registry.change.{kind}").exists()
        assert AuditRecord.objects.filter(municipality_id=code, action="registry.bulk_load").exists()

        # Names as the 戸籍 writes them, found by the common form and by reading.
        for typed, stored in {
            "高橋": "髙橋",
            "山崎": "山\ufa11",
            "吉田": "\U00020bb7田",
            "葛西": "葛\U000e0100西",
        }.items():
            found = queries.search_persons(c, SearchQuery(name=typed), today=today).results
            assert any(r.full_name.startswith(stored + "　") for r in found), (code, typed)
        kasai = queries.search_persons(c, SearchQuery(kana="カサイ"), today=today).results
        assert any("\U000e0100" in r.full_name for r in kasai)

        # One 支援措置, and a few 個人番号 with valid check digits.
        found = queries.search_persons(c, SearchQuery(name="山\ufa11美加子"), today=today).results
        assert sum(r.protected for r in found) == 1
        with_number = Person.objects.filter(municipality_id=code, individual_number_ciphertext__isnull=False)
        assert with_number.count() >= 3
        for person in with_number:
            number = queries.reveal_individual_number(c, person.atena_number, purpose="テスト")
            assert number is not None and validate_individual_number(number) == number

    # Idempotent: a second run writes nothing and says the same.
    counts = (Person.objects.count(), Change.objects.count(), AuditRecord.objects.count())
    assert run() == first
    assert (Person.objects.count(), Change.objects.count(), AuditRecord.objects.count()) == counts


def test_refuses_production_settings(tokyo: list[str]) -> None:
    with override_settings(DEVELOPMENT=False), pytest.raises(CommandError, match="開発環境"):
        run()
    assert not Person.objects.exists()
