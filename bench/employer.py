"""Benchmark: the employer door for one 事業所 with 20,000 employees and their dependents.

    createdb -h 127.0.0.1 -U postgres kenpo_bench_employer
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/kenpo_bench_employer
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/employer.py [--employees 20000] [--runs 5]

Seeds once (idempotent: the 事業所 BENCH20K): the employees, one dependent for every
second one (30,000 persons), a certificate each issued as a batch would, its print files
of KENPO_PRINT_FILE_MAX_PAGES (one 事業所 per file, so each packet has at most ~290
items), half the packets handed over, 1,000 leavers voided after handover (the 回収 list).
Then, in process with Django's test client, as the 事業所's contact (TOTP session) and
as a 閲覧 staff member: every employer page and the staff pages of the route, each beside
its floor — the bare query of what the page shows, the bare csv module over the same rows,
bare WeasyPrint over the same HTML. Target: no page over 1 s. Lists are paginated; a
packet's 一覧表 (PDF/CSV) is bounded by the print file's size, so it stays a request: the
PDF is the printed cover sheet cut from the rendered print file (the newest packet's file
is rendered once here), and rendering it again is timed beside it.
"""

import argparse
import csv
import io
from datetime import date

from _setup import time_pages, timed  # sets Django up first
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from certificates import pdf, tasks
from certificates.models import Basis, EligibilityCertificate, IssueBatch, PacketItem
from certificates.services import packets
from certificates.services.certificates import _new_certificates
from certificates.services.print_files import _create_files, _plan, print_file_assemble
from eligibility.models import Employer, EmployerContact, Household, Person, Society
from employer import lists
from staff.roles import VIEWER, sync_roles
from staff.testing import login_with_mfa, make_staff

CODE = "BENCH20K"
CONTACT = "bench-employer-contact@example.jp"
STAFF = "bench-employer-staff@example.jp"


