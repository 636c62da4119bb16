"""住民票の写し等の交付: every kind, the layout, the items, 支援措置, the render deadline,
the final-step check, the public verification page, and the glyphs on paper."""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader, PdfWriter

from lgcloud.audit.models import AuditRecord
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry import actions, certificates, rendering
from lgcloud.registry.certificates import (
    CertificateRequest,
    IssuedCertificate,
    IssueRefused,
    Requester,
    issue_certificate,
    revoke_certificate,
    verify_code,
)
from lgcloud.registry.models import Certificate
from lgcloud.registry.parameters import fee_for
from tests.registry.conftest import CHIYODA, person

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 26)
SHINJUKU = "131041"
INDIVIDUAL_NUMBER = "621498320257"
KAZURA_IVS = "葛\U000e0100"  # 葛 + VS17 (an Adobe-Japan1 sequence; IPAmj falls back to its default 葛)
KAZURA_MJ = "葛\U000e0102"  # 葛 + VS19 (a Moji_Joho sequence that IPAmj draws as its own glyph)
SELF = Requester(name="山田 太郎", birth_date=date(1980, 4, 1))


def request(kind: str, *atena: str, **kwargs: object) -> CertificateRequest:
    values: dict[str, object] = {"channel": "counter", "requester": SELF, **kwargs}
    return CertificateRequest(kind=kind, atena_numbers=tuple(atena), **values)  # type: ignore[arg-type]


def issue(ctx: TenantContext, req: CertificateRequest, **kwargs: object) -> IssuedCertificate:
    return issue_certificate(ctx, req, today=TODAY, **kwargs)  # type: ignore[arg-type]


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is needed: apt-get install poppler-utils"
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [tool, "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True, encoding="utf-8"
    ).stdout


def refusals() -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(action="registry.certificate.refused").order_by("seq"))


@pytest.fixture
def household(clerk: TenantContext):  # type: ignore[no-untyped-def]
    """Five people in one household; the names need IPAmj明朝 (𠮷, 髙, 﨑 U+FA11, 葛 with IVS)."""
    return actions.register_move_in(
        clerk,
        persons=[
            person(
                "𠮷野",
                "太郎",
                kana=("ヨシノ", "タロウ"),
                registered_domicile="東京都千代田区千代田1番",
                domicile_head="𠮷野　太郎",
                individual_number=INDIVIDUAL_NUMBER,
            ),
            person("髙﨑", "花子", kana=("タカサキ", "ハナコ"), birth=date(1982, 5, 5), sex="2", relationship="wife"),
            person(
                KAZURA_IVS + "城", "一郎", kana=("カツラギ", "イチロウ"), birth=date(2012, 6, 6), relationship="child"
            ),
            person(KAZURA_MJ + "西", "二郎", kana=("カサイ", "ジロウ"), birth=date(2019, 5, 1), relationship="child"),
            person("𠮷野", "三郎", kana=("ヨシノ", "サブロウ"), birth=date(2020, 1, 2), relationship="child"),
        ],
        address="東京都千代田区霞が関一丁目1番1号",
        address_detail="霞が関ハイツ101号",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 5),
        previous_address="大阪府大阪市北区梅田一丁目1番1号",
    )


# --- issuing ----------------------------------------------------------------------------------


