"""Benchmark (issue 26 §5): the ex-officio run at a large society's size — 資格確認書 issued
and printed by the real code path, in 1, 2 and 4 worker processes, beside the floor (bare
WeasyPrint, the same sheets, one document per print file, no database) in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench REDIS_URL=redis://127.0.0.1:6379/<db> \\
        .venv/bin/python bench/certificates_scale.py [--files-per-process 2] [--processes 1 2 4]

Needs a database filled by ``python manage.py seed_demo --persons 300000`` (or more). It
ISSUES certificates to persons of that database's ex-officio list (R6) — never point it at
real data; each run takes new persons (about 580 × processes per configuration; 300,000
persons give ~90,000 candidates). The PDFs go to a temporary MEDIA_ROOT, deleted at the end.

For each number of processes P (fresh processes, spawned, warmed up like a long-lived Celery
worker: fonts and templates loaded):

1. a batch of ``KENPO_PRINT_FILE_MAX_PAGES``-sized print files' worth of candidates per
   process (in employer order, as the list gives them) is started (``batch_start``), its
   chunks issued by the P processes (``batch_process_chunk``, what ``process_chunk`` runs),
   its print files planned (``batch_assemble_print_files``) and rendered by the P processes
   (``print_file_assemble``, what ``assemble_print_file`` runs: chunks of
   ``KENPO_PRINT_CHUNK_SHEETS``, merged, written, certificates and packets marked);
2. the floor: the same P processes render the same print files' pages (covers included)
   as bare ``HTML(string=...).write_pdf()``, one document per file, nothing read or written.

Celery itself is left out (its messages cost microseconds against a sheet's ~50 ms): the
task bodies are called directly, one print file (or chunk) at a time from a shared queue,
as prefork workers take messages. Each process reports its CPU time and peak RSS.
"""

import argparse
import multiprocessing as mp
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenpo_portal.settings")
if "KENPO_BENCH_MEDIA" not in os.environ:  # the spawned workers inherit it
    os.environ["KENPO_BENCH_MEDIA"] = os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="kenpo-bench-certs-")

import django  # noqa: E402

django.setup()


def _no_messages() -> None:
    """Tasks queued by the services (the next step of a batch) are not sent: the bench runs
    each step itself."""
    from celery.app.task import Task

    Task.delay = lambda self, *args, **kwargs: None
    Task.apply_async = lambda self, *args, **kwargs: None


# --- the worker process ------------------------------------------------------------------------


