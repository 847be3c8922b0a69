"""The お知らせ as PDF: the same WeasyPrint path (fonts, URL fetcher, stylesheet) as the
資格確認書 (``certificates.pdf``), one A4 page per person with a cut-out card."""

from datetime import date

from django.template.loader import render_to_string
from django.utils import translation

from certificates.pdf import html_to_pdf, printable

DATE_FIELDS = ("birth_date", "eligible_from", "copay_from", "copay_until")


def render(sheets: list[dict], *, made_on: date) -> bytes:
    with translation.override("ja"):  # an official document: printed in Japanese
        html = render_to_string("notices/pdf/notice.html",
                                {"sheets": [printable(s, dates=DATE_FIELDS) for s in sheets], "made_on": made_on})
    return html_to_pdf(html)