def seed(employees: int) -> Employer:
    employer = Employer.objects.filter(code=CODE).first()
    if employer is not None:
        return employer
    society = Society.objects.first() or Society.objects.create(insurer_number="06139999", name="ベンチ健保",
                                                               address="東京都千代田区")
    employer = Employer.objects.create(society=society, code=CODE, name="ベンチ二万人株式会社")
    today = timezone.localdate()
    with transaction.atomic():
        homes = Household.objects.bulk_create(
            Household(society=society, employer=employer, symbol="88", number=str(100000 + i)) for i in range(employees))
        persons = []
        for i, home in enumerate(homes):
            persons.append(Person(household=home, branch_number="00", relationship="self", family_name=f"社員{i}",
                                  given_name="太郎", family_name_kana="シャイン", given_name_kana="タロウ", sex="M",
                                  birth_date=date(1980 + i % 20, 1 + i % 12, 1 + i % 28), eligible_from=date(2015, 4, 1)))
            if i % 2 == 0:
                persons.append(Person(household=home, branch_number="01", relationship="child", family_name=f"社員{i}",
                                      given_name="花子", family_name_kana="シャイン", given_name_kana="ハナコ", sex="F",
                                      birth_date=date(2015, 1 + i % 12, 1 + i % 28), eligible_from=date(2015, 4, 1)))
        Person.objects.bulk_create([p.fill_search_text() for p in persons], batch_size=5000)
        loaded = list(Person.objects.filter(household__employer=employer)
                      .select_related("household__society", "household__employer"))
        batch = IssueBatch.objects.create(status=IssueBatch.Status.ASSEMBLING, total=len(loaded))
        certificates = _new_certificates(persons=loaded, bases={p.pk: Basis.CUTOFF for p in loaded},
                                         issued_by=None, today=today, batch=batch)
        EligibilityCertificate.objects.bulk_create(certificates, batch_size=5000)
        # Planned as a batch plans them; not rendered (the render is bench/pdf.py's subject).
        tasks.assemble_print_file.delay = lambda *args, **kwargs: None
        files = _create_files(plans=_plan(batch.certificates.all()), batch=batch)
    # As if rendered: each file's packet (the render itself is bench/pdf.py's subject).
    for print_file in files:
        packets.packets_make(print_file=print_file, certificate_ids=[pk for g in print_file.plan for pk in g["ids"]])
    EligibilityCertificate.objects.filter(batch=batch).update(status="mailed")
    all_packets = list(employer.packets.order_by("pk"))
    for packet in all_packets[: len(all_packets) // 2]:
        packet.items.update(state=PacketItem.State.HANDED, recorded_at=timezone.now())
    handed = list(PacketItem.objects.filter(packet__employer=employer, state="handed",
                                            certificate__person__relationship="self")
                  .values_list("certificate__person_id", flat=True)[:1000])
    Person.objects.filter(pk__in=handed).update(eligible_until=today)
    EligibilityCertificate.objects.filter(person_id__in=handed).update(
        status="void", void_reason="eligibility_ended", voided_at=timezone.now())
    print(f"seeded: {len(loaded):,} persons, {len(files)} print files / packets")
    return employer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    employer = seed(args.employees)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    persons = Person.objects.filter(household__employer=employer).count()
    packet = employer.packets.order_by("-pk").first()
    items = packet.items.count()
    print(f"事業所 {employer.code}: {persons:,} persons, {employer.packets.count()} packets; "
          f"the newest packet has {items} items; to collect: {packets.to_collect(employer).count():,}")

    contact_user = EmployerContact.objects.filter(user__email=CONTACT).values_list("user", flat=True).first()
    if contact_user is None:
        from employer.tests.conftest import make_contact

        user = make_contact(employer, email=CONTACT)
    else:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.get(pk=contact_user)
    client = Client()
    login_with_mfa(client, user)
    base = f"/employer/{employer.pk}"
    # The process's first request pays for imports and template compilation (as a fresh
    # worker's first request would): timed apart from the pages.
    timed("contact: first request of this process (cold)", lambda: client.get(f"{base}/"), 1)
    worst = time_pages(client, [
        ("contact: the 事業所's page (packets, page 1)", f"{base}/"),
        ("contact: the 事業所's page (packets, last page)", f"{base}/?page=last"),
        (f"contact: a packet ({min(items, 100)} of {items} rows, audited)", f"{base}/packets/{packet.pk}/"),
        ("contact: a packet, still unconfirmed only", f"{base}/packets/{packet.pk}/?state=out"),
        ("contact: the 回収 list (page 1)", f"{base}/collections/"),
        ("contact: the 回収 list (last page)", f"{base}/collections/?page=last"),
        ("contact: the application search form", f"{base}/apply/"),
    ], args.runs)

    def page_floor():
        list(packets.packet_rows(packet)[:100])
    timed("  floor: the packet page's rows, bare query", page_floor, args.runs)

    def find():
        response = client.post(f"{base}/apply/", {"symbol": "88", "number": str(100000 + args.employees // 2)})
        assert response.status_code == 200
    worst = max(worst, timed("contact: find a household by 記号・番号 (POST)", find, args.runs))

    def download_csv():
        response = client.get(f"{base}/packets/{packet.pk}/list.csv?encoding=cp932")
        assert response.status_code == 200
        b"".join(response.streaming_content)
    worst = max(worst, timed(f"contact: the 一覧表 as CSV ({items} rows, CP932, audited)", download_csv, args.runs))
    rows = [list(packets.list_row(r["certificate__snapshot"]).values()) for r in packets.packet_rows(packet)]

    def csv_floor():
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        out.getvalue().encode("cp932", errors="replace")
    timed("  floor: bare csv module over the same rows", csv_floor, args.runs)

    if not packet.print_file.pdf:  # render this one print file, as the pdf worker would have
        print_file_assemble(print_file_id=packet.print_file_id)
        packet.refresh_from_db()

    def download_pdf():
        response = client.get(f"{base}/packets/{packet.pk}/list.pdf")
        assert response.status_code == 200
    worst = max(worst, timed(f"contact: the 一覧表 as PDF ({items} rows, cut from the print file)", download_pdf,
                             args.runs))
    timed(f"  without the print file: rendered again ({items} rows)",
          lambda: lists.pdf(employer=employer, packet=packet, rows=list(packets.packet_rows(packet))), args.runs)
    html = pdf.render_html(pages=[{"cover": {"title": "一覧表", "employer_name": employer.name, "source": "",
                                             "rows": [packets.list_row(r["certificate__snapshot"])
                                                      for r in packets.packet_rows(packet)]}}])

    def pdf_floor():
        pdf.html_to_pdf(html)
    timed("  floor: bare WeasyPrint over the same HTML", pdf_floor, args.runs)

    sync_roles()
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.filter(email=STAFF).first() or make_staff(role=VIEWER, email=STAFF)
    staff_client = Client()
    login_with_mfa(staff_client, staff)
    worst = max(worst, time_pages(staff_client, [
        ("staff: the 事業所 list (figures per 事業所)", "/staff/employers/"),
        ("staff: the 事業所's page (returns, overdue, applications)", f"/staff/employers/{employer.pk}/"),
    ], args.runs))
    print(f"worst of all: {worst * 1000:.0f} ms ({'OK' if worst < 1 else 'OVER'} the 1 s target)")


if __name__ == "__main__":
    main()
