"""The 資格確認書 itself (R8): what it prints, for whom it is refused, when it ends."""

import io
from datetime import date

import pytest
from pypdf import PdfReader

from certificates import pdf, services
from certificates.models import Basis, EligibilityCertificate
from tests.factories import HouseholdFactory

from .conftest import NO_CARD, person

pytestmark = pytest.mark.django_db
Cert = EligibilityCertificate


def _text(content: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).replace(" ", "").replace("\n", "").replace("\u3000", "")


@pytest.fixture
def voluntary(employer):
    """A 任意継続 member whose continuation ends on 2027-03-31, with an address for mail."""
    household = HouseholdFactory(employer=employer, society=employer.society, voluntary_continuation=True,
                                 voluntary_continuation_ends_on=date(2027, 3, 31), postal_code="105-0011",
                                 address="東京都港区芝公園4-2-8")
    return person(household=household, given_name="任意", card=NO_CARD)


def test_it_prints_the_insured_persons_employer_but_not_for_voluntary_continuation(insured_and_dependent_72,
                                                                                   voluntary, today):
    insured, dependent = insured_and_dependent_72
    for holder in (insured, dependent):
        certificate = services.certificate_issue(person=holder, basis=Basis.CUTOFF, issued_by=None, today=today)
        card = _text(services.certificate_pdf(certificate=certificate)).split("きりとり線")[1]
        assert "事業所名称青空商事株式会社" in card
    certificate = services.certificate_issue(person=voluntary, basis=Basis.CUTOFF, issued_by=None, today=today)
    assert certificate.snapshot["employer_name"] == ""
    text = _text(services.certificate_pdf(certificate=certificate))
    assert "事業所名称" not in text and "青空商事" not in text
    assert text.startswith("〒105-0011東京都港区芝公園4-2-8")  # the direct-mail address block


def test_a_voluntary_continuation_certificate_ends_with_the_continuation(voluntary, today):
    certificate = services.certificate_issue(person=voluntary, basis=Basis.CUTOFF, issued_by=None, today=today)
    assert certificate.valid_until == date(2027, 3, 31)  # not 5 years: 任意継続's last day


def test_validity_is_a_setting(insured_and_dependent_72, today, settings):
    settings.KENPO_CERTIFICATE_VALID_YEARS = 3
    certificate = services.certificate_issue(person=insured_and_dependent_72[0], basis=Basis.CUTOFF,
                                             issued_by=None, today=today)
    assert certificate.valid_until == date(2029, 11, 24)


def test_the_copay_ratio_for_ages_70_to_74_is_printed_with_its_effective_date(insured_and_dependent_72, today):
    certificate = services.certificate_issue(person=insured_and_dependent_72[1], basis=Basis.CUTOFF,
                                             issued_by=None, today=today)
    card = _text(services.certificate_pdf(certificate=certificate)).split("きりとり線")[1]
    assert "一部負担金の割合2割（令和6年8月1日(2024-08-01)から適用）" in card


def test_a_post_certificate_without_an_address_is_refused_not_printed_with_an_empty_postcode(employer, today):
    household = HouseholdFactory(employer=employer, society=employer.society, voluntary_continuation=True)
    holder = person(household=household, card=NO_CARD)
    with pytest.raises(services.CertificateRefused, match="住所"):
        services.certificate_issue(person=holder, basis=Basis.CUTOFF, issued_by=None, today=today)
    assert not Cert.objects.exists()


def test_a_batch_skips_a_post_member_without_an_address_and_says_why(employer, today,
                                                                     django_capture_on_commit_callbacks):
    from certificates.models import BatchItem
    from certificates.selectors import ex_officio_candidates

    household = HouseholdFactory(employer=employer, society=employer.society, voluntary_continuation=True)
    holder = person(household=household, card=NO_CARD)
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.batch_start(candidates=ex_officio_candidates(today=today), started_by=None)
    item = BatchItem.objects.get(batch=batch, person=holder)
    assert item.state == "skipped" and "住所" in item.error


