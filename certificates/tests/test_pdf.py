import io

import pytest
from pypdf import PdfReader
from weasyprint.urls import FatalURLFetchingError

from certificates import pdf, services, tasks
from certificates.models import Basis

pytestmark = pytest.mark.django_db


def _text(content: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return text.replace(" ", "").replace("\n", "").replace("\u3000", "")


def _issue_and_render(person, today):
    cert = services.certificate_issue(person=person, basis=Basis.CUTOFF, issued_by=None, today=today)
    return cert, services.certificate_pdf(certificate=cert)


def test_the_pdf_of_an_insured_person_shows_every_r8_field_in_japanese(insured_and_dependent_72, today):
    cert, content = _issue_and_render(insured_and_dependent_72[0], today)
    assert len(PdfReader(io.BytesIO(content)).pages) == 1
    text = _text(content)
    for expected in [
        "資格確認書", "高橋健一", "タカハシケンイチ", "昭和50年5月20日", "1975-05-20", "性別男",
        "記号4321", "番号8765", "枝番00", "06139999", "テスト健康保険組合", "東京都千代田区丸の内1-1-1",
        "交付年月日", "令和8年11月25日", "有効期限", "令和13年11月24日", "資格取得年月日", "平成27年4月1日",
        "本人（被保険者）", f"交付番号{cert.serial}", "返却", "青空商事株式会社",
    ]:
        assert expected in text, expected
    card = text.split("きりとり線")[1]
    assert "一部負担金の割合" not in card  # only for ages 70–74


def test_the_pdf_of_a_dependent_aged_72_shows_the_insured_person_and_the_copay_ratio(insured_and_dependent_72,
                                                                                     today):
    _cert, content = _issue_and_render(insured_and_dependent_72[1], today)
    text = _text(content)
    for expected in [
        "高橋ハル", "タカハシハル", "昭和29年7月15日", "性別女", "枝番01", "家族（被扶養者）",
        "被保険者氏名高橋健一", "一部負担金の割合2割", "令和6年8月1日", "有効期限令和11年7月14日",
    ]:
        assert expected in text, expected


def test_it_embeds_only_the_bundled_font(insured_and_dependent_72, today):
    _cert, content = _issue_and_render(insured_and_dependent_72[0], today)
    fonts = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    assert fonts <= {"IPAexGothic-Bundled", "IPAexMincho-Bundled"}


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "http://127.0.0.1:8000/",
    "https://example.com/logo.png",
    "ftp://example.com/x",
    "data:text/plain,hello",
    f"{pdf.BASE_URL}fonts/../../kenpo_portal/settings.py",
    "file://evil.example.com/static/fonts/ipaexg.ttf",
])
def test_the_url_fetcher_refuses_anything_but_the_bundled_files(url):
    with pytest.raises(ValueError):
        pdf.SafeURLFetcher().fetch(url)


def test_the_url_fetcher_serves_the_bundled_font():
    response = pdf.SafeURLFetcher().fetch(pdf.BASE_URL + "fonts/ipaexg.ttf")
    assert response.read(4) == b"\x00\x01\x00\x00"  # a TrueType file
    response.close()


@pytest.mark.parametrize("html", [
    '<img src="file:///etc/passwd">',
    '<link rel="stylesheet" href="http://127.0.0.1:1/x.css">',
    '<p style="background: url(https://example.com/x.png)">x</p>',
])
def test_a_document_pointing_elsewhere_fails_to_render(html):
    with pytest.raises(FatalURLFetchingError):
        pdf.html_to_pdf(f"<html><body>{html}</body></html>")


def test_member_supplied_text_is_escaped_not_rendered_as_html(insured_and_dependent_72, today):
    person = insured_and_dependent_72[0]
    person.print_name = '<img src="file:///etc/passwd">'
    person.save()
    _cert, content = _issue_and_render(person, today)
    assert '<imgsrc="file:///etc/passwd">' in _text(content)


def test_the_worker_refuses_to_start_without_harfbuzz_subset(monkeypatch):
    monkeypatch.setattr(pdf, "harfbuzz_subset_available", lambda: False)
    with pytest.raises(SystemExit, match="libharfbuzz-subset"):
        tasks.refuse_to_start_without_harfbuzz_subset()


def test_this_machine_has_harfbuzz_subset():
    assert pdf.harfbuzz_subset_available()
