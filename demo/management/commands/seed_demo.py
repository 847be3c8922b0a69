"""Create a believable demo society, with one member login and one staff login.

    python manage.py seed_demo                   # 300 persons, the embedded default
    python manage.py seed_demo --persons 1000000 # a large society, in minutes (COPY)
    python manage.py seed_demo --if-empty        # only when there is no society yet

Under production settings (DJANGO_ENV=production) it refuses to run unless given
``--allow-production``: the demo staff login's password is public (README).

Writes with PostgreSQL's COPY (bulk_create in batches elsewhere): never a query per row.
"""

import io
import time
from datetime import date, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from certificates.demo import add_demo_certificates
from eligibility import demo_data, rules
from eligibility.linking import issue_activation_code
from eligibility.models import (
    CardFacts,
    Employer,
    EmployerContact,
    Household,
    MemberLink,
    Person,
    Society,
)
from eligibility.selectors import today as today_in_japan

MEMBER_EMAIL = "member@example.jp"
STAFF_EMAIL = "staff@example.jp"
# Two employer contacts (事業所担当者, R12): the member's own 事業所, and two others.
EMPLOYER_CONTACTS = (("hr@example.jp", "人事 一郎"), ("hr2@example.jp", "総務 花子"))
DEMO_PASSWORD = "kenpo-demo-2025"  # noqa: S105 - printed demo credentials, local only
CHUNK = 20_000  # households per COPY round


