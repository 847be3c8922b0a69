"""PDF rendering of 資格確認書 with WeasyPrint, from snapshots only.

- Only our own templates are rendered, with autoescaping: no user-supplied HTML.
- ``SafeURLFetcher`` lets WeasyPrint read the bundled fonts in ``static/fonts/`` and
  nothing else (no network, no other file), and a refused URL stops the render.
- The font is bundled (IPAex Gothic), so output is identical on every machine.
"""

import functools
import io
import logging
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

# WeasyPrint logs every rendering step at INFO: too chatty for a worker rendering thousands.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

FONT_DIR = Path(settings.BASE_DIR) / "static" / "fonts"
ALLOWED_ROOTS = (FONT_DIR.resolve(),)
BASE_URL = FONT_DIR.parent.resolve().as_uri() + "/"

DATE_FIELDS = ("birth_date", "issued_on", "valid_until", "eligible_from", "copay_from")


class RefusedURL(ValueError):
    """WeasyPrint asked for something other than a bundled static file."""


class SafeURLFetcher(URLFetcher):
    """Serves only files under ``ALLOWED_ROOTS``; every other URL is refused.

    ``fail_on_errors`` makes a refusal stop the rendering instead of a warning,
    so a template that points elsewhere fails loudly in tests.
    """

    def __init__(self):
        super().__init__(allowed_protocols=["file"], fail_on_errors=True)

    def fetch(self, url, headers=None):
        parsed = urlparse(url)
        if parsed.scheme.lower() != "file" or parsed.netloc not in ("", "localhost"):
            raise RefusedURL(f"refused URL scheme: {parsed.scheme or '(none)'}")
        path = Path(unquote(parsed.path)).resolve()
        if not any(path.is_relative_to(root) for root in ALLOWED_ROOTS) or not path.is_file():
            raise RefusedURL("refused path outside the bundled static files")
        return super().fetch(path.as_uri(), headers)


def harfbuzz_subset_available() -> bool:
    """Without libharfbuzz-subset WeasyPrint falls back to a ~40x slower font subsetter."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


def printable(fields: dict, *, dates: tuple[str, ...] = DATE_FIELDS) -> dict:
    """A sheet's stored fields (JSON: dates as ISO strings) with its ``dates`` as dates again,
    for the templates' 和暦 filters."""
    sheet = dict(fields)
    for field in dates:
        if sheet.get(field):
            sheet[field] = date.fromisoformat(sheet[field])
    return sheet


def render_html(*, pages: list[dict]) -> str:
    """The HTML of a document: one A4 page per snapshot; an item ``{"cover": {...}}`` is
    an employer's cover sheet (送付表) instead, which may run over several pages."""
    sheets = [p if "cover" in p else printable(p) for p in pages]
    with translation.override("ja"):
        return render_to_string("certificates/pdf/document.html", {"pages": sheets})


@functools.cache
def _stylesheet() -> tuple[CSS, FontConfiguration]:
    """The print stylesheet and its fonts, loaded once per process.

    A new FontConfiguration per render would re-read and re-register the 6 MB font
    each time: several times slower, and fontconfig never gives that memory back.
    """
    font_config = FontConfiguration()
    css = CSS(string=render_to_string("certificates/pdf/print.css"), base_url=BASE_URL,
              url_fetcher=SafeURLFetcher(), font_config=font_config)
    return css, font_config


def _document(html: str):
    css, font_config = _stylesheet()
    return HTML(string=html, base_url=BASE_URL, url_fetcher=SafeURLFetcher()).render(
        stylesheets=[css], font_config=font_config
    )


def html_to_pdf(html: str) -> bytes:
    return _document(html).write_pdf()


def render_certificates(snapshots: list[dict]) -> bytes:
    """One PDF with one page per snapshot (the single-certificate download).

    Deterministic: the same snapshot gives the same bytes on every run and machine
    (bundled font, no dates in the metadata)."""
    return html_to_pdf(render_html(pages=snapshots))


def render_pages(pages: list[dict]) -> tuple[bytes, dict[str, int]]:
    """One WeasyPrint document for a chunk of a print file (cover sheets and certificates
    in print order): its pages share one embedded font subset. Returns the PDF and the page
    (1-based, within the chunk) of each element with an ``id`` (``c<certificate id>``)."""
    document = _document(render_html(pages=pages))
    page_of = {anchor: number for number, page in enumerate(document.pages, start=1) for anchor in page.anchors}
    return document.write_pdf(), page_of


@functools.cache
def _void_stamp(reason: str) -> bytes:
    with translation.override("ja"):
        return html_to_pdf(render_to_string("certificates/pdf/_void.html", {"reason": reason}))


def stamp_void(content: bytes, *, pages: dict[int, str]) -> bytes:
    """``content`` with 「無効」 stamped across each page in ``pages`` ({0-based page: reason})."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(content)))
    for index, reason in pages.items():
        stamp = PdfReader(io.BytesIO(_void_stamp(reason))).pages[0]
        writer.pages[index].merge_page(stamp, over=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def merge(parts: list[bytes | str | Path]) -> tuple[bytes, int]:
    """Concatenate PDFs (bytes or file paths); returns the merged PDF and its page count."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(io.BytesIO(part) if isinstance(part, bytes) else str(part))
    out = io.BytesIO()
    writer.write(out)
    pages = len(writer.pages)
    writer.close()
    return out.getvalue(), pages


def pages_of(content: bytes, numbers: list[int]) -> bytes:
    """The pages ``numbers`` (1-based) of a PDF, as a PDF of their own (no re-rendering)."""
    from pypdf import PdfReader, PdfWriter

    reader, writer = PdfReader(io.BytesIO(content)), PdfWriter()
    for number in numbers:
        writer.add_page(reader.pages[number - 1])
    out = io.BytesIO()
    writer.write(out)
    writer.close()
    return out.getvalue()