def worker(jobs, results, barrier) -> None:
    from django.template.loader import render_to_string
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from certificates import pdf, services
    from certificates.models import EligibilityCertificate, PrintFile
    from certificates.services import print_files

    _no_messages()
    fonts = FontConfiguration()
    css = CSS(string=render_to_string("certificates/pdf/print.css"), base_url=pdf.BASE_URL, font_config=fonts)

    def floor_pages(print_file_id: int) -> list[dict]:
        print_file = PrintFile.objects.get(pk=print_file_id)
        ids = [pk for group in print_file.plan for pk in group["ids"]]
        certificates = {c["pk"]: c for c in EligibilityCertificate.objects.filter(pk__in=ids)
                        .values("pk", "serial", "snapshot", "valid_until")}
        return [p for chunk in print_files._chunks(print_file, certificates, len(ids) + 1) for p in chunk]

    # Warm, as a long-lived worker is: fonts, templates, the stylesheet.
    sample = {"serial": "2026-0000001", "name": "山田 太郎", "name_kana": "ヤマダ タロウ", "birth_date": "1985-11-14",
              "sex": "男", "symbol": "1", "number": "1", "branch_number": "00", "insurer_number": "06139999",
              "insurer_name": "健康保険組合", "insurer_address": "東京都", "insurer_phone": "", "issued_on": "2026-11-25",
              "valid_until": "2031-11-24", "eligible_from": "2010-04-01", "is_insured_person": True,
              "insured_name": "", "copay_ratio": "", "copay_from": "", "employer_name": "事業所",
              "voluntary_continuation": False, "delivery_route": "employer", "postal_code": "", "address": ""}
    pdf.render_certificates([sample])
    HTML(string=pdf.render_html(pages=[sample]), base_url=pdf.BASE_URL).write_pdf(stylesheets=[css], font_config=fonts)
    results.put(("ready", os.getpid()))
    cpu = wall = 0.0
    sheets = 0
    while True:
        job = jobs.get()
        if job is None:
            results.put(("bye", os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
            return
        kind, arg = job
        if kind == "report":  # the end of a phase: what this process did in it
            results.put(("report", os.getpid(), cpu, wall, sheets, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
            barrier.wait()  # one report each: nobody takes a second while another still works
            cpu = wall = 0.0
            sheets = 0
            continue
        pages = floor_pages(arg) if kind == "floor" else None  # reading the sheets is not the floor's work
        started, started_cpu = time.perf_counter(), time.process_time()
        if kind == "issue":
            batch_id, item_ids = arg
            sheets += services.batch_process_chunk(batch_id=batch_id, item_ids=item_ids)
        elif kind == "render":
            services.print_file_assemble(print_file_id=arg)
            sheets += PrintFile.objects.get(pk=arg).certificate_count
        elif kind == "floor":
            HTML(string=pdf.render_html(pages=pages), base_url=pdf.BASE_URL).write_pdf(
                stylesheets=[css], font_config=fonts)
            sheets += sum(1 for p in pages if "cover" not in p)
        wall += time.perf_counter() - started
        cpu += time.process_time() - started_cpu


# --- the coordinator ---------------------------------------------------------------------------


class Pool:
    def __init__(self, processes: int):
        ctx = mp.get_context("spawn")
        self.jobs, self.results, barrier = ctx.Queue(), ctx.Queue(), ctx.Barrier(processes)
        self.procs = [ctx.Process(target=worker, args=(self.jobs, self.results, barrier)) for _ in range(processes)]
        for p in self.procs:
            p.start()
        for _ in self.procs:
            assert self.results.get(timeout=600)[0] == "ready"

    def run(self, jobs: list) -> dict:
        """The jobs, taken by whichever process is free; wall time until all are done, and
        the processes' CPU and busy time."""
        started = time.perf_counter()
        for job in jobs:
            self.jobs.put(job)
        for _ in self.procs:
            self.jobs.put(("report", None))
        reports = [self.results.get(timeout=3600) for _ in self.procs]
        wall = time.perf_counter() - started
        assert all(r[0] == "report" for r in reports)
        return {"wall": wall, "cpu": sum(r[2] for r in reports), "busy": [r[3] for r in reports],
                "sheets": sum(r[4] for r in reports), "peak_rss_mb": max(r[5] for r in reports)}

    def close(self) -> float:
        for _ in self.procs:
            self.jobs.put(None)
        peaks = [self.results.get(timeout=600)[2] for _ in self.procs]
        for p in self.procs:
            p.join()
        return max(peaks)


def one_configuration(processes: int, files_per_process: int) -> dict:
    from django.conf import settings

    from certificates import services
    from certificates.models import PrintFile
    from certificates.selectors import ex_officio_candidates
    from eligibility.selectors import today

    day = today()
    per_file = settings.KENPO_PRINT_FILE_MAX_PAGES - -(-settings.KENPO_PRINT_FILE_MAX_PAGES
                                                      // (services.print_files.COVER_ROWS_PER_PAGE + 1))
    wanted = per_file * files_per_process * processes
    pool = Pool(processes)
    # Candidates in employer order (a whole run's files are full files of one employer each).
    ids = list(ex_officio_candidates(today=day).order_by("household__employer_id", "pk")
               .values_list("pk", flat=True)[:wanted])
    if len(ids) < wanted:
        raise SystemExit(f"only {len(ids)} ex-officio candidates left; seed a bigger database")
    started = time.perf_counter()
    batch = services.batch_start(candidates=ex_officio_candidates(today=day).filter(pk__in=ids), started_by=None,
                                 filter_description="bench/certificates_scale.py")
    issue = pool.run([("issue", (batch.pk, chunk)) for chunk in services.batch_chunks(batch_id=batch.pk)])
    planned = time.perf_counter()
    services.batch_assemble_print_files(batch_id=batch.pk)
    files = list(PrintFile.objects.filter(batch=batch).order_by("-certificate_count", "pk")
                 .values_list("pk", flat=True))
    plan = time.perf_counter() - planned
    render = pool.run([("render", pk) for pk in files])
    total = time.perf_counter() - started
    floor = pool.run([("floor", pk) for pk in files])
    pool.close()
    batch.refresh_from_db()
    return {"processes": processes, "issued": issue["sheets"], "rendered": render["sheets"], "files": len(files),
            "issue": issue, "plan": plan, "render": render, "floor": floor, "total": total, "peak_rss_mb": render["peak_rss_mb"],
            "floor_peak_rss_mb": floor["peak_rss_mb"],
            "status": batch.status, "load": os.getloadavg()[0]}


def main() -> None:
    from django.conf import settings

    from certificates import pdf

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--files-per-process", type=int, default=2)
    args = parser.parse_args()
    _no_messages()
    settings.KENPO_FOUR_EYES = False  # the bench starts the batch itself
    print(f"cores: {os.cpu_count()}; harfbuzz-subset: {pdf.harfbuzz_subset_available()}; "
          f"KENPO_PRINT_CHUNK_SHEETS={settings.KENPO_PRINT_CHUNK_SHEETS}, "
          f"KENPO_PRINT_FILE_MAX_PAGES={settings.KENPO_PRINT_FILE_MAX_PAGES}; "
          f"load average before {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    try:
        for processes in args.processes:
            r = one_configuration(processes, args.files_per_process)
            rows.append(r)
            render, floor, issue = r["render"], r["floor"], r["issue"]
            print(f"\n{processes} process(es): {r['issued']} issued, {r['rendered']} rendered in {r['files']} print "
                  f"files, batch {r['status']}; load average {r['load']:.2f}", flush=True)
            print(f"   issue (batch_process_chunk)      {issue['wall']:6.1f} s  {r['issued'] / issue['wall']:7.1f}/s "
                  f"  CPU {1000 * issue['cpu'] / r['issued']:5.1f} ms/certificate (workers)")
            print(f"   plan (batch_assemble_print_files) {r['plan']:5.1f} s")
            print(f"   render (print_file_assemble)     {render['wall']:6.1f} s  {r['rendered'] / render['wall']:7.1f}/s"
                  f" = {r['rendered'] / render['wall'] / processes:5.1f}/s per process  CPU "
                  f"{1000 * render['cpu'] / r['rendered']:5.1f} ms/sheet")
            print(f"   floor (bare WeasyPrint, no DB)   {floor['wall']:6.1f} s  {floor['sheets'] / floor['wall']:7.1f}/s"
                  f" = {floor['sheets'] / floor['wall'] / processes:5.1f}/s per process  CPU "
                  f"{1000 * floor['cpu'] / floor['sheets']:5.1f} ms/sheet")
            print(f"   end to end (start → every file rendered) {r['total']:6.1f} s  {r['rendered'] / r['total']:7.1f}"
                  f" certificates/s; render / floor = {render['wall'] / floor['wall']:.2f} wall, "
                  f"{render['cpu'] / floor['cpu']:.2f} CPU; peak RSS of a worker {r['peak_rss_mb']:.0f} MB "
                  f"(after the floor's 300-page documents {r['floor_peak_rss_mb']:.0f} MB)", flush=True)
    finally:
        shutil.rmtree(os.environ["KENPO_BENCH_MEDIA"], ignore_errors=True)

    print("\n| processes | certificates/s end to end (per process) | render only /s (per process) | floor /s "
          "(per process) | CPU ms/sheet ours / floor | peak RSS |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        p = r["processes"]
        e2e, ren, flo = r["rendered"] / r["total"], r["rendered"] / r["render"]["wall"], \
            r["floor"]["sheets"] / r["floor"]["wall"]
        print(f"| {p} | {e2e:.1f} ({e2e / p:.1f}) | {ren:.1f} ({ren / p:.1f}) | {flo:.1f} ({flo / p:.1f}) | "
              f"{1000 * r['render']['cpu'] / r['rendered']:.1f} / {1000 * r['floor']['cpu'] / r['floor']['sheets']:.1f}"
              f" | {r['peak_rss_mb']:.0f} MB |")
    # The projection: a core's rate is what one process does with a core to itself; with
    # more processes than cores (4 on 2 here) the rate per process only shows the sharing.
    cores = os.cpu_count() or 1
    per_core = [r["rendered"] / r["total"] / r["processes"] for r in rows if r["processes"] <= cores]
    cpu_per_sheet = statistics.median(
        (r["issue"]["cpu"] + r["render"]["cpu"]) / r["rendered"] for r in rows)
    if per_core:
        rate = min(per_core)
        print(f"\nprojection, 300,000 certificates on 8 worker cores: the lower per-core end-to-end rate at "
              f"1–{cores} processes, {rate:.1f}/s × 8 = {8 * rate:.0f}/s → {300_000 / (8 * rate) / 60:.0f} min "
              f"(goal < 30 min, ≥ 170/s); by CPU alone ({1000 * cpu_per_sheet:.1f} ms a certificate, issue + "
              f"render, in the workers): {8 / cpu_per_sheet:.0f}/s → {300_000 * cpu_per_sheet / 8 / 60:.0f} min")


if __name__ == "__main__":
    main()