def _copy_value(field: models.Field, obj) -> str:
    value = field.get_db_prep_save(getattr(obj, field.attname), connection)
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def write_rows(model: type[models.Model], objs: list[models.Model]) -> None:
    """Insert ``objs`` (with their primary keys set) in one COPY, or bulk_create."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=500)
        return
    fields = [f for f in model._meta.concrete_fields]
    buffer = io.StringIO()
    for obj in objs:
        buffer.write("\t".join(_copy_value(f, obj) for f in fields))
        buffer.write("\n")
    buffer.seek(0)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {model._meta.db_table} ({columns}) FROM STDIN", buffer)


def reset_sequences(*models_: type[models.Model]) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            pk = model._meta.pk.column
            if not isinstance(model._meta.pk, models.AutoField | models.BigAutoField):
                continue
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{pk}'), COALESCE(MAX({pk}), 1)) FROM {table}"  # noqa: S608
            )


class Command(BaseCommand):
    help = "デモ用の健康保険組合（事業所・世帯・加入者・カード情報）とログインを作成します。"

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=300, help="how many persons (default 300)")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when a society exists")
        parser.add_argument("--seed", type=int, default=20251202)
        parser.add_argument("--allow-production", action="store_true",
                            help="run under DJANGO_ENV=production too (its staff password is public)")

    def handle(self, *args, persons: int, if_empty: bool, seed: int, allow_production: bool = False, **options):
        if settings.PRODUCTION and not allow_production:
            raise CommandError("本番の設定（DJANGO_ENV=production）では実行しません。デモの職員ログインのパスワードは"
                               "公開されています。試用の環境なら --allow-production を付けてください。 / "
                               "Refusing under production settings: the demo staff password is public. "
                               "Add --allow-production on a trial system.")
        if persons < 4:
            raise CommandError("--persons は4以上を指定してください。 / --persons must be at least 4.")
        if Society.objects.exists():
            if if_empty:
                self.stdout.write("デモデータは作成済みです。 / Demo data already exists.")
                self._print_logins(self._try_linking())
                return
            raise CommandError(
                "すでに保険者のデータがあります。空のデータベースで実行してください。 / "
                "A society already exists: run this on an empty database."
            )
        started = time.monotonic()
        today = today_in_japan()
        with transaction.atomic():  # a failed seed leaves nothing behind
            society = Society.objects.create(**demo_data.SOCIETY)
            employers = [
                Employer.objects.create(society=society, code=f"{i + 1:04d}", name=name, address=address)
                for i, (name, address) in enumerate(demo_data.EMPLOYERS)
            ]
            total = self._write_households(society, employers, persons, today, seed)
            linking = self._make_logins(today)
            add_demo_certificates(today=today)  # a few certificates, so the ex-officio list shows renewals
        self._analyze()
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"{total:,} 人のデモデータを作成しました（{elapsed:.1f} 秒）。 / Created {total:,} persons in {elapsed:.1f} s."))
        self._print_logins(linking)

    def _write_households(self, society, employers, persons, today, seed) -> int:
        now = timezone.now()
        next_household_id = (Household.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1
        next_person_id = (Person.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1
        total = 0
        generator = demo_data.generate(persons=persons, today=today, seed=seed)
        while True:
            chunk = [h for _, h in zip(range(CHUNK), generator, strict=False)]
            if not chunk:
                break
            households, people, cards = [], [], []
            for demo in chunk:
                household = Household(
                    id=next_household_id,
                    society_id=society.id,
                    employer_id=employers[demo.employer_index].id,
                    symbol=demo.symbol,
                    number=demo.number,
                    voluntary_continuation=demo.voluntary_continuation,
                    voluntary_continuation_ends_on=demo.voluntary_continuation_ends_on,
                    postal_code="100-0005" if demo.voluntary_continuation else "",
                    address="東京都千代田区丸の内1-1-1" if demo.voluntary_continuation else "",
                    email_reminders=True,
                )
                households.append(household)
                for p in demo.persons:
                    person = Person(
                        id=next_person_id,
                        household_id=household.id,
                        branch_number=p.branch_number,
                        relationship=p.relationship,
                        family_name=p.family_name,
                        given_name=p.given_name,
                        family_name_kana=p.family_name_kana,
                        given_name_kana=p.given_name_kana,
                        sex=p.sex,
                        birth_date=p.birth_date,
                        eligible_from=p.eligible_from,
                        eligible_until=p.eligible_until,
                        certificate_wanted=p.certificate_wanted,
                        my_number_registered=p.my_number_registered,
                    ).fill_search_text()  # COPY skips save()
                    people.append(person)
                    cards.append(
                        CardFacts(
                            person_id=person.id,
                            has_card=p.has_card,
                            card_expires_on=p.card_expires_on,
                            ecert_expires_on=p.ecert_expires_on,
                            ecert_source=CardFacts.EcertSource.STATED if p.has_card else CardFacts.EcertSource.UNKNOWN,
                            registered=p.registered,
                            registration_source=CardFacts.RegistrationSource.NATIONAL_FILE if p.has_card else "",
                            registration_as_of=today.replace(day=1) if p.has_card else None,
                            uses_smartphone=p.uses_smartphone,
                            updated_at=now,
                        ).derive()
                    )
                    next_person_id += 1
                next_household_id += 1
            write_rows(Household, households)
            write_rows(Person, people)
            write_rows(CardFacts, cards)
            total += len(people)
            self.stdout.write(f"  … {total:,} persons", ending="\r")
            self.stdout.flush()
        reset_sequences(Household, Person)
        self.stdout.write("")
        return total

    def _analyze(self) -> None:
        """Fresh planner statistics, so the first queries on a big table use the indexes."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Household, Person, CardFacts):
                    cursor.execute(f"ANALYZE {model._meta.db_table}")

    def _make_logins(self, today: date) -> tuple[Person, str]:
        """The member login owns the first household, shaped to show every situation."""
        household = Household.objects.order_by("id").first()
        insured = household.persons.get(branch_number="00")
        # A household that shows the main situations side by side: the insured
        # person may renew now, the spouse has not registered the card, the child
        # has no card, and the grandmother's certificate expired 40 days ago (grace).
        soon = today + timedelta(days=45)
        insured.birth_date = rules.birthday_in(soon, insured.birth_date.year)
        insured.save(update_fields=["birth_date"])

        def issued_facts(birth: date, issued_on: date, **extra) -> dict:
            card = rules.card_expiry(birth, issued_on)
            return {"has_card": True, "card_expires_on": card,
                    "ecert_expires_on": rules.ecert_expiry(birth, issued_on, card_expires_on=card), **extra}

        ecert = rules.birthday_in(insured.birth_date, soon.year)
        crafted = [(insured, {"has_card": True, "registered": True, "ecert_expires_on": ecert,
                              "card_expires_on": rules.birthday_in(ecert, ecert.year + 5)})]
        spouse_birth = insured.birth_date + timedelta(days=700)
        grandmother_birth = rules.birthday_in(today - timedelta(days=40), today.year - 72)  # 72: under 75 (R11)
        grandmother_ecert = today - timedelta(days=40)
        extras = [
            ("spouse", "F", "美咲", "ミサキ", spouse_birth, issued_facts(spouse_birth, today - timedelta(days=400), registered=False)),
            ("child", "M", "蓮", "レン", date(today.year - 9, 5, 5), {"has_card": False}),
            ("parent", "F", "和子", "カズコ", grandmother_birth, {
                "has_card": True, "registered": True, "ecert_expires_on": grandmother_ecert,
                "card_expires_on": rules.birthday_in(grandmother_birth, grandmother_ecert.year + 5)}),
        ]
        Person.objects.filter(household=household).exclude(pk=insured.pk).delete()
        for i, (relationship, sex, given, kana, birth, facts) in enumerate(extras, start=1):
            person = Person.objects.create(
                household=household, branch_number=f"{i:02d}", relationship=relationship, family_name=insured.family_name,
                given_name=given, family_name_kana=insured.family_name_kana, given_name_kana=kana, sex=sex,
                birth_date=birth, eligible_from=max(insured.eligible_from, birth),  # never before birth
            )
            crafted.append((person, facts))
        for person, facts in crafted:
            CardFacts.objects.update_or_create(person=person, defaults={
                "ecert_source": CardFacts.EcertSource.STATED, "registration_source": CardFacts.RegistrationSource.MEMBER,
                "registration_as_of": today, "card_expires_on": None, "ecert_expires_on": None, "registered": False, **facts})
        User = get_user_model()
        member = User.objects.create_user(username="member", email=MEMBER_EMAIL, password=DEMO_PASSWORD)
        EmailAddress.objects.create(user=member, email=MEMBER_EMAIL, verified=True, primary=True)
        MemberLink.objects.create(user=member, person=insured)
        staff = User.objects.create_user(username="staff", email=STAFF_EMAIL, password=DEMO_PASSWORD, is_staff=True, is_superuser=True)
        EmailAddress.objects.create(user=staff, email=STAFF_EMAIL, verified=True, primary=True)
        self._make_employer_contacts(first_employer=household.employer)
        return self._try_linking()

    def _try_linking(self) -> tuple[Person, str] | None:
        """A second household's insured person, not linked yet, and a fresh activation code
        for them (a code is stored hashed: each run issues one to print)."""
        first = Household.objects.order_by("id").first()
        second = (Person.objects.filter(relationship=Person.Relationship.SELF, member_links__isnull=True)
                  .exclude(household=first).order_by("id").first())
        staff = get_user_model().objects.filter(email=STAFF_EMAIL).first()
        if second is None or staff is None:
            return None
        return second, issue_activation_code(person=second, created_by=staff)

    def _make_employer_contacts(self, *, first_employer) -> None:
        User = get_user_model()
        others = list(Employer.objects.exclude(pk=getattr(first_employer, "pk", None)).order_by("code")[:2])
        for (email, name), employers in zip(EMPLOYER_CONTACTS, ([first_employer], others), strict=True):
            user = User.objects.create_user(username=email.split("@")[0], email=email, password=DEMO_PASSWORD)
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            contact = EmployerContact.objects.create(user=user, name=name)
            contact.employers.set([e for e in employers if e is not None])

    def _print_logins(self, linking: tuple[Person, str] | None) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("ログイン / Logins"))
        self.stdout.write(f"  加入者 / member : {MEMBER_EMAIL} / {DEMO_PASSWORD}")
        self.stdout.write(f"  職員 / staff    : {STAFF_EMAIL} / {DEMO_PASSWORD}  (初回ログイン時に二段階認証を設定 / set up MFA at first login)")
        for email, _name in EMPLOYER_CONTACTS:
            employers = "、".join(Employer.objects.filter(contacts__user__email=email).order_by("code")
                                 .values_list("name", flat=True))
            self.stdout.write(f"  事業所担当者 / employer contact : {email} / {DEMO_PASSWORD}  ({employers}; "
                              "初回ログイン時に二段階認証を設定 / set up MFA at first login; /employer/)")
        if linking:
            second, code = linking
            h = second.household
            self.stdout.write(
                f"  連携のお試し / try linking: 新規登録して / sign up, then 記号 {h.symbol} 番号 {h.number} 枝番 {second.branch_number}, "
                f"生年月日 {second.birth_date.isoformat()}, 連携コード / code {code}"
            )
