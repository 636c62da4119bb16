"""PostgreSQL tests: a throwaway PostgreSQL 15 cluster, migrated as the owner, used as the app role.

Run them on their own: ``make test-pg`` (``pytest tests/postgres -m postgres``).
Everything under this directory is marked ``postgres``, so ``pytest -m "not postgres"``
deselects it and no cluster is started. A session that mixes these tests with
the SQLite ones skips these (Django's default connection can only be one engine).

How the tests stay honest about transactions. pytest-django runs each
``django_db`` test inside one transaction that is rolled back, and every
``bound()`` inside it is a savepoint; a ``set_config(..., true)`` survives the
release of a savepoint until the outer transaction ends. So:

- the two municipalities, their staff, API tokens and audit records are
  *committed* once per session by :func:`seed`, through the app's own actions,
  connected as the app role (no test transaction is open at that point);
- the raw-SQL tests use their own psycopg connections (:func:`app_db`,
  :func:`owner_db`, :func:`superuser_db`), open explicit transactions, and set
  (or deliberately do not set) the tenant setting themselves; the superuser
  connection, outside RLS, is the ground truth they compare with;
- the Django tests (pages, API, queries) run in pytest-django's rolled-back
  transaction against the committed seed; every query function sets its own
  tenant on entry, and tests that look at the setting itself check it explicitly;
- the pooled-connection test uses :func:`autocommit_db`: Django's connection
  with no test transaction around it, so ``bound()`` really commits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from pytest_django import DjangoDbBlocker

from lgcloud.accounts.actions import create_api_token, create_staff
from lgcloud.accounts.models import Staff
from lgcloud.core import idempotency
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import PLATFORM_SETTING, TENANT_SETTING, TenantContext, platform_scope
from lgcloud.municipalities.actions import create_municipality, shipped_rows
from tests.pg_cluster import LgcloudDatabase, PgCluster, create_lgcloud_database, throwaway_cluster

HERE = Path(__file__).resolve().parent
CHIYODA = "131016"  # municipality A
SHINJUKU = "131041"  # municipality B
PASSWORD = "correct-horse-battery-staple"
STAFF_BACKEND = "lgcloud.accounts.backends.StaffBackend"

RawConnection = psycopg.Connection[tuple[Any, ...]]


def _in_this_package(item: pytest.Item) -> bool:
    return HERE in Path(item.path).resolve().parents


# tryfirst: the marker must be on the items before `-m` deselects by it.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _in_this_package(item):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def pg_cluster(request: pytest.FixtureRequest) -> Iterator[PgCluster]:
    if not all(_in_this_package(item) for item in request.session.items):
        pytest.skip("PostgreSQL tests run in a session of their own: make test-pg (pytest tests/postgres -m postgres)")
    with throwaway_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def pg_database(pg_cluster: PgCluster) -> LgcloudDatabase:
    return create_lgcloud_database(pg_cluster, "lgcloud_test")


def _use_database(config: dict[str, Any]) -> None:
    """Point Django's default connection at ``config`` (any engine), dropping the old connection."""
    connections["default"].close()
    settings.DATABASES["default"] = config
    # The handler caches its configured settings and the wrapper object, whose
    # class belongs to the old engine (SQLite); forget both so the next access
    # builds a wrapper for the new engine from the new settings.
    connections.__dict__.pop("settings", None)
    connections._settings = None  # type: ignore[attr-defined]
    with suppress(AttributeError):
        del connections["default"]


