"""``Idempotency-Key`` on the 異動 endpoints: a retry gives the first answer and writes no second 異動."""

from __future__ import annotations

import copy

import pytest
from django.test import Client

from lgcloud.core.models import IdempotencyKey
from lgcloud.core.permissions import Role
from lgcloud.registry.models import Change, Person
from tests.conftest import StaffFactory, signed_in

from .test_api import BASE, MOVE_IN

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk_client(make_staff: StaffFactory) -> Client:
    return signed_in(Client(), make_staff("131016", "juki", Role.REGISTRY_CLERK))


def _post(client: Client, body: dict[str, object], key: str | None, path: str = "move-in"):  # type: ignore[no-untyped-def]
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(f"{BASE}/changes/{path}", body, content_type="application/json", headers=headers)


def test_a_retry_with_the_same_key_gets_the_first_answer_and_no_second_change(clerk_client: Client) -> None:
    first = _post(clerk_client, MOVE_IN, "move-in-0001")
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    again = _post(clerk_client, MOVE_IN, "move-in-0001")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert Change.objects.filter(municipality_id="131016").count() == 1
    assert Person.objects.filter(municipality_id="131016").count() == 2
    row = IdempotencyKey.objects.get(municipality_id="131016", key="move-in-0001")
    assert row.status_code == 201
    # The body holds a 個人番号: only its HMAC is kept.
    assert "621498320257" not in str(row.fingerprint) + str(row.response)


def test_a_new_key_makes_a_new_change_and_no_key_keeps_the_old_behaviour(clerk_client: Client) -> None:
    body = copy.deepcopy(MOVE_IN)
    body["confirm_duplicates"] = True
    assert _post(clerk_client, body, "a").status_code == 201
    assert _post(clerk_client, body, "b").status_code == 201
    assert _post(clerk_client, body, None).status_code == 201
    assert Change.objects.filter(municipality_id="131016").count() == 3


def test_the_same_key_with_another_body_is_refused(clerk_client: Client) -> None:
    assert _post(clerk_client, MOVE_IN, "k-1").status_code == 201
    other = copy.deepcopy(MOVE_IN)
    other["address"] = "東京都千代田区霞が関二丁目2番2号"
    refused = _post(clerk_client, other, "k-1")
    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "idempotency_key_reused"
    assert Change.objects.filter(municipality_id="131016").count() == 1


def test_a_refused_change_keeps_nothing_so_the_key_can_be_used_again(clerk_client: Client) -> None:
    bad = copy.deepcopy(MOVE_IN)
    bad["effective_date"] = "2025-04-05"  # after the filing date: refused by the rules
    refused = _post(clerk_client, bad, "k-2")
    assert refused.status_code == 422, refused.content
    assert not IdempotencyKey.objects.filter(key="k-2").exists()
    assert _post(clerk_client, MOVE_IN, "k-2").status_code == 201
    assert Change.objects.filter(municipality_id="131016").count() == 1


@pytest.mark.parametrize("key", ["", "has space", "鍵", "x" * 201])
def test_a_malformed_key_is_refused_before_anything_is_written(clerk_client: Client, key: str) -> None:
    refused = _post(clerk_client, MOVE_IN, key)
    assert refused.status_code == 422
    assert refused.json()["code"] == "idempotency_key_invalid"
    assert not Change.objects.exists()


def test_keys_belong_to_one_municipality(clerk_client: Client, make_staff: StaffFactory) -> None:
    other = signed_in(Client(), make_staff("131024", "juki2", Role.REGISTRY_CLERK))
    assert _post(clerk_client, MOVE_IN, "shared-key").status_code == 201
    created = other.post(
        "/api/v1/municipalities/131024/changes/move-in",
        MOVE_IN,
        content_type="application/json",
        headers={"Idempotency-Key": "shared-key"},
    )
    assert created.status_code == 201
    assert "Idempotent-Replayed" not in created
    assert Change.objects.filter(municipality_id="131024").count() == 1
