"""Benchmark: 資格確認書 PDF rendering, side by side with a bare WeasyPrint render.

    .venv/bin/python bench/pdf.py              # full run, about 8 minutes on 2 cores
    .venv/bin/python bench/pdf.py --quick      # smaller counts, about 2 minutes

No database, no network: it renders snapshots like the ones ``certificates.snapshot``
freezes at issue. Each phase runs in a fresh process (spawn) so the figures do not
leak into each other. It prints:

1. single PDFs: ms per certificate for our path (template + ``SafeURLFetcher`` +
   bundled font + writing the file) and for a bare ``HTML(string=...).write_pdf()`` of
   the same HTML in the same process, interleaved; target ratio <= 1.25;
2. a print file of 1,000: (a) 1,000 sheets rendered as one WeasyPrint document, and
   (b) what the batch does: merging 1,000 single PDFs plus cover sheets with pypdf;
   time and peak RSS of each;
3. RSS after 500 and after N (5,000) renders in one process; target <= 10 % growth;
4. one worker process vs two, rendering the same number each; target >= 1.8x.
"""

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenpo_portal.settings")

import django

django.setup()

from django.template.loader import render_to_string  # noqa: E402
from weasyprint import CSS, HTML  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402

from certificates import pdf  # noqa: E402


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
        "copay_from": "2024-08-01" if elderly else "", "employer_name": f"テスト商事株式会社 第{i % 7}事業所",
        "delivery_route": "employer", "postal_code": "105-0011", "address": "東京都港区芝公園4-2-8",
    }


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours(i: int, out: Path) -> None:
    """What ``services.certificate_render`` does apart from the database: render and write."""
    (out / f"{i}.pdf").write_bytes(pdf.render_certificates([snapshot(i)]))


_BARE = {}


def bare(html: str) -> bytes:
    """Plain WeasyPrint on the same HTML and stylesheet: default fetcher, its own font
    configuration loaded once (as anyone using WeasyPrint well would), nothing written."""
    if not _BARE:
        _BARE["fonts"] = FontConfiguration()
        _BARE["css"] = CSS(string=render_to_string("certificates/pdf/print.css"), base_url=pdf.BASE_URL,
                           font_config=_BARE["fonts"])
    return HTML(string=html, base_url=pdf.BASE_URL).write_pdf(stylesheets=[_BARE["css"]],
                                                                font_config=_BARE["fonts"])


# --- phases (each runs in its own process) ------------------------------------------------------


def phase_singles(n: int, queue) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for i in range(10):  # warm-up: fonts, templates
            ours(i, out)
            bare(pdf.render_html(sheets=[snapshot(i)]))
        t_ours = t_bare = 0.0
        for block in range(0, n, 10):  # interleaved blocks of 10, so drift hits both alike
            start = time.perf_counter()
            for i in range(block, block + 10):
                ours(i, out)
            t_ours += time.perf_counter() - start
            htmls = [pdf.render_html(sheets=[snapshot(i)]) for i in range(block, block + 10)]
            start = time.perf_counter()
            for html in htmls:
                bare(html)
            t_bare += time.perf_counter() - start
        size = (out / "20.pdf").stat().st_size
    queue.put({"ours_ms": 1000 * t_ours / n, "bare_ms": 1000 * t_bare / n, "size_kb": size / 1024})


def phase_merged_render(n: int, queue) -> None:
    bare(pdf.render_html(sheets=[snapshot(0)]))
    before = rss_mb()
    html = pdf.render_html(sheets=[snapshot(i) for i in range(n)])
    start = time.perf_counter()
    content = pdf.html_to_pdf(html)
    took = time.perf_counter() - start
    queue.put({"ms_per_cert": 1000 * took / n, "seconds": took, "mb": len(content) / 2**20,
               "peak_rss_mb": peak_rss_mb(), "rss_before_mb": before})


