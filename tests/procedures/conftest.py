"""Fixtures: Tokyo on the platform, published procedures, a household in 千代田区, staff and a resident."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from lgcloud.accounts.models import ResidentAccount
from lgcloud.accounts.residents import resident_context
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.actions import update_municipality
from lgcloud.procedures.actions import publish_definitions
from lgcloud.registry.actions import NewPerson, register_move_in
from tests.conftest import CHIYODA, SHINJUKU

SESSION_KEY = "lgcloud_resident"


@pytest.fixture
def platform(tokyo: list[str], settings: Any, tmp_path: Any) -> None:
    ctx = TenantContext.system(None, purpose="test")
    for code in (CHIYODA, SHINJUKU):
        update_municipality(ctx, code, on_platform=True)
    publish_definitions(ctx)
    settings.ATTACHMENT_DIR = tmp_path / "attachments"


def new_person(family: str, given: str, kana: tuple[str, str], born: date, sex: str, rel: str) -> NewPerson:
    return NewPerson(family, given, kana[0], kana[1], born, sex, rel)


def household(lg_code: str, family: str = "山田") -> list[str]:
    ctx = TenantContext.system(lg_code, purpose="test")
    return register_move_in(
        ctx,
        persons=[
            new_person(family, "太郎", ("ヤマダ", "タロウ"), date(1980, 4, 1), "1", "head"),
            new_person(family, "花子", ("ヤマダ", "ハナコ"), date(1982, 5, 5), "2", "wife"),
        ],
        address="東京都千代田区霞が関一丁目1番1号",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 5),
        previous_address="大阪府大阪市北区梅田一丁目1番1号",
    ).atena_numbers


@dataclass
class Resident:
    lg_code: str
    account_id: int
    atena_number: str
    members: list[str]

    @property
    def ctx(self) -> TenantContext:
        return resident_context(self.lg_code, self.account_id)


def make_resident(lg_code: str, email: str = "taro@example.jp") -> Resident:
    members = household(lg_code)
    account = ResidentAccount.objects.create(
        municipality_id=lg_code,
        issuer="https://idp.test",
        subject=f"sub-{lg_code}",
        atena_number=members[0],
        email=email,
    )
    return Resident(lg_code, account.pk, members[0], members)


@pytest.fixture
def resident(platform: None) -> Resident:
    return make_resident(CHIYODA)


def resident_client(r: Resident) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = {
        "account_id": r.account_id,
        "lg_code": r.lg_code,
        "name": "山田　太郎",
        "atena_number": r.atena_number,
        "email": "taro@example.jp",
    }
    session.save()
    return client


@pytest.fixture
def clerk_ctx(platform: None) -> TenantContext:
    return TenantContext(
        lg_code=CHIYODA, actor_id=9001, actor_name="住記 太郎", roles=frozenset({Role.REGISTRY_CLERK}), purpose="test"
    )


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content)
        msg["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(msg)
        return "250 OK"

    def subjects(self) -> list[str]:
        from email.header import decode_header, make_header

        return [str(make_header(decode_header(m["Subject"]))) for m in self.messages]


@pytest.fixture
def smtp(settings: Any) -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on loopback; Django sends through its SMTP backend to it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox("127.0.0.1", port)
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = box.port
    settings.EMAIL_USE_TLS = False
    try:
        yield box
    finally:
        controller.stop()
