"""The 一覧表 of a packet as the contact gets it: rows for the page, the CSV (for Japanese
Excel: CP932, or UTF-8 with a BOM; every cell formula-safe through ``core.csvfiles``) and
the PDF (the printed cover sheet itself, ``certificates.pdf``)."""

from collections.abc import Iterator

from certificates import pdf as certificate_pdf
from certificates.models import PacketItem
from certificates.services.packets import list_row
from core import csvfiles

# ?encoding= → the codec. CP932 replaces what it cannot encode (外字) rather than failing.
ENCODINGS = {"cp932": "cp932", "utf8": "utf-8"}
HEADER = ("No.", "記号・番号・枝番", "氏名", "被保険者（ご家族の分）", "内容", "状態")


def rows_for_page(rows: list[dict]) -> list[dict]:
    return [{**list_row(r["snapshot"]), "pk": r["pk"], "state": r["state"]} for r in rows]


def _state_label(state: str) -> str:
    return str(PacketItem.State(state).label)


def csv_lines(rows: list[dict], *, encoding: str) -> Iterator[bytes]:
    codec = ENCODINGS[encoding]
    writer = csvfiles.writer(csvfiles.Echo())
    if codec == "utf-8":
        yield "\ufeff".encode()  # Excel opens UTF-8 CSV correctly only with a BOM
    yield writer.writerow(HEADER).encode(codec, errors="replace")
    for number, row in enumerate(rows, start=1):
        line = list_row(row["snapshot"])
        cells = (number, line["symbol_number"], line["name"], line["insured_name"], line["content"],
                 _state_label(row["state"]))
        yield writer.writerow(cells).encode(codec, errors="replace")


def pdf(*, employer, packet, rows: list[dict]) -> bytes:
    cover = {"title": "事業所あて送付表（一覧表）", "employer_name": employer.name,
             "source": f"送付 #{packet.pk}（{packet.created_at:%Y-%m-%d}）",
             "rows": [list_row(r["snapshot"]) for r in rows]}
    return certificate_pdf.html_to_pdf(certificate_pdf.render_html(pages=[{"cover": cover}]))