def phase_merged_pypdf(n: int, queue) -> None:
    """The batch's print file: single PDFs (already rendered) merged after cover sheets."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for i in range(n):
            ours(i, out)
        before = rss_mb()
        start = time.perf_counter()
        parts: list = []
        for group in range(0, n, 100):  # ten employers of 100
            rows = [{"serial": f"2026-{i:07d}", "name": "山田 太郎", "valid_until": None}
                    for i in range(group, group + 100)]
            parts.append(pdf.render_cover(title="事業所あて送付表", employer_name=f"第{group}事業所", rows=rows,
                                          batch_id=1))
            parts.extend(out / f"{i}.pdf" for i in range(group, group + 100))
        content, pages = pdf.merge(parts)
        took = time.perf_counter() - start
    queue.put({"seconds": took, "pages": pages, "mb": len(content) / 2**20, "peak_rss_mb": peak_rss_mb(),
               "rss_before_mb": before})


def phase_rss(n: int, queue) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        marks = {}
        start = time.perf_counter()
        for i in range(1, n + 1):
            ours(i, out)
            (out / f"{i}.pdf").unlink()
            if i in (100, 500, 1000, 2000, n):
                marks[i] = rss_mb()
        took = time.perf_counter() - start
    queue.put({"marks": marks, "ms": 1000 * took / n})


def phase_throughput(n: int, queue) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for i in range(5):
            ours(i, out)
        queue.put(("ready", os.getpid()))
        start = time.perf_counter()
        for i in range(n):
            ours(i, out)
            (out / f"{i}.pdf").unlink()
        queue.put(("done", time.perf_counter() - start))


def run(target, n: int):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(n, queue))
    proc.start()
    result = queue.get(timeout=3600)
    proc.join()
    return result


def workers(count: int, n: int) -> float:
    """Certificates per second of ``count`` processes rendering ``n`` each, started together."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=phase_throughput, args=(n, queue)) for _ in range(count)]
    for p in procs:
        p.start()
    for _ in procs:
        assert queue.get(timeout=600)[0] == "ready"
    start = time.perf_counter()
    for _ in procs:
        assert queue.get(timeout=3600)[0] == "done"
    wall = time.perf_counter() - start
    for p in procs:
        p.join()
    return count * n / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (about 2 minutes)")
    parser.add_argument("--workers-only", action="store_true", help="only phase 4 (1 vs 2 processes)")
    args = parser.parse_args()
    singles, merged, rss_n, per_worker = (100, 300, 1000, 60) if args.quick else (300, 1000, 5000, 200)
    print(f"harfbuzz-subset available: {pdf.harfbuzz_subset_available()}; cores: {os.cpu_count()}; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    if args.workers_only:
        one, two = workers(1, per_worker), workers(2, per_worker)
        print(f"4. throughput: 1 process {one:.1f}/s, 2 processes {two:.1f}/s, speed-up {two / one:.2f}x")
        return

    s = run(phase_singles, singles)
    ratio = s["ours_ms"] / s["bare_ms"]
    print(f"\n1. single PDFs ({singles}, interleaved): ours {s['ours_ms']:.1f} ms/cert "
          f"({1000 / s['ours_ms']:.1f}/s), bare WeasyPrint {s['bare_ms']:.1f} ms/cert "
          f"({1000 / s['bare_ms']:.1f}/s), ratio {ratio:.2f} (target <= 1.25); {s['size_kb']:.0f} KB each")

    m = run(phase_merged_render, merged)
    print(f"2a. one WeasyPrint document of {merged} sheets: {m['seconds']:.1f} s, {m['ms_per_cert']:.1f} ms/cert, "
          f"{m['mb']:.1f} MB, peak RSS {m['peak_rss_mb']:.0f} MB (from {m['rss_before_mb']:.0f} MB)")
    p = run(phase_merged_pypdf, merged)
    print(f"2b. print file as the batch makes it (pypdf merge of {merged} singles + 10 covers): "
          f"{p['seconds']:.1f} s, {p['pages']} pages, {p['mb']:.1f} MB, peak RSS {p['peak_rss_mb']:.0f} MB "
          f"(from {p['rss_before_mb']:.0f} MB)")

    r = run(phase_rss, rss_n)
    marks = r["marks"]
    growth = 100 * (marks[rss_n] - marks[500]) / marks[500]
    print(f"3. RSS over {rss_n} renders in one process: "
          + ", ".join(f"{k}: {v:.0f} MB" for k, v in marks.items())
          + f"; growth 500 → {rss_n}: {growth:+.1f} % (target <= 10 %); {r['ms']:.1f} ms/cert")

    one = workers(1, per_worker)
    two = workers(2, per_worker)
    print(f"4. throughput: 1 process {one:.1f}/s, 2 processes {two:.1f}/s, speed-up {two / one:.2f}x "
          f"(target >= 1.8x)")
    for total in (300_000,):
        print(f"\n{total:,} certificates at {two:.1f}/s (2 processes on this machine): "
              f"{total / two / 3600:.1f} h; per 1,000-page print file add {p['seconds']:.0f} s of merging.")


if __name__ == "__main__":
    main()