def test_each_kind_is_rendered_recorded_and_numbered_per_municipality(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    head, wife, child = family.atena_numbers
    actions.register_death(clerk, atena_number=child, effective_date=date(2026, 10, 1), filed_on=date(2026, 10, 2))
    issued = [
        issue(clerk, request("household", head, wife)),
        issue(clerk, request("individual", wife)),
        issue(clerk, request("record_items", head)),
        issue(clerk, request("removed", child)),
    ]
    assert [c.issue_number for c in issued] == [1, 2, 3, 4]
    assert [c.atena_numbers for c in issued] == [(head, wife), (wife,), (head,), (child,)]
    for cert in issued:
        assert cert.pdf.startswith(b"%PDF-")
        assert (cert.pages, cert.fee_yen) == (1, 300)
        assert cert.verification_code.startswith(f"{CHIYODA}-")
        identity = rendering.read_identity(cert.pdf)
        assert (identity.issue_number, identity.subjects) == (cert.issue_number, cert.atena_numbers)
    rows = {c.issue_number: c for c in Certificate.objects.filter(municipality_id=CHIYODA)}
    assert [rows[n].kind for n in (1, 2, 3, 4)] == ["household", "individual", "record_items", "removed"]
    first = rows[1]
    assert first.persons == [head, wife]
    assert first.requester == {"relation": "self", "channel": "counter"}  # no name for 本人
    assert first.fee_yen == 300 and first.issued_by == clerk.actor_name and first.revoked_at is None
    issued_audit = AuditRecord.objects.filter(action="registry.certificate.issued", municipality_id=CHIYODA)
    assert sorted(issued_audit.values_list("subject_id", flat=True)) == sorted([head, wife, wife, head, child])

    # Another municipality counts from 1 on its own.
    shinjuku = TenantContext(
        lg_code=SHINJUKU, actor_id=2, actor_name="新宿 職員", roles=frozenset({Role.COUNTER}), purpose="test"
    )
    there = actions.register_move_in(
        TenantContext.system(SHINJUKU, "test"),
        persons=[person("佐藤", "一", kana=("サトウ", "ハジメ"))],
        address="東京都新宿区西新宿二丁目8番1号",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 1),
        previous_address="",
    )
    cert = issue(shinjuku, request("individual", there.atena_numbers[0]))
    assert cert.issue_number == 1
    assert Certificate.objects.filter(municipality_id=SHINJUKU).count() == 1


