"""Benchmark: 資格確認書 print runs in chunks, side by side with today's single render and
with the floor (bare WeasyPrint rendering the same sheets as one document), in one run.

    .venv/bin/python bench/pdf.py              # full run (300 sheets, a 300-page file, 2 x 150)
    .venv/bin/python bench/pdf.py --quick      # smaller counts while developing

No database, no network: it renders snapshots like the ones ``certificates.snapshot``
freezes at issue, through the same code the print-file task runs
(``services.print_files._chunks`` / ``_render_chunks`` and ``pdf.merge``), minus the
database writes. Each phase runs in a fresh process (spawn). It prints (#12 target 3):

1. per sheet of a print file, in one process, 3 rounds of ABCCBA so drift hits all alike (the median round):
   (A) today's: one WeasyPrint document per certificate and per cover sheet, merged with
       pypdf (what batches did before this change; the single render is the download's),
   (B) ours: a print file rendered in chunks of ``KENPO_PRINT_CHUNK_SHEETS`` sheets with a
       cover sheet per employer, chunks concatenated with pypdf,
   (C) the floor: bare ``HTML(string=...).write_pdf()`` of the same pages as one document;
   targets: B <= 0.8 x A per sheet, print file <= 10 KB a page; and the single PDF of the
   same snapshot is byte-for-byte the same on a second render;
2. a worker rendering one full print file (``KENPO_PRINT_FILE_MAX_PAGES`` pages): time and
   peak RSS; target <= 400 MB;
3. one worker process vs two, each rendering print files; target >= 1.8x.
"""

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenpo_portal.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from weasyprint import CSS, HTML  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402

from certificates import pdf  # noqa: E402
from certificates.models import PrintFile  # noqa: E402
from certificates.services import print_files  # noqa: E402

EMPLOYERS = 10


