"""The 公共SaaS requirements: the page and docs/saas-requirements.md state each, with tests that exist."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.test import Client

from lgcloud import __version__
from lgcloud.core.permissions import Role
from lgcloud.ops.saas import REQUIREMENTS
from tests.conftest import CHIYODA, SHINJUKU

ROOT = Path(__file__).resolve().parents[2]


def test_every_named_test_exists() -> None:
    for requirement in REQUIREMENTS:
        assert requirement.tests, requirement.id
        for node in requirement.tests:
            path, _, name = node.partition("::")
            tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
            names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            assert name in names, f"{requirement.id}: {node} does not exist"


def test_the_doc_states_every_requirement_with_its_tests() -> None:
    doc = (ROOT / "docs" / "saas-requirements.md").read_text(encoding="utf-8")
    for requirement in REQUIREMENTS:
        assert f"{requirement.id}: {requirement.requirement}" in doc
        for node in requirement.tests:
            assert node in doc, f"{requirement.id}: {node} is not in docs/saas-requirements.md"


@pytest.mark.django_db
def test_every_municipality_is_served_by_the_same_version(client: Client, make_staff, login_as) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/saas/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"lgcloud {__version__}" in text
    assert all(r.id in text for r in REQUIREMENTS)
    assert client.get("/api/v1/openapi.json").json()["info"]["version"] == __version__
    seen = set()
    for code in (CHIYODA, SHINJUKU):
        staff = login_as(make_staff(code, "clerk", Role.REGISTRY_CLERK))
        seen.add(staff.get("/api/v1/openapi.json").json()["info"]["version"])
        assert f"lgcloud {__version__}" in staff.get("/saas/").content.decode()
    assert seen == {__version__}
