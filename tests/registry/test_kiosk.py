"""コンビニ交付: card + PIN, household members only, lock after 3 wrong PINs, timeouts answer an error."""

from __future__ import annotations

import io
import json
import subprocess
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.utils import timezone

from lgcloud.accounts.actions import create_api_token
from lgcloud.audit.models import AuditRecord
from lgcloud.core.permissions import MFA_REQUIRED_ROLES, MUNICIPAL_ROLES, Role, granted
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry import kiosk
from lgcloud.registry.actions import Adversary, register_move_in, set_protection
from lgcloud.registry.models import Certificate, KioskCredential, Person
from tests.conftest import StaffFactory
from tests.registry.conftest import person

pytestmark = pytest.mark.django_db

CHIYODA = "131016"
SHINJUKU = "131041"
PIN = "4721"
URL = f"/api/v1/municipalities/{CHIYODA}/kiosk/certificates"


def _token(make_staff: StaffFactory, lg_code: str, username: str, role: Role) -> str:
    staff = make_staff(lg_code, username, role)
    return create_api_token(TenantContext.system(lg_code, purpose="test"), staff.pk, name="kiosk").raw


@pytest.fixture
def kiosk_token(make_staff: StaffFactory) -> str:
    return _token(make_staff, CHIYODA, "kiosk-01", Role.KIOSK)


@pytest.fixture
def residents(clerk: TenantContext, family: Any) -> dict[str, Person]:
    """The 山田 household of three (PINs set) and a neighbour in another household."""
    other = register_move_in(
        clerk,
        persons=[person("佐藤", "次郎", kana=("サトウ", "ジロウ"), birth=date(1990, 1, 2))],
        address="東京都千代田区霞が関一丁目2番2号",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 2),
        previous_address="",
    )
    numbers = [*family.atena_numbers, *other.atena_numbers]
    for atena in numbers:
        kiosk.set_kiosk_pin(clerk, atena_number=atena, pin=PIN)
    people = {p.atena_number: p for p in Person.objects.filter(atena_number__in=numbers)}
    head, wife, child = family.atena_numbers
    return {
        "head": people[head],
        "wife": people[wife],
        "child": people[child],
        "neighbour": people[other.atena_numbers[0]],
    }