@pytest.fixture(scope="session")
def django_db_setup(pg_database: LgcloudDatabase, django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """Replaces pytest-django's: the database exists already; migrate it as the owner, then use the app role.

    Django's test-database machinery (create, flush, destroy) is never called.
    """
    original = settings.DATABASES["default"]
    with django_db_blocker.unblock():
        _use_database(dj_database_url.parse(pg_database.owner_url))
        call_command("migrate", interactive=False, verbosity=0)  # runs EnableTenantRLS and grant_app_role
        _use_database(dj_database_url.parse(pg_database.app_url))
    yield
    with django_db_blocker.unblock():
        _use_database(original)


@dataclass(frozen=True)
class Tenant:
    """One municipality's seeded staff. Usernames are the same in both; display names are not."""

    lg_code: str
    name: str
    admin_id: int  # municipal_admin: needs MFA
    auditor_id: int
    counter_id: int
    admin_device: str  # persistent id of the admin's confirmed TOTP device
    auditor_token: str  # the auditor's raw personal API token (admins get none: MFA)


@dataclass(frozen=True)
class Seed:
    a: Tenant
    b: Tenant
    operator_id: int


def _seed_tenant(row: dict[str, str]) -> Tenant:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    fields = {k: row[k] for k in ("lg_code", "name", "name_kana", "prefecture_code", "prefecture", "county", "kind")}
    create_municipality(
        TenantContext.system(None, purpose="test.seed"), **fields, kyuchi=row["kyuchi"], on_platform=True
    )
    ctx = TenantContext.system(row["lg_code"], purpose="test.seed")

    def staff(username: str, role: Role) -> int:
        display = f"{row['name']} {username}"
        return int(create_staff(ctx, username=username, display_name=display, roles=[role], password=PASSWORD).staff.pk)

    admin_id = staff("kanri", Role.MUNICIPAL_ADMIN)
    auditor_id = staff("kansa", Role.AUDITOR)
    counter_id = staff("madoguchi", Role.COUNTER)
    # The TOTP device table is not a tenant table (no municipality column).
    device = TOTPDevice.objects.create(user_id=admin_id, name="test", confirmed=True)
    token = create_api_token(ctx, auditor_id, name="test").raw
    _seed_residents(ctx)
    _seed_rules(ctx)
    _seed_ops(ctx)
    _seed_export_request(row["lg_code"], admin_id, f"{row['name']} kanri")
    return Tenant(row["lg_code"], row["name"], admin_id, auditor_id, counter_id, device.persistent_id, token)


def _seed_ops(ctx: TenantContext) -> None:
    """Usage readings (through the metering flush's action), the FY2018 baseline and an open-data draft."""
    from django.utils import timezone

    from lgcloud.ops import actions as ops

    today = timezone.localdate()
    platform = TenantContext.system(None, purpose="test.seed")
    ops.add_usage(
        platform, {(ctx.tenant_code, today, "001", "requests.page_read"): 3, (None, today, "platform", "cpu_us"): 5}
    )
    ops.set_baseline(ctx, annual_yen=100_000_000, note="seed")
    ops.prepare_release(ctx, reference_date=today, since=today.replace(day=1))


def _seed_export_request(lg_code: str, admin_id: int, admin_name: str) -> None:
    """A pending 全件出力の申請 by the 団体管理者 (nobody else there may approve it: it stays pending)."""
    from lgcloud.portability.approvals.actions import request_export

    admin = TenantContext(lg_code, admin_id, admin_name, frozenset({Role.MUNICIPAL_ADMIN}), "test.seed")
    request_export(admin, purpose="標準準拠システムへの移行（シード）", include_individual_numbers=False)


def _seed_rules(ctx: TenantContext) -> None:
    """Rows in every 個人住民税, 給付 and 児童手当 table (and core jobs), through the actions."""
    import yaml

    from lgcloud.benefits import actions as benefits
    from lgcloud.benefits import queries as benefit_queries
    from lgcloud.linkage.consumers import run_all
    from lgcloud.registry import actions as registry
    from lgcloud.registry.queries import get_record
    from lgcloud.tax import actions as tax

    head = registry.register_move_in(
        ctx,
        persons=[registry.NewPerson("佐藤", "一郎", "サトウ", "イチロウ", date(1985, 1, 1), "1", "head")],
        address="東京都テスト区3-3",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 1),
        previous_address="大阪府大阪市北区3-3",
    ).atena_numbers[0]
    household = get_record(ctx, head).household_number
    registry.register_birth(
        ctx,
        household_number=household,
        person=registry.NewPerson("佐藤", "花", "サトウ", "ハナ", date(2025, 5, 1), "2", "child"),
        filed_on=date(2025, 5, 2),
    )
    tax.import_declarations(ctx, 2026, f"宛名番号,給与収入\r\n{head},4000000\r\n", source="seed.csv")
    tax.assess_fiscal_year(ctx, 2026)
    source = Path(benefits.__file__).parent / "programmes" / "tokubetsu-teigaku-2020.yaml"
    data = yaml.safe_load(source.read_bytes())
    data["reference_date"] = date(2025, 6, 1)
    benefits.load_programme(ctx, data, source=source.read_bytes() + b"seed")
    benefits.determine_eligibility(ctx, data["code"])
    benefits.apply_for_benefit(
        ctx,
        data["code"],
        household_number=household,
        applicant_atena_number=head,
        channel="online",
        account=benefits.AccountInput("0005", "001", 1, "1234567", "サトウ イチロウ"),
    )
    benefits.create_payment_batch(ctx, data["code"], transfer_date=date(2025, 7, 10))
    run_all([ctx.tenant_code], only=["benefits.child_allowance"])  # the birth: a pending 児童手当 case
    cases, _ = benefit_queries.list_child_allowance_cases(ctx, state="pending")
    benefits.claim_child_allowance(ctx, cases[0].case_number, claimed_on=date(2025, 5, 10))
    benefits.approve_child_allowance(ctx, cases[0].case_number, approved_on=date(2025, 5, 20))
    benefits.run_child_allowance_payments(ctx, date(2025, 8, 1))


