"""The flat benefit as data: eligibility per household on the reference date, applications, payments, no duplicates."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from lgcloud.benefits import actions, queries
from lgcloud.benefits.models import Application, Entitlement, Payment, Programme
from lgcloud.benefits.rules import zengin
from lgcloud.core.models import Job
from lgcloud.core.tenancy import TenantContext

from .conftest import load, programme_file

ACCOUNT = actions.AccountInput("0001", "001", 1, "1234567", "ヤマダ タロウ")


def _account(atena: str, kana: str = "ヤマダ タロウ") -> actions.AccountInput:
    return actions.AccountInput("0005", "001", 1, atena[-7:], kana)


@pytest.mark.django_db
def test_a_programme_file_loads_once_and_a_changed_file_under_the_same_code_is_refused(welfare: TenantContext) -> None:
    first = load(welfare, "push-2026.yaml")
    assert load(welfare, "push-2026.yaml").pk == first.pk
    assert first.top_up_per_person == 5000  # 千代田区's (demo) ordinance on top of the national amount
    with pytest.raises(actions.BenefitRefused) as refused:
        load(welfare, "push-2026.yaml", amount_per_person=50000)
    assert refused.value.code == "programme_changed"
    data, raw = programme_file("push-2026.yaml", code="bad", mode="lottery", reference=None)
    with pytest.raises(ValueError, match="mode"):
        actions.load_programme(welfare, data, source=raw)
    assert Programme.objects.count() == 1


@pytest.mark.django_db
def test_eligibility_lists_each_household_registered_on_the_reference_date_once(
    welfare: TenantContext, households: dict[str, list[str]]
) -> None:
    load(welfare, "push-2026.yaml")
    job = actions.determine_eligibility(welfare, "push-2026", chunk_size=1)
    assert (job.state, job.total, job.done) == (Job.State.SUCCEEDED, 3, 3)
    rows = {e.head_atena_number: (e.persons, e.amount) for e in Entitlement.objects.all()}
    assert rows == {
        households["four"][0]: (4, 4 * 35_000),
        households["one"][0]: (1, 35_000),
        households["two"][0]: (2, 70_000),
    }  # 田中 moved in after the reference date
    assert job.result == {"households": 3, "persons": 7, "amount": 245_000}
    again = actions.determine_eligibility(welfare, "push-2026")
    assert again.pk == job.pk and Entitlement.objects.count() == 3
    e = Entitlement.objects.first()
    assert e is not None
    with pytest.raises(IntegrityError), transaction.atomic():  # a raw second row for the household
        Entitlement.objects.create(
            municipality_id=e.municipality_id,
            programme=e.programme,
            household_number=e.household_number,
            head_atena_number=e.head_atena_number,
            persons=e.persons,
            amount=e.amount,
        )


@pytest.mark.django_db
def test_applications_only_by_the_head_only_once_and_with_a_real_bank(
    welfare: TenantContext, households: dict[str, list[str]]
) -> None:
    load(welfare, "tokubetsu-teigaku-2020.yaml", reference_date=date(2026, 6, 1))
    actions.determine_eligibility(welfare, "tokubetsu-teigaku-2020")
    head, wife = households["four"][:2]
    number = Entitlement.objects.get(head_atena_number=head).household_number
    kwargs = {"household_number": number, "channel": "online", "account": _account(head)}
    with pytest.raises(actions.BenefitRefused) as refused:
        actions.apply_for_benefit(welfare, "tokubetsu-teigaku-2020", applicant_atena_number=wife, **kwargs)
    assert refused.value.code == "not_payee"
    bad_bank = actions.AccountInput("0001", "999", 1, "1234567", "ヤマダ タロウ")
    with pytest.raises(actions.BenefitRefused) as refused:
        actions.apply_for_benefit(
            welfare,
            "tokubetsu-teigaku-2020",
            household_number=number,
            channel="online",
            applicant_atena_number=head,
            account=bad_bank,
        )
    assert refused.value.code == "unknown_bank"
    actions.apply_for_benefit(welfare, "tokubetsu-teigaku-2020", applicant_atena_number=head, **kwargs)
    for channel in ("online", "paper"):  # the 2020 failure: the same household applying again
        with pytest.raises(actions.BenefitRefused) as refused:
            actions.apply_for_benefit(
                welfare, "tokubetsu-teigaku-2020", applicant_atena_number=head, **{**kwargs, "channel": channel}
            )
        assert refused.value.code == "already_applied"
    assert Application.objects.count() == 1


@pytest.mark.django_db
def test_a_payment_batch_pays_each_household_once_into_a_zengin_file(
    welfare: TenantContext, households: dict[str, list[str]]
) -> None:
    load(welfare, "push-2026.yaml")
    actions.determine_eligibility(welfare, "push-2026")
    kana = {"four": "ヤマダ タロウ", "one": "サトウ ハジメ", "two": "スズキ サブロウ"}
    for key in ("four", "one"):  # 鈴木 has no 公金受取口座: waits for a later batch
        actions.register_account(welfare, households[key][0], "public_funds", _account(households[key][0], kana[key]))
    dry = actions.create_payment_batch(welfare, "push-2026", transfer_date=date(2026, 12, 10), dry_run=True)
    assert dry.done == 2 and Payment.objects.count() == 0

    job = actions.create_payment_batch(welfare, "push-2026", transfer_date=date(2026, 12, 10))
    assert job.state == Job.State.SUCCEEDED and job.result["no_account"] == 1
    name, content = queries.batch_file(welfare, "push-2026", 1)
    assert name == "zengin-push-2026-001.txt"
    records = zengin.parse(content)
    assert content.count(b"\r\n") == 5 and all(len(r.encode("cp932")) == 120 for r in records)
    assert [r[0] for r in records] == ["1", "2", "2", "8", "9"]
    assert records[0][1:3] == "21" and records[0][54:58] == "1210"
    data = sorted(records[1:3], key=lambda r: r[80:90])
    assert [r[50:80].rstrip() for r in data] == ["ｻﾄｳ ﾊｼﾞﾒ", "ﾔﾏﾀﾞ ﾀﾛｳ"]
    assert [int(r[80:90]) for r in data] == [35_000, 140_000]
    assert records[1][1:5] == "0005" and records[1][5:20].rstrip() == "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ"  # 三菱ＵＦＪ in zengin-code
    assert records[3][1:7] == "000002" and int(records[3][7:19]) == 175_000

    # 鈴木 registers an account: the next batch pays only them; nobody is paid twice.
    actions.register_account(welfare, households["two"][0], "public_funds", _account(households["two"][0], kana["two"]))
    second = actions.create_payment_batch(welfare, "push-2026", transfer_date=date(2026, 12, 17))
    assert second.done == 1
    assert zengin.parse(queries.batch_file(welfare, "push-2026", 2)[1])[2][1:7] == "000001"
    third = actions.create_payment_batch(welfare, "push-2026", transfer_date=date(2026, 12, 24))
    assert third.done == 0
    assert Payment.objects.count() == 3

    paid = Payment.objects.first()
    assert paid is not None
    with pytest.raises(IntegrityError), transaction.atomic():  # the database refuses a second payment
        Payment.objects.create(
            **{f.attname: getattr(paid, f.attname) for f in Payment._meta.concrete_fields if f.attname != "id"}
        )