def test_each_kind_prints_its_title_and_certification(clerk: TenantContext, family, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    head, wife, child = family.atena_numbers
    household_text = pdf_text(issue(clerk, request("household", head, wife, child)).pdf, tmp_path)
    assert "住民票の写し" in household_text.replace(" ", "")
    assert "この写しは、住民票の原本と相違ないことを証明する。" in household_text
    assert "令和8年11月26日" in household_text  # the issue date, in 和暦
    assert "昭和55年4月1日" in household_text  # a birth date, in 和暦
    assert "千代田区長" in household_text.replace(" ", "")
    assert "大阪府大阪市北区梅田一丁目1番1号" in household_text  # 転入前住所
    items_text = pdf_text(issue(clerk, request("record_items", head)).pdf, tmp_path)
    assert "上記のとおり住民票に記載されていることを証明する。" in items_text
    assert "転入前住所" not in items_text  # 記載事項証明書: 氏名・生年月日・性別・住所 only
    actions.register_death(clerk, atena_number=child, effective_date=date(2026, 10, 1), filed_on=date(2026, 10, 2))
    removed_text = pdf_text(issue(clerk, request("removed", child)).pdf, tmp_path)
    assert "この写しは、除票の原本と相違ないことを証明する。" in removed_text
    assert "令和8年10月1日" in removed_text and "死亡" in removed_text  # 備考 of the 除票


def test_five_members_take_two_pages_and_every_name_is_printed(clerk: TenantContext, household, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cert = issue(clerk, request("household", *household.atena_numbers, include=frozenset({"household_head"})))
    assert cert.pages == 2
    text = pdf_text(cert.pdf, tmp_path)
    pages = text.split("\f")
    assert "1/2" in pages[0] and "2/2" in pages[1]
    for page in pages[:2]:  # the household header is repeated on the continuation sheet
        assert "東京都千代田区霞が関一丁目1番1号" in page
        assert "世帯主" in page
    assert "以下余白" not in pages[0] and "以下余白" in pages[1]
    assert "この写しは、住民票の原本と相違ないことを証明する。" in pages[1]
    # Names as stored, variation selectors included: the PDF's text maps each variant glyph
    # back to its whole sequence (葛+VS17 drawn from IPAex明朝, 葛+VS19 from IPAmj明朝).
    for name in ("𠮷野", "髙﨑", KAZURA_IVS + "城", KAZURA_MJ + "西"):
        assert name in text, name
    assert "\ufa11" in text  # 﨑 stays the compatibility ideograph, not 崎
    assert "\U00020bb7" in text  # 𠮷, not 吉


def test_a_household_certificate_needs_one_household(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    other = actions.register_move_in(
        clerk,
        persons=[person("鈴木", "一", kana=("スズキ", "ハジメ"))],
        address="東京都千代田区丸の内一丁目1番1号",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 1),
        previous_address="",
    )
    with pytest.raises(IssueRefused) as exc:
        issue(clerk, request("household", family.atena_numbers[0], other.atena_numbers[0]))
    assert exc.value.code == "not_in_household"
    assert not Certificate.objects.exists()


def test_a_removed_person_needs_the_removed_kind_and_only_them(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    head, wife, child = family.atena_numbers
    actions.register_death(clerk, atena_number=child, effective_date=date(2026, 10, 1), filed_on=date(2026, 10, 2))
    with pytest.raises(IssueRefused) as exc:
        issue(clerk, request("household", head, child))
    assert exc.value.code == "removed_person"
    with pytest.raises(IssueRefused) as exc:
        issue(clerk, request("removed", head))
    assert exc.value.code == "not_removed"
    with pytest.raises(IssueRefused) as exc:
        issue(clerk, request("individual", head, wife))
    assert exc.value.code == "invalid_request"
    assert not Certificate.objects.exists()
    assert [(r.subject_id, r.fields[0]) for r in refusals()] == [
        (child, "channel:counter"),
        (head, "channel:counter"),
    ]
    assert {f for r in refusals() for f in r.fields} >= {"refusal:removed_person", "refusal:not_removed"}


def test_issuing_needs_the_permission(family) -> None:  # type: ignore[no-untyped-def]
    tax = TenantContext(lg_code=CHIYODA, actor_id=9, actor_name="税務", roles=frozenset({Role.TAX_CLERK}), purpose="t")
    with pytest.raises(PermissionDenied):
        issue(tax, request("individual", family.atena_numbers[0]))


# --- items ------------------------------------------------------------------------------------


def test_items_are_printed_only_when_asked(clerk: TenantContext, household, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    head = household.atena_numbers[0]
    plain = pdf_text(issue(clerk, request("individual", head)).pdf, tmp_path)
    for absent in ("本籍", "東京都千代田区千代田1番", "筆頭者", "住民票コード", "個人番号", INDIVIDUAL_NUMBER, "続柄"):
        assert absent not in plain, absent

    full = issue(
        clerk,
        request(
            "individual",
            head,
            include=frozenset({"domicile", "resident_code", "individual_number", "household_head"}),
            individual_number_purpose="年金の手続（日本年金機構へ提出）",
        ),
    )
    text = pdf_text(full.pdf, tmp_path)
    for present in ("本籍", "東京都千代田区千代田1番", "筆頭者", "住民票コード", "個人番号", INDIVIDUAL_NUMBER, "続柄"):
        assert present in text, present
    row = Certificate.objects.get(issue_number=full.issue_number)
    assert row.options["individual_number_purpose"] == "年金の手続（日本年金機構へ提出）"
    revealed = AuditRecord.objects.get(action="registry.person.individual_number_revealed", subject_id=head)
    assert revealed.purpose == "年金の手続（日本年金機構へ提出）"
    assert INDIVIDUAL_NUMBER not in str(list(AuditRecord.objects.values_list("fields", "purpose", "subject_id")))


def test_individual_number_needs_a_purpose(clerk: TenantContext, household) -> None:  # type: ignore[no-untyped-def]
    head = household.atena_numbers[0]
    with pytest.raises(IssueRefused) as exc:
        issue(clerk, request("individual", head, include=frozenset({"individual_number"})))
    assert exc.value.code == "individual_number_purpose_required"
    assert "利用目的" in exc.value.message
    assert not Certificate.objects.exists()
    assert [r.subject_id for r in refusals()] == [head]


def test_kiosk_prints_neither_individual_number_nor_resident_code(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    head = family.atena_numbers[0]
    kiosk_self = Requester(name="山田 太郎", atena_number=head)
    for item in ("individual_number", "resident_code"):
        with pytest.raises(IssueRefused) as exc:
            issue(
                clerk,
                request(
                    "individual",
                    head,
                    channel="kiosk",
                    requester=kiosk_self,
                    include=frozenset({item}),
                    individual_number_purpose="x",
                ),
            )
        assert exc.value.code == "not_available_on_kiosk"


# --- 支援措置 ----------------------------------------------------------------------------------


@pytest.fixture
def protected(clerk: TenantContext, family):  # type: ignore[no-untyped-def]
    """The wife is under 支援措置 against 加害 太郎 (born 1975-01-01)."""
    wife = family.atena_numbers[1]
    actions.set_protection(
        clerk,
        atena_number=wife,
        starts_on=date(2026, 1, 1),
        adversary=actions.Adversary("加害 太郎", date(1975, 1, 1)),
    )
    return family


def test_a_protected_person_is_refused_by_proxy_post_and_kiosk(clerk: TenantContext, protected) -> None:  # type: ignore[no-untyped-def]
    head, wife, _ = protected.atena_numbers
    attempts = {
        "proxy": Requester(name="代理 人", relation="proxy"),
        "post": Requester(name="髙橋 花子", relation="self"),
        "kiosk": Requester(name="髙橋 花子", atena_number=wife, relation="self"),
    }
    for channel, requester in attempts.items():
        with pytest.raises(IssueRefused) as exc:
            issue(clerk, request("individual", wife, channel=channel, requester=requester))
        assert exc.value.code == "protected_channel", channel
    # A household certificate naming her is refused the same way.
    with pytest.raises(IssueRefused) as exc:
        issue(clerk, request("household", head, wife, channel="post"))
    assert exc.value.code == "protected_channel"
    assert not Certificate.objects.exists()
    audited = refusals()
    assert [r.subject_id for r in audited] == [wife] * 4  # the protected person, never the requester
    assert all("refusal:protected_channel" in r.fields for r in audited)
    assert not any("代理" in str(r.fields) or "髙橋" in str(r.fields) for r in audited)


def test_the_adversary_is_refused_even_at_the_counter(clerk: TenantContext, protected) -> None:  # type: ignore[no-untyped-def]
    head, wife, _ = protected.atena_numbers
    for requester in (
        Requester(name="加害　太郎", birth_date=date(1975, 1, 1), relation="third_party"),
        Requester(name="加害太郎", relation="third_party"),  # no birth date given: the name decides
    ):
        with pytest.raises(IssueRefused) as exc:
            issue(clerk, request("household", head, wife, requester=requester, purpose="債権回収"))
        assert exc.value.code == "protected_adversary"
    assert not Certificate.objects.exists()
    assert [r.subject_id for r in refusals()] == [wife, wife]
    # Someone of the same name but another birth date is not the 相手方; as a third party
    # asking for a protected person, the request goes to review instead.
    with pytest.raises(IssueRefused) as exc:
        issue(
            clerk,
            request(
                "individual",
                wife,
                requester=Requester(name="加害 太郎", birth_date=date(1990, 2, 2), relation="third_party"),
                purpose="債権回収",
            ),
        )
    assert exc.value.code == "protected_third_party"


def test_a_household_member_at_the_counter_is_served(clerk: TenantContext, protected) -> None:  # type: ignore[no-untyped-def]
    head, wife, child = protected.atena_numbers
    cert = issue(
        clerk,
        request("household", head, wife, child, requester=Requester(name="山田 太郎", atena_number=head)),
    )
    assert cert.atena_numbers == (head, wife, child)
    assert not refusals()


def test_a_resident_may_not_claim_a_household_they_are_not_in(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    stranger = actions.register_move_in(
        clerk,
        persons=[person("他人", "一", kana=("タニン", "ハジメ"))],
        address="東京都千代田区丸の内一丁目1番1号",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 1),
        previous_address="",
    ).atena_numbers[0]
    for channel in ("counter", "kiosk"):
        with pytest.raises(IssueRefused) as exc:
            issue(
                clerk,
                request(
                    "individual",
                    family.atena_numbers[0],
                    channel=channel,
                    requester=Requester(name="他人 一", atena_number=stranger, relation="household"),
                ),
            )
        assert exc.value.code == "not_in_household"
    with pytest.raises(IssueRefused) as exc:
        issue(
            clerk,
            request("individual", family.atena_numbers[0], requester=Requester("第三 者", relation="third_party")),
        )
    assert exc.value.code == "purpose_required"
    assert not Certificate.objects.exists()


# --- render deadline and the final check ------------------------------------------------------


def test_a_render_past_the_deadline_refuses_the_whole_request(clerk: TenantContext, family, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LGCLOUD_RENDER_DELAY_SECONDS = 0.5
    with pytest.raises(IssueRefused) as exc:
        issue(clerk, request("individual", family.atena_numbers[0]), render_deadline=0.05)
    assert exc.value.code == "render_timeout"
    assert not Certificate.objects.exists()
    assert not AuditRecord.objects.filter(action__startswith="registry.certificate.").exists()
    # The 交付番号 rolled back with the request: the next certificate takes it.
    settings.LGCLOUD_RENDER_DELAY_SECONDS = 0
    assert issue(clerk, request("individual", family.atena_numbers[0]), render_deadline=30).issue_number == 1


def test_a_render_error_refuses_the_request_and_logs_no_personal_data(
    clerk: TenantContext, family, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    def broken(doc: rendering.CertificateDocument) -> rendering.RenderedPdf:
        raise ValueError(f"cannot lay out <td>{doc.persons[0].name}</td>")

    monkeypatch.setattr(rendering, "render_pdf", broken)
    with pytest.raises(IssueRefused) as exc:
        issue(clerk, request("individual", family.atena_numbers[0]))
    assert exc.value.code == "render_failed"
    assert exc.value.__cause__ is None and exc.value.__suppress_context__
    assert "ValueError" in caplog.text and "山田" not in caplog.text
    assert not Certificate.objects.exists()


def test_the_final_check_refuses_a_document_for_someone_else(
    clerk: TenantContext, family, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    head, wife, _ = family.atena_numbers
    earlier = issue(clerk, request("individual", head))
    real_render = rendering.render_pdf

    # A renderer that hands back another request's print image (the Yokohama failure).
    monkeypatch.setattr(rendering, "render_pdf", lambda doc: rendering.RenderedPdf(earlier.pdf))
    with pytest.raises(IssueRefused) as exc:
        issue(clerk, request("individual", wife))
    assert exc.value.code == "document_mismatch"

    # A renderer whose document names the persons in another order.
    def reordered(doc: rendering.CertificateDocument) -> rendering.RenderedPdf:
        return real_render(replace(doc, persons=tuple(reversed(doc.persons))))

    monkeypatch.setattr(rendering, "render_pdf", reordered)
    with pytest.raises(IssueRefused) as exc:
        issue(clerk, request("household", head, wife))
    assert exc.value.code == "document_mismatch"

    # Bytes that are not a certificate at all.
    monkeypatch.setattr(rendering, "render_pdf", lambda doc: rendering.RenderedPdf(b"%PDF-1.7\n%%EOF"))
    with pytest.raises(IssueRefused) as exc:
        issue(clerk, request("individual", wife))
    assert exc.value.code == "document_mismatch"
    assert list(Certificate.objects.values_list("issue_number", flat=True)) == [earlier.issue_number]


def test_a_document_missing_a_sheet_is_not_issued(
    clerk: TenantContext, household, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    real_render = rendering.render_pdf

    def first_page_only(doc: rendering.CertificateDocument) -> rendering.RenderedPdf:
        # The whole document's identity, but its second sheet lost on the way.
        reader = PdfReader(io.BytesIO(real_render(doc).pdf))
        writer = PdfWriter()
        writer.add_page(reader.pages[0])
        writer.add_metadata(dict(reader.metadata or {}))
        out = io.BytesIO()
        writer.write(out)
        return rendering.RenderedPdf(out.getvalue())

    monkeypatch.setattr(rendering, "render_pdf", first_page_only)
    with pytest.raises(IssueRefused) as exc:
        issue(clerk, request("household", *household.atena_numbers))  # 5 persons: 2 sheets
    assert exc.value.code == "document_mismatch"
    assert not Certificate.objects.exists()


def test_long_records_flow_onto_more_pages_and_nothing_is_dropped(tmp_path: Path) -> None:
    long_address = (
        "北海道札幌市中央区北一条西二丁目1番地の1 札幌中央ビルディング東館ウエストウイング二十三階二三〇一号室"
    )
    persons = tuple(
        rendering.PrintedPerson(
            atena_number=f"{i:010d}",
            family_name="長谷川木之下",
            given_name=f"左衛門{i}郎",
            family_name_kana="ハセガワキノシタ",
            given_name_kana="サエモン",
            birth_date=date(1980, 12, 31),
            sex="男",
            address="東京都千代田区霞が関一丁目1番1号" + ("" if i == 1 else "別棟"),
            former_family_name="𠮷野",
            alias="ジョン・スミス",
            previous_address=long_address,
            domicile=long_address,
            notes=(f"転居（前住所　{long_address}）", f"転出予定（転出先　{long_address}）"),
        )
        for i in range(1, 6)
    )
    doc = rendering.CertificateDocument(
        kind="household",
        title="住民票の写し",
        layout="household",
        certification="この写しは、住民票の原本と相違ないことを証明する。",
        lg_code=CHIYODA,
        municipality_name="東京都千代田区",
        issuer_title="千代田区長",
        issue_number=1,
        issued_on=TODAY,
        verification_code="131016-AAAAA-AAAAA-AAAAA-AAAAA",
        verify_url="/verify/131016-AAAAA-AAAAA-AAAAA-AAAAA/",
        persons=persons,
        items=("household_head", "previous_address", "domicile", "notes"),
        household_head_name="長谷川木之下　左衛門1郎",
    )
    rendered = rendering.render_pdf(doc)
    count = rendering.read_pdf(rendered.pdf).pages
    assert count > rendering.expected_pages(doc) == 2  # the sheets did not fit: more pages
    text = pdf_text(rendered.pdf, tmp_path)
    pages = text.split("\f")[:count]
    for n, page in enumerate(pages, start=1):
        assert f"{n}/{count}" in page  # numbered right, and the header is on every page
        assert "東京都千代田区霞が関一丁目1番1号" in page
    for i in range(1, 6):
        assert f"左衛門{i}郎" in text  # every person is printed
    assert text.count("この写しは、住民票の原本と相違ないことを証明する。") == 1
    assert "この写しは" in pages[-1]


def test_the_identity_reader_reads_what_pypdf_wrote_and_refuses_the_rest() -> None:
    # A PDF written by another tool (pypdf, uncompressed) with the identity, one without it,
    # one with a damaged identity, and bytes that are no PDF at all.
    def pdf(keywords: str | None) -> bytes:
        writer = PdfWriter()
        writer.add_blank_page(595, 842)
        writer.add_blank_page(595, 842)
        if keywords is not None:
            writer.add_metadata({"/Keywords": keywords})
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    keywords = "lgcloud-certificate/1 lg=131016 issue=7 kind=individual subjects=0000000001+0000000002 code=x"
    read = rendering.read_pdf(pdf(keywords))
    assert read.identity == rendering.PdfIdentity("131016", 7, "individual", ("0000000001", "0000000002"), "x")
    assert read.pages == 2
    for bad in (pdf(None), pdf("lgcloud-certificate/1 lg=131016 issue=seven"), pdf("other 1"), b"%PDF-1.7\n%%EOF"):
        with pytest.raises(rendering.PdfIdentityError):
            rendering.read_identity(bad)


# --- verification -----------------------------------------------------------------------------


def test_the_verification_page_shows_validity_and_never_a_name(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    cert = issue(clerk, request("individual", family.atena_numbers[0]))
    client = Client()
    page = client.get(f"/verify/{cert.verification_code}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "有効" in html and f"第{cert.issue_number}号" in html and "千代田区" in html
    assert "住民票の写し（個人票）" in html
    assert TODAY.isoformat() not in html and "令和" in html
    for personal in ("山田", "太郎", "ヤマダ", "霞が関", family.atena_numbers[0]):
        assert personal not in html, personal
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]

    # Typed from paper: lower case, without the hyphens, O for 0.
    typed = CHIYODA + cert.verification_code[len(CHIYODA) :].replace("-", "").lower().replace("0", "o")
    assert client.get(f"/verify/{typed}/").status_code == 200

    revoke_certificate(clerk, cert.issue_number, "誤って交付したため")
    revoked = client.get(f"/verify/{cert.verification_code}/").content.decode()
    main = revoked.split("<main", 1)[1]
    assert "失効" in main and "有効" not in main
    check = verify_code(cert.verification_code)
    assert check is not None and (check.valid, check.revoked) == (False, True)
    assert AuditRecord.objects.filter(action="registry.certificate.revoked", subject_id=str(cert.issue_number)).exists()


@pytest.mark.parametrize(
    "code",
    [
        "131016-AAAAA-AAAAA-AAAAA-AAAAA",  # well formed, never issued
        "131017-AAAAA-AAAAA-AAAAA-AAAAA",  # bad check digit in the municipality code
        "not-a-code",
    ],
)
def test_an_unknown_code_is_a_japanese_404(code: str, tokyo: list[str]) -> None:
    page = Client().get(f"/verify/{code}/")
    assert page.status_code == 404
    assert "この検証コードの証明書は見つかりません" in page.content.decode()


def test_a_code_of_another_municipality_is_not_found_under_this_prefix(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    cert = issue(clerk, request("individual", family.atena_numbers[0]))
    moved = SHINJUKU + cert.verification_code[len(CHIYODA) :]
    assert verify_code(moved) is None


# --- the sheet itself -------------------------------------------------------------------------


def test_a_certificate_renders_to_a_picture(clerk: TenantContext, household, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tool = shutil.which("pdftoppm")
    assert tool, "pdftoppm is needed: apt-get install poppler-utils"
    cert = issue(clerk, request("individual", household.atena_numbers[0], include=frozenset({"household_head"})))
    (tmp_path / "c.pdf").write_bytes(cert.pdf)
    subprocess.run([tool, "-r", "100", "-png", str(tmp_path / "c.pdf"), str(tmp_path / "page")], check=True)
    png = tmp_path / "page-1.png"
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000  # an A4 page with text, not a blank sheet


def test_fonts_are_named_and_embedded(clerk: TenantContext, household, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tool = shutil.which("pdffonts")
    assert tool, "pdffonts is needed: apt-get install poppler-utils"
    (tmp_path / "c.pdf").write_bytes(issue(clerk, request("individual", household.atena_numbers[0])).pdf)
    fonts = subprocess.run([tool, str(tmp_path / "c.pdf")], check=True, capture_output=True, text=True).stdout
    lines = [line.split() for line in fonts.splitlines()[2:]]
    names = {line[0].split("+", 1)[1] for line in lines}
    assert "IPAmjMincho" in names  # the names' font
    assert names <= {"IPAmjMincho", "IPAexMincho", "IPAexGothic"}  # nothing picked by fc-match
    assert all(line[-5] == "yes" for line in lines)  # embedded (subset) in every case


# --- small pure parts -------------------------------------------------------------------------


def test_fees_come_from_the_dated_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fee_for("household", CHIYODA, date(2026, 11, 26)) == 300
    with pytest.raises(LookupError):
        fee_for("household", CHIYODA, date(2019, 1, 1))
    from lgcloud.registry import parameters

    data = dict(parameters._fees())
    data["by_municipality"] = {CHIYODA: {"individual": {"values": {"2026-04-01": 200}}}}
    monkeypatch.setattr(parameters, "_fees", lambda: data)
    assert fee_for("individual", CHIYODA, date(2026, 11, 26)) == 200
    assert fee_for("individual", CHIYODA, date(2026, 3, 31)) == 300  # before the ordinance's date
    assert fee_for("individual", SHINJUKU, date(2026, 11, 26)) == 300


@pytest.mark.parametrize(
    ("name", "kind", "title"),
    [
        ("千代田区", "special_ward", "千代田区長"),
        ("八王子市", "city", "八王子市長"),
        ("奥多摩町", "town", "奥多摩町長"),
        ("檜原村", "village", "檜原村長"),
    ],
)
def test_the_issuer_is_the_head_of_the_municipality(name: str, kind: str, title: str) -> None:
    assert certificates.issuer_title(name, kind) == title


def test_verification_codes_are_random_and_readable() -> None:
    codes = {certificates._new_code(CHIYODA) for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) <= 32  # Certificate.verification_code
        assert certificates.canonical_code(code) == code
        assert not set(code[7:]) & set("ILOU")
    assert certificates.canonical_code("131016-abcde-fghjk-mnpqr-stvwx") == "131016-ABCDE-FGHJK-MNPQR-STVWX"
    assert certificates.canonical_code("131016-ABCDE-FGHJK-MNPQR-STVW") is None
    assert certificates.canonical_code("13101X-ABCDE-FGHJK-MNPQR-STVWX") is None


def test_revocation_needs_a_reason_and_is_recorded_once(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    cert = issue(clerk, request("individual", family.atena_numbers[0]))
    with pytest.raises(ValidationError):
        revoke_certificate(clerk, cert.issue_number, " ")
    revoke_certificate(clerk, cert.issue_number, "紛失の届出")
    first = Certificate.objects.get(issue_number=cert.issue_number).revoked_at
    revoke_certificate(clerk, cert.issue_number, "重ねて")
    assert Certificate.objects.get(issue_number=cert.issue_number).revoked_at == first
    assert first is not None and first <= timezone.now()
    assert AuditRecord.objects.filter(action="registry.certificate.revoked").count() == 1
