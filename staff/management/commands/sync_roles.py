"""``manage.py sync_roles``: (re)create the staff role groups from staff.roles.ROLES."""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.core.management.base import BaseCommand

from staff.roles import sync_roles


class Command(BaseCommand):
    help = "役割（閲覧・担当者・管理者）のグループと権限を staff.roles の表どおりに設定します。"

    def handle(self, *args, **options):
        # Permissions of apps that were never migrated with post_migrate are created first.
        for app_config in apps.get_app_configs():
            create_permissions(app_config, verbosity=0)
        result = sync_roles()
        for role, count in result.granted.items():
            self.stdout.write(f"{role}: {count} permissions")
            for name in result.missing[role]:
                self.stdout.write(f"  (not yet defined: {name})")
