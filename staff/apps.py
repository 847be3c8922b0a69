"""The staff side: roles, MFA for staff, roster and registration-status imports,
and the staff dashboard."""
from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles_after_migrate(sender, app_config=None, using="default", apps=None, **kwargs):
    """After ``migrate``, give the role groups every permission that now exists."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    from .permission_names import rename_default_permissions
    from .roles import sync_roles

    # Permissions of apps later in INSTALLED_APPS are created by their own
    # post_migrate; create them all now so the roles are complete in one pass.
    for config in global_apps.get_app_configs():
        create_permissions(config, verbosity=0, using=using)
    rename_default_permissions(using=using)  # before the roles, so the audit log records Japanese names
    sync_roles(using=using)


def _refresh_dashboard_after_import(sender=None, **kwargs):
    """An import changed the roster or the statuses: the dashboard's counts follow it."""
    from .dashboard import request_refresh

    request_refresh()


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "職員"

    def ready(self):
        from audit.services import register_roles
        from imports.signals import imported

        from .roles import MEMBER_FACING_LABELS, role_of

        register_roles(role_of=role_of, labels=MEMBER_FACING_LABELS)
        post_migrate.connect(_sync_roles_after_migrate, sender=self, dispatch_uid="staff.sync_roles")
        imported.connect(_refresh_dashboard_after_import, dispatch_uid="staff.refresh_after_import")