def test_nobody_aged_75_or_over_gets_a_certificate(employer, today):
    holder = person(household=HouseholdFactory(employer=employer, society=employer.society),
                    birth_date=date(1951, 11, 25), card=NO_CARD)  # 75 on TODAY (R11)
    with pytest.raises(services.CertificateRefused):
        services.certificate_issue(person=holder, basis=Basis.CUTOFF, issued_by=None, today=today)


@pytest.mark.parametrize(("change", "day"), [
    ({"birth_date": date(1951, 11, 26)}, date(2026, 11, 26)),  # the 75th birthday (R11)
    ({"eligible_until": date(2026, 11, 26)}, date(2026, 11, 26)),  # 資格喪失日
])
def test_certificates_void_by_themselves_when_eligibility_ends(employer, today, change, day):
    holder = person(household=HouseholdFactory(employer=employer, society=employer.society), card=NO_CARD,
                    **change)
    certificate = services.certificate_issue(person=holder, basis=Basis.CUTOFF, issued_by=None, today=today)
    assert services.certificates_void_ended_eligibility(today=today) == 0  # still eligible today
    assert services.certificates_void_ended_eligibility(today=day) == 1
    certificate.refresh_from_db()
    assert (certificate.status, certificate.void_reason) == ("void", "eligibility_ended")


def test_a_voluntary_continuation_certificate_voids_the_day_after_it_ends(voluntary, today):
    certificate = services.certificate_issue(person=voluntary, basis=Basis.CUTOFF, issued_by=None, today=today)
    assert services.certificates_void_ended_eligibility(today=date(2027, 3, 31)) == 0
    assert services.certificates_void_ended_eligibility(today=date(2027, 4, 1)) == 1
    certificate.refresh_from_db()
    assert certificate.status == "void"


def test_the_single_pdf_is_the_same_bytes_every_time(insured_and_dependent_72, today, settings, tmp_path):
    certificate = services.certificate_issue(person=insured_and_dependent_72[0], basis=Basis.CUTOFF,
                                             issued_by=None, today=today)
    first = services.certificate_pdf(certificate=certificate)
    again = services.certificate_pdf(certificate=Cert.objects.get(pk=certificate.pk))
    assert first == again
    # Even rendered afresh from the snapshot (another host, the stored file lost).
    assert pdf.render_certificates([certificate.snapshot]) == first


def test_a_voided_certificate_is_never_served_as_printable(insured_and_dependent_72, today):
    certificate = services.certificate_issue(person=insured_and_dependent_72[0], basis=Basis.CUTOFF,
                                             issued_by=None, today=today)
    services.certificates_void(queryset=Cert.objects.filter(pk=certificate.pk), reason="error", by=None)
    certificate.refresh_from_db()
    with pytest.raises(services.CertificateVoid):
        services.certificate_pdf(certificate=certificate)


def test_a_print_file_stamps_the_page_of_a_certificate_voided_after_it_was_made(insured_and_dependent_72, today,
                                                                                django_capture_on_commit_callbacks):
    from certificates.selectors import ex_officio_candidates

    _insured, dependent = insured_and_dependent_72
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.batch_start(candidates=ex_officio_candidates(today=today), started_by=None)
    print_file = batch.print_files.get()
    voided = Cert.objects.get(person=dependent)
    services.certificates_void(queryset=Cert.objects.filter(pk=voided.pk), reason="details_changed", by=None)
    pages = PdfReader(io.BytesIO(services.print_file_content(print_file=print_file))).pages
    stamped = print_file.page_of[str(voided.pk)] - 1
    for number, page in enumerate(pages):
        text = page.extract_text().replace(" ", "")
        assert ("この資格確認書は無効です（記載事項変更）" in text) == (number == stamped)


def test_voiding_asks_a_known_reason(insured_and_dependent_72, today):
    certificate = services.certificate_issue(person=insured_and_dependent_72[0], basis=Basis.CUTOFF,
                                             issued_by=None, today=today)
    with pytest.raises(ValueError):
        services.certificates_void(queryset=Cert.objects.filter(pk=certificate.pk), reason="replaced", by=None)