def post(token: str, body: dict[str, Any], url: str = URL) -> Any:
    return Client().post(
        url, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def body_for(p: Person, **extra: Any) -> dict[str, Any]:
    return {"resident_code": p.resident_code, "pin": PIN, **extra}


def problem(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/problem+json"
    assert not response.content.startswith(b"%PDF")
    data: dict[str, Any] = response.json()
    return data


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def test_the_kiosk_role_is_a_machine_with_one_permission() -> None:
    assert granted(Role.KIOSK) == frozenset({kiosk.SELF_SERVICE})
    assert Role.KIOSK in MUNICIPAL_ROLES
    assert Role.KIOSK not in MFA_REQUIRED_ROLES
    assert Role.KIOSK.label == "コンビニ交付端末"


def test_a_resident_gets_their_own_certificate(kiosk_token: str, residents: dict[str, Person]) -> None:
    head = residents["head"]
    response = post(kiosk_token, body_for(head))
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Cache-Control"] == "no-store"
    cert = Certificate.objects.get(verification_code=response["X-Verification-Code"])
    assert str(cert.issue_number) == response["X-Issue-Number"]
    assert (cert.channel, cert.kind, cert.persons) == ("kiosk", "individual", [head.atena_number])
    assert cert.requester == {"relation": "self", "channel": "kiosk"}
    issued = AuditRecord.objects.get(action="registry.kiosk.issued")
    assert (issued.subject_id, issued.fields) == (
        head.atena_number,
        [f"certificate:{cert.issue_number}", "kind:individual"],
    )
    text = pdf_text(response.content)  # poppler-utils (.ci/system-deps)
    assert "太郎" in text and "花子" not in text and "一郎" not in text


def test_a_household_member_and_the_whole_household(kiosk_token: str, residents: dict[str, Person]) -> None:
    head, wife, child = residents["head"], residents["wife"], residents["child"]
    response = post(kiosk_token, body_for(head, subject_atena_number=wife.atena_number))
    assert response.status_code == 200, response.content[:500]
    cert = Certificate.objects.get(verification_code=response["X-Verification-Code"])
    assert (cert.persons, cert.requester["relation"]) == ([wife.atena_number], "household")
    text = pdf_text(response.content)
    assert "花子" in text and "太郎" not in text  # the wife's copy, though the head asked

    response = post(kiosk_token, body_for(child, kind="household"))
    assert response.status_code == 200, response.content[:500]
    cert = Certificate.objects.get(verification_code=response["X-Verification-Code"])
    # In household order (the 世帯主 first), whoever asked.
    assert cert.persons == [head.atena_number, wife.atena_number, child.atena_number]
    assert all(name in pdf_text(response.content) for name in ("太郎", "花子", "一郎"))

    response = post(kiosk_token, body_for(wife, kind="household", subject_atena_numbers=[child.atena_number]))
    assert response.status_code == 200, response.content[:500]
    assert Certificate.objects.get(verification_code=response["X-Verification-Code"]).persons == [child.atena_number]

    response = post(kiosk_token, body_for(head, kind="record_items"))
    assert response.status_code == 200, response.content[:500]


def test_someone_outside_the_household_is_refused(kiosk_token: str, residents: dict[str, Person]) -> None:
    head, neighbour = residents["head"], residents["neighbour"]
    before = Certificate.objects.count()
    refused = post(kiosk_token, body_for(head, subject_atena_number=neighbour.atena_number))
    assert refused.status_code == 403
    assert problem(refused)["code"] == "not_in_household"
    # A 宛名番号 that exists nowhere gets the same answer: nothing to probe.
    missing = post(kiosk_token, body_for(head, subject_atena_number="9999999999"))
    assert (missing.status_code, problem(missing)["code"]) == (403, "not_in_household")
    household = post(kiosk_token, body_for(head, kind="household", subject_atena_numbers=[neighbour.atena_number]))
    assert (household.status_code, problem(household)["code"]) == (403, "not_in_household")
    assert Certificate.objects.count() == before


def test_a_protected_person_is_never_issued_at_a_kiosk(
    clerk: TenantContext, kiosk_token: str, residents: dict[str, Person]
) -> None:
    head, wife = residents["head"], residents["wife"]
    set_protection(
        clerk, atena_number=wife.atena_number, starts_on=timezone.localdate(), adversary=Adversary("加害 者")
    )
    before = Certificate.objects.count()
    for body in (
        body_for(head, subject_atena_number=wife.atena_number),
        body_for(wife),
        body_for(head, kind="household"),
    ):
        response = post(kiosk_token, body)
        assert response.status_code == 403
        assert problem(response)["code"] == "protected_channel"
    assert Certificate.objects.count() == before
    # Against whoever asked at the kiosk…
    asked = AuditRecord.objects.filter(municipality_id=CHIYODA, action="registry.kiosk.refused")
    assert sorted(r.subject_id for r in asked) == sorted([head.atena_number, wife.atena_number, head.atena_number])
    assert {r.fields[0] for r in asked} == {"code:protected_channel"}
    # …and against the protected person, whose record was asked for.
    refused = AuditRecord.objects.filter(municipality_id=CHIYODA, action="registry.certificate.refused")
    assert [r.subject_id for r in refused] == [wife.atena_number] * 3
    # The others in the household are still served.
    assert post(kiosk_token, body_for(head)).status_code == 200


def test_three_wrong_pins_lock_the_card_until_the_counter_resets_it(
    clerk: TenantContext, kiosk_token: str, residents: dict[str, Person]
) -> None:
    head = residents["head"]
    wrong = body_for(head, pin="0000")
    first, second, third = (post(kiosk_token, wrong) for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [401, 401, 423]
    assert [problem(r)["code"] for r in (first, second, third)] == [
        "card_or_pin_invalid",
        "card_or_pin_invalid",
        "pin_locked",
    ]
    # Locked: even the right PIN is refused, and the refusal does not reveal whether it was right.
    right = post(kiosk_token, body_for(head))
    assert (right.status_code, problem(right)["code"]) == (423, "pin_locked")
    assert KioskCredential.objects.get(person=head).failed_attempts == 3
    assert AuditRecord.objects.filter(action="registry.kiosk.pin_failed", subject_id=head.atena_number).count() == 2

    kiosk.set_kiosk_pin(clerk, atena_number=head.atena_number, pin="1357")
    assert post(kiosk_token, body_for(head)).status_code == 401  # the old PIN is gone
    assert post(kiosk_token, body_for(head, pin="1357")).status_code == 200


def test_a_right_pin_resets_the_count(kiosk_token: str, residents: dict[str, Person]) -> None:
    head = residents["head"]
    for _ in range(2):
        assert post(kiosk_token, body_for(head, pin="0000")).status_code == 401
    assert post(kiosk_token, body_for(head)).status_code == 200
    assert KioskCredential.objects.get(person=head).failed_attempts == 0
    assert post(kiosk_token, body_for(head, pin="0000")).status_code == 401  # one wrong try, not the third


def test_an_unknown_card_looks_like_a_wrong_pin(
    make_staff: StaffFactory, kiosk_token: str, residents: dict[str, Person]
) -> None:
    unknown = post(kiosk_token, {"resident_code": "12345678901", "pin": PIN})
    wrong = post(kiosk_token, body_for(residents["head"], pin="0000"))
    assert unknown.status_code == wrong.status_code == 401
    a, b = problem(unknown), problem(wrong)
    assert (a["code"], a["title"], a["detail"]) == (b["code"], b["title"], b["detail"])
    # A Chiyoda resident's card at Shinjuku's kiosk is just an unknown card there.
    shinjuku = _token(make_staff, SHINJUKU, "kiosk-01", Role.KIOSK)
    elsewhere = post(shinjuku, body_for(residents["head"]), url=f"/api/v1/municipalities/{SHINJUKU}/kiosk/certificates")
    assert (elsewhere.status_code, problem(elsewhere)["code"]) == (401, "card_or_pin_invalid")


def test_a_resident_without_a_pin_is_an_unknown_card(
    clerk: TenantContext, kiosk_token: str, residents: dict[str, Person]
) -> None:
    moved_in = register_move_in(
        clerk,
        persons=[person("鈴木", "三郎", kana=("スズキ", "サブロウ"), birth=date(1970, 3, 3))],
        address="東京都千代田区霞が関一丁目3番3号",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 2),
        previous_address="",
    )
    no_pin = Person.objects.get(atena_number=moved_in.atena_numbers[0])
    response = post(kiosk_token, body_for(no_pin))
    assert (response.status_code, problem(response)["code"]) == (401, "card_or_pin_invalid")


def test_another_municipalitys_kiosk_gets_not_found(make_staff: StaffFactory, residents: dict[str, Person]) -> None:
    shinjuku = _token(make_staff, SHINJUKU, "kiosk-01", Role.KIOSK)
    response = post(shinjuku, body_for(residents["head"]))
    assert (response.status_code, problem(response)["code"]) == (404, "not_found")
    # The same answer as a municipality code that does not exist.
    nowhere = post(shinjuku, body_for(residents["head"]), url="/api/v1/municipalities/999999/kiosk/certificates")
    assert problem(nowhere) | {"instance": None, "request_id": None} == problem(response) | {
        "instance": None,
        "request_id": None,
    }


def test_only_the_kiosk_role_may_use_it(make_staff: StaffFactory, residents: dict[str, Person]) -> None:
    counter = _token(make_staff, CHIYODA, "madoguchi", Role.COUNTER)
    response = post(counter, body_for(residents["head"]))
    assert (response.status_code, problem(response)["code"]) == (403, "forbidden")
    anonymous = Client().post(URL, data=json.dumps(body_for(residents["head"])), content_type="application/json")
    assert anonymous.status_code == 401


def test_the_kiosk_token_reads_nothing_else(kiosk_token: str, residents: dict[str, Person]) -> None:
    head = residents["head"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {kiosk_token}"}
    response = Client().get(f"/api/v1/municipalities/{CHIYODA}/persons/{head.atena_number}", **auth)
    assert response.status_code == 403


def test_malformed_input_is_422_and_never_echoes_the_pin(kiosk_token: str, residents: dict[str, Person]) -> None:
    response = post(kiosk_token, body_for(residents["head"], pin="12a4", kind="removed"))
    assert response.status_code == 422
    assert b"12a4" not in response.content
    assert {e["field"] for e in problem(response)["errors"]} == {"pin", "kind"}


@override_settings(LGCLOUD_RENDER_DELAY_SECONDS=0.6, LGCLOUD_KIOSK_RENDER_DEADLINE=0.2)
def test_a_timeout_answers_503_and_issues_nothing(kiosk_token: str, residents: dict[str, Person]) -> None:
    before = Certificate.objects.count()
    response = post(kiosk_token, body_for(residents["head"]))
    assert response.status_code == 503
    assert problem(response)["code"] == "render_timeout"
    assert "X-Verification-Code" not in response
    assert Certificate.objects.count() == before
    refusals = [r.fields for r in AuditRecord.objects.filter(action="registry.kiosk.refused")]
    assert refusals == [["code:render_timeout", "kind:individual"]]


@pytest.mark.parametrize("swap", ["persons", "bytes"])
def test_a_document_for_anyone_else_is_never_sent(
    monkeypatch: pytest.MonkeyPatch, kiosk_token: str, residents: dict[str, Person], swap: str
) -> None:
    """The last-step check: if the issuing layer ever returned someone else's document, fail closed.

    ``persons``: the result claims other persons. ``bytes``: it claims the right person
    but carries the PDF of an earlier certificate (the Yokohama failure: the next
    applicant's print image).
    """
    earlier = post(kiosk_token, body_for(residents["neighbour"]))
    assert earlier.status_code == 200
    real = kiosk.issue_certificate
    neighbour = residents["neighbour"].atena_number

    def wrong_document(*args: Any, **kwargs: Any) -> Any:
        issued = real(*args, **kwargs)
        if swap == "persons":
            return replace(issued, atena_numbers=(neighbour,))
        return replace(issued, pdf=earlier.content)

    monkeypatch.setattr(kiosk, "issue_certificate", wrong_document)
    response = post(kiosk_token, body_for(residents["head"]))
    assert response.status_code == 500
    assert problem(response)["code"] == "internal_error"
    # Recorded by the issuing action, then revoked at once: never handed out, never valid.
    cert = Certificate.objects.get(persons=[residents["head"].atena_number])
    assert cert.revoked_at is not None
    assert AuditRecord.objects.filter(action="registry.certificate.revoked").count() == 1
    assert Certificate.objects.get(persons=[neighbour]).revoked_at is None


def test_set_kiosk_pin_command_reads_the_pin_from_stdin(residents: dict[str, Person]) -> None:
    head = residents["head"]
    call_command("set_kiosk_pin", municipality=CHIYODA, atena=head.atena_number, stdin=io.StringIO("8642\n"))
    credential = KioskCredential.objects.get(person=head)
    assert credential.pin_hash.startswith("argon2") and "8642" not in credential.pin_hash
    with pytest.raises(CommandError, match="数字4桁"):
        call_command("set_kiosk_pin", municipality=CHIYODA, atena=head.atena_number, stdin=io.StringIO("12345\n"))
    with pytest.raises(CommandError, match="見つかりません"):
        call_command("set_kiosk_pin", municipality=SHINJUKU, atena=head.atena_number, stdin=io.StringIO("1234\n"))


def test_setting_a_pin_needs_the_registry_clerk(residents: dict[str, Person]) -> None:
    from django.core.exceptions import PermissionDenied

    counter = TenantContext(CHIYODA, 1, "窓口 花子", frozenset({Role.COUNTER}), "test")
    with pytest.raises(PermissionDenied):
        kiosk.set_kiosk_pin(counter, atena_number=residents["head"].atena_number, pin="1234")


def test_the_endpoint_is_documented_as_returning_a_pdf(client: Client) -> None:
    operation = client.get("/api/v1/apps/lgcloud-registry/openapi.json").json()["paths"][
        "/api/v1/municipalities/{lg_code}/kiosk/certificates"
    ]["post"]
    assert "application/pdf" in operation["responses"]["200"]["content"]
    assert {"401", "403", "404", "422", "423", "500", "503"} <= set(operation["responses"])


def test_the_kiosk_modules_keep_no_mutable_state_between_requests() -> None:
    """The Kawasaki incident: a later request overwrote an earlier one's data through shared state."""
    import re
    import types

    from lgcloud.registry import kiosk_api

    immutable = (str, int, float, bool, bytes, frozenset, tuple, re.Pattern, types.MappingProxyType, type(None))
    harmless = (types.ModuleType, types.FunctionType, type)
    for module in (kiosk, kiosk_api):
        for name, value in vars(module).items():
            # The router is the URL table, fixed at import; settings and the __future__ flag are imports.
            if name.startswith("__") or name in {"router", "settings", "annotations"}:
                continue
            if isinstance(value, harmless) or callable(value) or hasattr(value, "__origin__"):
                continue
            assert isinstance(value, immutable), f"{module.__name__}.{name} is a mutable {type(value).__name__}"
