"""``manage.py setup_society``: day one — the society, its employers and the first 管理者.

    python manage.py setup_society                     # asks for each value
    KENPO_ADMIN_PASSWORD=… python manage.py setup_society --no-input \\
        --insurer-number 06123456 --name "…健康保険組合" --address "…" --phone 03-… \\
        --hours "平日 9:00〜17:00" --employer E0001="…株式会社" --admin-email it@…

The first 管理者's e-mail address is stored as verified, so the first login needs no
e-mail (SMTP may not be set up yet); the login then asks to set up MFA (docs/operations.md,
"Day one"). The password is asked twice, or read from ``KENPO_ADMIN_PASSWORD`` with
``--no-input`` — never a flag, which ``ps`` and the shell's history would show.

Run again, it updates the society's details and adds or renames the employers given; a
staff member whose address exists already is left as is (password included).
"""

from __future__ import annotations

import getpass
import os

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from eligibility.models import Employer, Society
from staff.roles import MANAGER, sync_roles

# (option = the Society field, prompt)
SOCIETY_FIELDS = (
    ("insurer_number", "保険者番号（06で始まる8桁） / insurer number (8 digits, 06…)"),
    ("name", "保険者名称 / society name"),
    ("address", "所在地 / address"),
    ("phone", "電話番号（会員向けの問い合わせ先） / phone for members"),
    ("hours", "受付時間 / opening hours"),
)
PASSWORD_ENV = "KENPO_ADMIN_PASSWORD"  # noqa: S105 - the variable's name, not a password


def _messages(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(str(m) for m in msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(str(m) for m in error.messages)


class Command(BaseCommand):
    help = "初日の設定：保険者（名称・所在地・電話・受付時間）、事業所、最初の管理者を作成します。"

    def add_arguments(self, parser):
        for option, prompt in SOCIETY_FIELDS:
            parser.add_argument(f"--{option.replace('_', '-')}", dest=option, help=prompt)
        parser.add_argument("--employer", action="append", default=[], metavar="CODE=NAME",
                            help="事業所番号=事業所名称（繰り返し可） / an employer office (repeatable)")
        parser.add_argument("--admin-email", help="最初の管理者のメールアドレス / the first 管理者's e-mail")
        parser.add_argument("--no-input", action="store_false", dest="interactive",
                            help=f"質問しない（パスワードは環境変数 {PASSWORD_ENV}） / ask nothing; password from {PASSWORD_ENV}")

    def handle(self, *args, interactive: bool, employer: list[str], admin_email: str | None, **options):
        existing = Society.objects.order_by("pk").first()
        values = {}
        for option, prompt in SOCIETY_FIELDS:
            value = options[option]
            if value is None and existing is None:
                value = self._ask(prompt, interactive, default="平日 9:00〜17:00" if option == "hours" else None,
                                  optional=option == "phone")
            if value is not None:
                values[option] = value.strip()
        employers = [self._employer(item) for item in employer]
        if admin_email is None and not self._has_manager():
            admin_email = self._ask("最初の管理者のメールアドレス / the first 管理者's e-mail", interactive)
        admin_email = admin_email.strip().lower() if admin_email else None
        User = get_user_model()
        new_admin = bool(admin_email) and not User.objects.filter(email__iexact=admin_email).exists()
        if admin_email:
            try:
                validate_email(admin_email)
            except ValidationError as exc:
                raise CommandError(f"{admin_email}: {_messages(exc)}") from None
        password = self._password(interactive, admin_email) if new_admin else None

        with transaction.atomic():
            society = existing or Society()
            for field, value in values.items():
                setattr(society, field, value)
            try:
                society.full_clean()
            except ValidationError as exc:
                raise CommandError(_messages(exc)) from None
            society.save()
            for code, name in employers:
                Employer.objects.update_or_create(society=society, code=code, defaults={"name": name})
            if new_admin:
                self._create_manager(admin_email, password)
        verb = "更新しました / updated" if existing else "作成しました / created"
        self.stdout.write(self.style.SUCCESS(f"保険者「{society.name}」（{society.insurer_number}）を{verb}."))
        for code, name in employers:
            self.stdout.write(f"  事業所 / employer {code}: {name}")
        if new_admin:
            self.stdout.write(self.style.SUCCESS(f"管理者 {admin_email} を作成しました / created the 管理者 {admin_email}."))
            self.stdout.write("  初回ログインで二段階認証（認証アプリ）を設定します / the first login sets up MFA (an authenticator app).")
        elif admin_email:
            self.stdout.write(f"{admin_email} はすでに登録されています（変更なし） / already exists (unchanged).")

    def _ask(self, prompt: str, interactive: bool, *, default: str | None = None, optional: bool = False) -> str:
        if not interactive:
            if default is not None or optional:
                return default or ""
            raise CommandError(f"--no-input: 指定してください / please give: {prompt}")
        suffix = f" [{default}]" if default else ""
        while True:
            value = input(f"{prompt}{suffix}: ").strip() or (default or "")
            if value or optional:
                return value

    def _employer(self, item: str) -> tuple[str, str]:
        code, _, name = item.partition("=")
        if not code.strip() or not name.strip():
            raise CommandError(f"--employer {item!r}: 事業所番号=事業所名称 の形で / use CODE=NAME")
        return code.strip(), name.strip()

    def _has_manager(self) -> bool:
        return get_user_model().objects.filter(is_staff=True, groups__name=MANAGER).exists()

    def _password(self, interactive: bool, email: str) -> str:
        User = get_user_model()
        probe = User(username=email, email=email)
        if not interactive:
            password = os.environ.get(PASSWORD_ENV, "")
            if not password:
                raise CommandError(f"--no-input: 環境変数 {PASSWORD_ENV} にパスワードを / set {PASSWORD_ENV}")
            try:
                validate_password(password, probe)
            except ValidationError as exc:
                raise CommandError(_messages(exc)) from None
            return password
        while True:
            password = getpass.getpass("パスワード / password: ")
            if password != getpass.getpass("もう一度 / again: "):
                self.stderr.write("一致しません / they differ.")
                continue
            try:
                validate_password(password, probe)
            except ValidationError as exc:
                self.stderr.write(_messages(exc))
                continue
            return password

    def _create_manager(self, email: str, password: str) -> None:
        sync_roles()  # the role groups exist after migrate; this makes sure of it
        User = get_user_model()
        user = User.objects.create_user(username=email, email=email, password=password, is_staff=True)
        user.groups.add(Group.objects.get(name=MANAGER))
        # Verified: the first login needs no e-mail (SMTP may not be set up on day one).
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
