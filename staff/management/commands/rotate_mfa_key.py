"""Re-encrypt every stored MFA secret with the first KENPO_MFA_ENCRYPTION_KEY (issue 24, 10).

The staff's TOTP secrets and recovery-code seeds are encrypted at rest (core.adapters):
the key is part of the backup. To change the key, or after restoring a database that
was encrypted under another key (e.g. a DJANGO_SECRET_KEY that has since changed):

1. set ``KENPO_MFA_ENCRYPTION_KEY=<new>,<old>`` (the new key first; the old one is the
   old ``KENPO_MFA_ENCRYPTION_KEY``, or the old ``DJANGO_SECRET_KEY`` when none was set);
2. ``python manage.py rotate_mfa_key`` — each secret that any key decrypts is encrypted
   again with the new key; the others are named (the login, never the secret);
3. set ``KENPO_MFA_ENCRYPTION_KEY=<new>`` and restart the web and worker processes.

``--check`` changes nothing: it counts what the first key, another key, or no key reads.
A login whose secret no key reads sets MFA up again after a 管理者 revokes its
authenticator in the admin (audited).
"""

from allauth.mfa.models import Authenticator
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from core.adapters import fernet_key, mfa_cipher

ENCRYPTED_FIELDS = ("secret", "seed")  # and each of "migrated_codes"


class Command(BaseCommand):
    help = "多要素認証の秘密を KENPO_MFA_ENCRYPTION_KEY の先頭の鍵で暗号化し直します（鍵の交換・別の鍵で復元したとき）。"

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="変更せず、どの鍵で読めるかを数えるだけ")

    def handle(self, *args, check: bool = False, **options):
        cipher, first = mfa_cipher(), Fernet(fernet_key(settings.KENPO_MFA_ENCRYPTION_KEYS[0]))
        counts = {"current": 0, "rotated": 0, "unreadable": 0}

        def rotated(value: str) -> str:
            try:
                first.decrypt(value.encode())
                counts["current"] += 1
                return value
            except InvalidToken:
                pass
            try:
                new = cipher.rotate(value.encode()).decode()
            except InvalidToken:
                counts["unreadable"] += 1
                return value
            counts["rotated"] += 1
            return new

        with transaction.atomic():
            rows = Authenticator.objects.select_for_update().filter(
                type__in=(Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES)).select_related("user")
            for authenticator in rows:
                data, unreadable_before = dict(authenticator.data), counts["unreadable"]
                for field in ENCRYPTED_FIELDS:
                    if isinstance(data.get(field), str):
                        data[field] = rotated(data[field])
                if isinstance(data.get("migrated_codes"), list):
                    data["migrated_codes"] = [rotated(code) for code in data["migrated_codes"]]
                if counts["unreadable"] > unreadable_before:
                    self.stderr.write(f"読めない秘密 / unreadable: user pk={authenticator.user_id} "
                                      f"({authenticator.user.email}), {authenticator.type}")
                if not check and data != authenticator.data:
                    Authenticator.objects.filter(pk=authenticator.pk).update(data=data)
        verb = "would re-encrypt" if check else "re-encrypted"
        self.stdout.write(f"current key: {counts['current']}, {verb}: {counts['rotated']}, "
                          f"unreadable: {counts['unreadable']}")
        if counts["unreadable"]:
            raise SystemExit(1)