def snapshot(i: int) -> dict:
    """A realistic snapshot; every tenth is a dependent aged 70–74 (extra copay line)."""
    elderly = i % 10 == 0
    return {
        "serial": f"2026-{i:07d}", "name": f"山田 太郎{i % 100}", "name_kana": "ヤマダ タロウ",
        "birth_date": "1954-07-15" if elderly else "1985-11-14", "sex": "男",
        "symbol": "1234", "number": str(1000 + i), "branch_number": "01" if elderly else "00",
        "insurer_number": "06139999", "insurer_name": "テスト健康保険組合",
        "insurer_address": "東京都千代田区丸の内1-1-1", "insurer_phone": "03-0000-0000",
        "issued_on": "2026-11-25", "valid_until": "2029-07-14" if elderly else "2031-11-24",
        "eligible_from": "2010-04-01", "is_insured_person": not elderly,
        "insured_name": "山田 一郎" if elderly else "", "copay_ratio": "2割" if elderly else "",
        "copay_from": "2024-08-01" if elderly else "", "employer_name": f"テスト商事株式会社 第{i % EMPLOYERS}事業所",
        "voluntary_continuation": False, "delivery_route": "employer", "postal_code": "105-0011",
        "address": "東京都港区芝公園4-2-8",
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _print_file(n: int, start: int = 0) -> tuple[PrintFile, dict[int, dict]]:
    """An unsaved print file of ``n`` certificates in ``EMPLOYERS`` groups, as planned."""
    ids = list(range(start + 1, start + n + 1))
    per = -(-n // EMPLOYERS)
    plan = [{"title": print_files.EMPLOYER_TITLE, "employer_name": f"テスト商事株式会社 第{g}事業所",
             "employer_id": g, "ids": ids[g * per:(g + 1) * per]} for g in range(EMPLOYERS) if ids[g * per:]]
    certificates = {pk: {"pk": pk, "serial": f"2026-{pk:07d}", "snapshot": snapshot(pk), "valid_until": None}
                    for pk in ids}
    return PrintFile(batch_id=1, sequence=1, plan=plan, certificate_count=n, description=""), certificates


def ours_print_file(n: int, start: int = 0) -> bytes:
    """What ``print_file_assemble`` renders: chunks of KENPO_PRINT_CHUNK_SHEETS, concatenated."""
    print_file, certificates = _print_file(n, start)
    parts, _page_of = print_files._render_chunks(
        print_files._chunks(print_file, certificates, settings.KENPO_PRINT_CHUNK_SHEETS))
    return pdf.merge(parts)[0]


def single(i: int) -> bytes:
    """One document per certificate (the download, the re-print)."""
    return pdf.render_certificates([snapshot(i)])


def todays_print_file(n: int, start: int = 0) -> bytes:
    """The print file as the batches made it before this change: every certificate rendered
    as its own PDF, each employer's cover as its own PDF, all merged with pypdf."""
    print_file, certificates = _print_file(n, start)
    parts = []
    for group in print_file.plan:
        rows = [certificates[pk] for pk in group["ids"]]
        cover = {"cover": {"title": group["title"], "employer_name": group["employer_name"], "source": "交付バッチ #1",
                           "rows": [{"serial": r["serial"], "name": r["snapshot"]["name"], "valid_until": None}
                                    for r in rows]}}
        parts.append(pdf.html_to_pdf(pdf.render_html(pages=[cover])))
        parts.extend(pdf.render_certificates([r["snapshot"]]) for r in rows)
    return pdf.merge(parts)[0]


_BARE = {}


def bare_one_document(n: int, start: int = 0) -> bytes:
    """The floor: plain WeasyPrint, the same pages (covers included) as one document, its own
    font configuration loaded once, nothing written."""
    if not _BARE:
        _BARE["fonts"] = FontConfiguration()
        _BARE["css"] = CSS(string=render_to_string("certificates/pdf/print.css"), base_url=pdf.BASE_URL,
                           font_config=_BARE["fonts"])
    print_file, certificates = _print_file(n, start)
    pages = [p for chunk in print_files._chunks(print_file, certificates, n + 1) for p in chunk]
    html = pdf.render_html(pages=pages)
    return HTML(string=html, base_url=pdf.BASE_URL).write_pdf(stylesheets=[_BARE["css"]],
                                                                font_config=_BARE["fonts"])


# --- phases (each runs in its own process) ------------------------------------------------------


def phase_compare(n: int, queue, rounds: int = 3) -> None:
    """``rounds`` rounds of ABCCBA; per variant the median round (a shared machine's load
    comes and goes: the median of interleaved rounds is what survives it)."""
    import statistics

    single(0), ours_print_file(20), bare_one_document(20)  # warm-up: fonts, templates
    variants = {"single": todays_print_file, "ours": ours_print_file, "floor": bare_one_document}
    cpu_rounds: dict[str, list[float]] = {k: [] for k in variants}
    wall_rounds: dict[str, list[float]] = {k: [] for k in variants}
    sizes = {}
    for _ in range(rounds):
        cpu = dict.fromkeys(variants, 0.0)
        wall = dict.fromkeys(variants, 0.0)
        for name in ("single", "ours", "floor", "floor", "ours", "single"):
            start, start_cpu = time.perf_counter(), time.process_time()
            sizes[name] = len(variants[name](n))
            wall[name] += time.perf_counter() - start
            cpu[name] += time.process_time() - start_cpu
        for name in variants:
            cpu_rounds[name].append(1000 * cpu[name] / (2 * n))
            wall_rounds[name].append(1000 * wall[name] / (2 * n))
    pages = n + EMPLOYERS
    ratios = [o / s for o, s in zip(cpu_rounds["ours"], cpu_rounds["single"], strict=True)]
    queue.put({"ms": {k: statistics.median(v) for k, v in wall_rounds.items()},
               "cpu_ms": {k: statistics.median(v) for k, v in cpu_rounds.items()},
               "ratios": ratios, "pages": pages,
               "kb_per_page": {k: v / 1024 / pages for k, v in sizes.items()},
               "stable": single(7) == single(7), "peak_rss_mb": peak_rss_mb()})


def phase_print_file(n: int, queue) -> None:
    single(0)
    start, start_cpu = time.perf_counter(), time.process_time()
    content = ours_print_file(n)
    took, took_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    queue.put({"seconds": took, "ms_per_sheet": 1000 * took_cpu / n,
               "kb_per_page": len(content) / 1024 / (n + EMPLOYERS),
               "peak_rss_mb": peak_rss_mb()})


def phase_throughput(n: int, queue) -> None:
    ours_print_file(20)
    queue.put(("ready", os.getpid()))
    start, start_cpu = time.perf_counter(), time.process_time()
    ours_print_file(n, start=1000)
    queue.put(("done", time.perf_counter() - start, peak_rss_mb(), 1000 * (time.process_time() - start_cpu) / n))


def run(target, n: int):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(n, queue))
    proc.start()
    result = queue.get(timeout=3600)
    proc.join()
    return result


def workers(count: int, n: int) -> tuple[float, float, float]:
    """Sheets per second of ``count`` processes each rendering a print file of ``n``, started together."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=phase_throughput, args=(n, queue)) for _ in range(count)]
    for p in procs:
        p.start()
    for _ in procs:
        assert queue.get(timeout=600)[0] == "ready"
    start = time.perf_counter()
    peaks, cpu = [], []
    for _ in procs:
        message = queue.get(timeout=3600)
        assert message[0] == "done"
        peaks.append(message[2])
        cpu.append(message[3])
    wall = time.perf_counter() - start
    for p in procs:
        p.join()
    return count * n / wall, max(peaks), max(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--workers-only", action="store_true", help="only 3. (1 vs 2 processes)")
    args = parser.parse_args()
    compare, file_pages, per_worker = (60, 100, 50) if args.quick else (150, settings.KENPO_PRINT_FILE_MAX_PAGES, 150)
    chunk = settings.KENPO_PRINT_CHUNK_SHEETS
    print(f"harfbuzz-subset available: {pdf.harfbuzz_subset_available()}; cores: {os.cpu_count()}; "
          f"load average before: {os.getloadavg()[0]:.2f}; KENPO_PRINT_CHUNK_SHEETS={chunk}")
    print("(on a shared machine wall times swing with the load; the CPU times of 1. and 2. do not)")
    if args.workers_only:
        per_worker = 50 if args.quick else 150
        one, _peak, cpu_one = workers(1, per_worker)
        two, _peak, cpu_two = workers(2, per_worker)
        print(f"3. 1 process {one:.1f} sheets/s, 2 processes {two:.1f} sheets/s, speed-up {two / one:.2f}x "
              f"(load average {os.getloadavg()[0]:.2f}); CPU per sheet alone {cpu_one:.1f} ms, each of two "
              f"at once {cpu_two:.1f} ms")
        return

    c = run(phase_compare, compare)
    ms, cpu, kb = c["ms"], c["cpu_ms"], c["kb_per_page"]
    print(f"\n1. {compare} sheets + {EMPLOYERS} covers, 3 rounds of ABCCBA in one process, median round "
          f"(CPU time of the process, and wall):")
    print(f"   (A) today: singles merged   {cpu['single']:6.1f} ms/sheet CPU ({ms['single']:6.1f} wall)"
          f"  {kb['single']:6.1f} KB/page")
    print(f"   (B) ours, chunks of {chunk:<4}   {cpu['ours']:6.1f} ms/sheet CPU ({ms['ours']:6.1f} wall)"
          f"  {kb['ours']:6.1f} KB/page   B/A = {cpu['ours'] / cpu['single']:.2f} CPU, {ms['ours'] / ms['single']:.2f}"
          f" wall (target <= 0.80); <= 10 KB/page: {kb['ours'] <= 10}")
    print("       B/A per round (CPU): " + ", ".join(f"{r:.2f}" for r in c["ratios"]))
    print(f"   (C) floor, one document     {cpu['floor']:6.1f} ms/sheet CPU ({ms['floor']:6.1f} wall)"
          f"  {kb['floor']:6.1f} KB/page   B/C = {cpu['ours'] / cpu['floor']:.2f} CPU")
    print(f"   single PDF of the same snapshot byte-for-byte stable: {c['stable']}")

    f = run(phase_print_file, file_pages)
    print(f"2. one print file of {file_pages} sheets (+{EMPLOYERS} covers) in a fresh worker: {f['seconds']:.1f} s, "
          f"{f['ms_per_sheet']:.1f} ms/sheet CPU, {f['kb_per_page']:.1f} KB/page, peak RSS {f['peak_rss_mb']:.0f} MB "
          f"(target <= 400 MB)")

    one, peak_one, cpu_one = workers(1, per_worker)
    two, peak_two, cpu_two = workers(2, per_worker)
    print(f"3. throughput (print files of {per_worker}): 1 process {one:.1f} sheets/s, 2 processes {two:.1f} sheets/s, "
          f"speed-up {two / one:.2f}x (target >= 1.8x; needs two idle cores: load average now "
          f"{os.getloadavg()[0]:.2f}); peak RSS {max(peak_one, peak_two):.0f} MB; CPU per sheet alone "
          f"{cpu_one:.1f} ms, each of two at once {cpu_two:.1f} ms (no shared work: equal CPU means the "
          f"speed-up is the idle cores')")
    print(f"\n300,000 certificates at {two:.1f}/s (2 processes on this machine): {300_000 / two / 3600:.1f} h, "
          f"print files ≈ {300_000 * f['kb_per_page'] / 1024 / 1024:.1f} GB")


if __name__ == "__main__":
    main()
