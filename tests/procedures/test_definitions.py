"""Procedures as data: every shipped definition is valid, broken ones are refused, changes make versions."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from lgcloud.core.tenancy import TenantContext
from lgcloud.procedures import catalog, hooks
from lgcloud.procedures.actions import Filing, publish_definitions, submit
from lgcloud.procedures.models import ProcedureDefinition, Submission
from lgcloud.procedures.queries import submission_definition
from lgcloud.procedures.rules.deadlines import filing_deadline
from lgcloud.procedures.rules.definitions import DefinitionError, parse_definition
from tests.conftest import CHIYODA

from .conftest import Resident


def test_the_shipped_definitions_are_valid() -> None:
    codes = {f.definition.code for f in catalog.load_all()}
    assert codes == {"address_change", "move_out", "certificate_by_post", "child_allowance", "emergency_benefit"}


def test_a_broken_definition_names_every_problem() -> None:
    with pytest.raises(DefinitionError) as refused:
        parse_definition(
            {
                "code": "x",
                "title": "",
                "reviewer_role": "operator",
                "fields": [
                    {"name": "a", "label": "A", "type": "colour"},
                    {"name": "code", "label": "団体コード", "type": "digits", "length": 6, "check": "luhn"},
                    {"name": "p", "label": "給付", "type": "text", "choices_from": "benefit_programmes"},
                ],
                "on_approve": {},
            }
        )
    text = " ".join(refused.value.problems)
    for expected in ("title", "colour", "operator", "luhn", "choices_from", "on_approve.action"):
        assert expected in text, expected


def _checked(data: dict[str, object]) -> str:
    """The problems the installed apps find in a definition that is well formed as a value."""
    return " ".join(hooks.check_definition(parse_definition(data), data))


BASE = {"code": "todokede", "title": "届出", "reviewer_role": "registry_clerk"}


def test_the_installed_apps_check_what_a_definition_asks_of_them() -> None:
    # An effect no app performs, an item no app prefills, a choice source no app offers.
    text = _checked(
        BASE
        | {
            "fields": [{"name": "pick", "label": "P", "type": "choice", "choices_from": "lottery_numbers"}],
            "prefill": [{"field": "n", "item": "individual_number", "label": "個人番号"}],
            "on_approve": {"action": "registry.teleport"},
        }
    )
    for expected in ("registry.teleport", "individual_number", "lottery_numbers"):
        assert expected in text, expected
    # The effect's own requirements: the fields it reads, the keys it owns.
    text = _checked(BASE | {"on_approve": {"action": "registry.address_change"}, "fee": {"kind_field": "k"}})
    assert "moved_on" in text and "不明な指定 fee" in text
    assert _checked(BASE | {"on_approve": {"action": "record_only"}}) == ""


def test_a_benefit_application_needs_a_programme_and_an_account() -> None:
    text = _checked(
        BASE
        | {
            "reviewer_role": "welfare_clerk",
            "fields": [{"name": "src", "label": "振込先", "type": "choice", "choices": [{"value": "x", "label": "X"}]}],
            "account": {"bank_code": "bank", "branch_code": "code", "account_number": "n", "holder_kana": "k"},
            "on_approve": {"action": "benefits.flat_benefit"},
        }
    )
    for expected in ("account:", "programme"):
        assert expected in text, expected
    emergency = next(f for f in catalog.load_all() if f.definition.code == "emergency_benefit")
    assert emergency.content["account"]["source_field"] == "account_source"
    assert emergency.definition.field("programme").choices_from == "benefit_programmes"  # type: ignore[union-attr]


def test_fourteen_days_and_closed_days() -> None:
    assert filing_deadline(date(2025, 4, 1), 14) == date(2025, 4, 15)  # a Tuesday
    assert filing_deadline(date(2025, 4, 5), 14) == date(2025, 4, 21)  # 4/19 is a Saturday
    assert filing_deadline(date(2025, 4, 15), 14) == date(2025, 4, 30)  # 4/29 昭和の日
    assert filing_deadline(date(2025, 12, 17), 14) == date(2026, 1, 5)  # 年末年始


@pytest.mark.django_db
def test_a_change_after_publication_is_a_new_version_and_submissions_keep_theirs(
    resident: Resident, tmp_path: Path
) -> None:
    ctx = TenantContext.system(None, "test")
    assert publish_definitions(ctx)[0].created is False  # already published by the fixture: idempotent
    values = {"planned_on": "2030-01-01", "destination": "大阪府", "scope": "household"}
    first = submit(
        resident.ctx,
        code="move_out",
        atena_number=resident.atena_number,
        filing=Filing(values=values),
        today=date.today(),
        resident_account_id=resident.account_id,
    )
    folder = tmp_path / "defs"
    for shipped in catalog.definition_dirs():
        shutil.copytree(shipped, folder, dirs_exist_ok=True)
    changed = yaml.safe_load((folder / "move_out.yaml").read_text(encoding="utf-8"))
    changed["fields"].append({"name": "reason_text", "label": "転出の理由", "type": "text", "required": True})
    (folder / "move_out.yaml").write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
    results = {r.code: r for r in publish_definitions(ctx, [folder])}
    assert results["move_out"].version == 2 and results["move_out"].created
    assert not results["address_change"].created
    assert list(
        ProcedureDefinition.objects.filter(code="move_out").values_list("version", flat=True).order_by("version")
    ) == [1, 2]
    old = Submission.objects.get(municipality_id=CHIYODA, number=first)
    assert old.definition.version == 1
    assert submission_definition(resident.ctx, old).field("reason_text") is None
    with pytest.raises(Exception, match="reason_text"):  # the new version asks for the new field
        submit(
            resident.ctx,
            code="move_out",
            atena_number=resident.atena_number,
            filing=Filing(values=values),
            today=date.today(),
            resident_account_id=resident.account_id,
        )