def _seed_residents(ctx: TenantContext) -> None:
    """Residents with history, a 個人番号 (so a data key exists), a 支援措置 and a certificate."""
    from lgcloud.registry import actions as registry
    from lgcloud.registry import kiosk

    moved_in = registry.register_move_in(
        ctx,
        persons=[
            registry.NewPerson(
                "髙橋", "太郎", "タカハシ", "タロウ", date(1980, 4, 1), "1", "head", individual_number="621498320257"
            ),
            registry.NewPerson("髙橋", "花子", "タカハシ", "ハナコ", date(1982, 5, 5), "2", "wife"),
        ],
        address="東京都テスト区1-1",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 2),
        previous_address="大阪府大阪市北区1-1",
    )
    head, wife = moved_in.atena_numbers
    # Sent with an Idempotency-Key, as a client that may retry does (core.idempotency).
    idempotency.once(
        ctx,
        "seed-address-change",
        idempotency.fingerprint("POST", "/seed/address-change", {"atena_numbers": [head, wife]}),
        lambda: (
            201,
            dataclasses.asdict(
                registry.register_address_change(
                    ctx,
                    atena_numbers=[head, wife],
                    address="東京都テスト区2-2",
                    effective_date=date(2025, 4, 1),
                    filed_on=date(2025, 4, 1),
                )
            ),
        ),
    )
    kiosk.set_kiosk_pin(ctx, atena_number=head, pin="1234")
    registry.set_protection(ctx, atena_number=wife, starts_on=date(2026, 1, 1), adversary=registry.Adversary("加害 者"))
    _seed_certificate(ctx, head)
    _seed_procedures(ctx, head)


def _seed_procedures(ctx: TenantContext, head: str) -> None:
    """A resident account (signed in with 基本4情報 claims) and a submission with its history and an attachment."""
    from lgcloud.accounts.residents import resident_context, sign_in_resident
    from lgcloud.procedures.actions import Filing, UploadedFile, submit

    claims = {
        "sub": f"seed-{ctx.lg_code}",
        "name": "髙橋 太郎",
        "birthdate": "1980-04-01",
        "gender": "male",
        "address": {"formatted": "東京都テスト区2-2"},
    }
    account = sign_in_resident(ctx.tenant_code, "https://idp.test", claims, today=date(2026, 1, 15))
    assert account.atena_number == head
    submit(
        resident_context(ctx.tenant_code, account.account_id),
        code="certificate_by_post",
        atena_number=head,
        filing=Filing(
            values={"kind": "individual", "copies": "1", "purpose": "就職"},
            files={"payment_proof": UploadedFile("kawase.pdf", b"%PDF-1.4\n%%EOF\n")},
        ),
        today=date(2026, 1, 15),
        resident_account_id=account.account_id,
    )


def _seed_certificate(ctx: TenantContext, atena_number: str) -> None:
    """One 住民票の写し, issued through the action (rendered, checked and recorded like any other)."""
    from lgcloud.registry.certificates import CertificateRequest, Requester, issue_certificate

    issue_certificate(
        ctx,
        CertificateRequest(
            kind="individual",
            atena_numbers=(atena_number,),
            channel="counter",
            requester=Requester(name="髙橋 太郎", birth_date=date(1980, 4, 1), atena_number=atena_number),
        ),
        today=date(2026, 1, 15),
    )


def _seed_linkage(a: str, b: str) -> None:
    """連携 rows in both municipalities: an API client, a webhook with a failed delivery attempt,
    consumer cursors, and a once-only move each way (pending 転入), all through the app's own code."""
    import httpx

    from lgcloud.linkage import actions as linkage
    from lgcloud.linkage.consumers import registered, run_consumer
    from lgcloud.linkage.webhooks import WorkerSettings, deliver_due
    from lgcloud.registry import actions as registry

    for own, other in ((a, b), (b, a)):
        ctx = TenantContext.system(own, purpose="test.seed")
        linkage.create_api_client(ctx, name="税務システム", scopes=["events:read", "tax.resident_tax"])
        # Port 9 (discard) on loopback: nobody listens, so the attempt fails fast and is logged.
        linkage.create_subscription(ctx, name="受信者", url="http://127.0.0.1:9/hook", event_types=["registry.*"])
        mover = registry.register_move_in(
            ctx,
            persons=[registry.NewPerson("転居", "予定", "テンキョ", "ヨテイ", date(1990, 1, 1), "1", "head")],
            address="東京都テスト区9-9",
            effective_date=date(2025, 1, 6),
            filed_on=date(2025, 1, 6),
            previous_address="",
        )
        registry.register_move_out(
            ctx,
            atena_numbers=mover.atena_numbers,
            planned_date=date(2026, 1, 20),
            filed_on=date(2026, 1, 10),
            destination="他団体",
            destination_lg_code=other,
        )
        with httpx.Client() as client:
            deliver_due(ctx, client, WorkerSettings(batch=1, timeout_seconds=2))
    for code in (a, b):
        run_consumer(TenantContext.system(code, purpose="test.seed"), registered()["linkage.transfers"])


@pytest.fixture(scope="session")
def seed(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Seed:
    """Two municipalities with staff, tokens and audit records, committed through the actions as the app role."""
    rows = {r["lg_code"]: r for r in shipped_rows()}
    with django_db_blocker.unblock():
        assert not connections["default"].in_atomic_block  # so every action below commits
        from lgcloud.procedures.actions import publish_definitions

        publish_definitions(TenantContext.system(None, purpose="test.seed"))
        a = _seed_tenant(rows[CHIYODA])
        b = _seed_tenant(rows[SHINJUKU])
        _seed_linkage(a.lg_code, b.lg_code)
        operator = create_staff(
            TenantContext.system(None, purpose="test.seed"),
            username="unyo",
            display_name="運用 担当",
            roles=[Role.OPERATOR],
            password=PASSWORD,
        ).staff
        # The sealer, as the app role: every chain gets its seals and a signed tree head.
        from lgcloud.audit.sealer import seal_pending

        sealed = seal_pending()
        assert sealed.total and not sealed.refused, sealed
    return Seed(a=a, b=b, operator_id=int(operator.pk))


def committed_municipality(lg_code: str) -> TenantContext:
    """A municipality of the shipped list put on the platform (committed, once), for tests whose rows stay.

    Tests that commit append-only rows use a municipality of their own, so that nothing they leave
    behind touches another test's counts.
    """
    from lgcloud.municipalities.queries import get_municipality

    if get_municipality(lg_code) is None:
        row = next(r for r in shipped_rows() if r["lg_code"] == lg_code)
        fields = {
            k: row[k] for k in ("lg_code", "name", "name_kana", "prefecture_code", "prefecture", "county", "kind")
        }
        create_municipality(
            TenantContext.system(None, purpose="test"), **fields, kyuchi=row["kyuchi"], on_platform=True
        )
    return TenantContext.system(lg_code, purpose="test")


@pytest.fixture
def autocommit_db(seed: Seed, django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """Django's connection with no test transaction around it: ``bound()`` commits for real.

    Tests using it must leave no rows behind (the seed is shared by the session).
    """
    with django_db_blocker.unblock():
        connection = connections["default"]
        assert connection.get_autocommit() and not connection.in_atomic_block
        yield
        connection.close()


@pytest.fixture
def superuser_db(pg_database: LgcloudDatabase, seed: Seed) -> Iterator[RawConnection]:
    """A superuser connection: outside RLS, the ground truth the tests compare with."""
    with psycopg.connect(pg_database.superuser_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def owner_db(pg_database: LgcloudDatabase, seed: Seed) -> Iterator[RawConnection]:
    with psycopg.connect(pg_database.owner_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def app_db(pg_database: LgcloudDatabase, seed: Seed) -> Iterator[RawConnection]:
    """A fresh connection as the app role, as a pooled worker would hold: no tenant setting yet."""
    with psycopg.connect(pg_database.app_url, autocommit=True) as conn:
        yield conn


@contextmanager
def as_tenant(conn: RawConnection, lg_code: str) -> Iterator[RawConnection]:
    """One transaction with the tenant setting for ``lg_code`` and the platform flag off; rolled back."""
    with conn.transaction(force_rollback=True):
        conn.execute(
            "SELECT set_config(%s, %s, true), set_config(%s, '', true)",
            [TENANT_SETTING, lg_code, PLATFORM_SETTING],
        )
        yield conn


def sign_in(client: Client, staff_id: int, *, device: str | None = None) -> Client:
    """Sign ``client`` in as a member of staff; with ``device``, also past the second factor.

    force_login fires Django's update_last_login, an UPDATE of the staff row made
    outside any tenant scope; the platform scope lets it through (see
    test_app.py::test_sign_in_through_the_login_page for the real page).
    """
    with platform_scope():
        staff = Staff.objects.get(pk=staff_id)
        client.force_login(staff, backend=STAFF_BACKEND)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device
        session.save()
    return client
