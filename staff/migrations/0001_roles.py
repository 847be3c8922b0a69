"""Create the three staff roles (閲覧・担当者・管理者) as groups.

The table of what each role may do is frozen here as it was when this migration was
written: a migration must not change when the code does. ``staff.roles.ROLES`` is the
live table; after every migrate (post_migrate, staff.apps) the groups are synced to it,
once all apps' permissions exist. A change of the live table comes with a new data
migration holding the new table (``staff/tests/test_migrations.py`` checks the latest
one equals ``staff.roles.ROLES``).
"""

from django.db import migrations

ROLES = {
    "閲覧": (
        "eligibility.view_*",
        "certificates.view_*",
        "reminders.view_*",
        "imports.view_*",
    ),
    "担当者": (
        "eligibility.view_*",
        "certificates.view_*",
        "reminders.view_*",
        "imports.view_*",
        "eligibility.add_household",
        "eligibility.change_household",
        "eligibility.add_person",
        "eligibility.change_person",
        "eligibility.add_cardfacts",
        "eligibility.change_cardfacts",
        "eligibility.add_activationcode",
        "certificates.add_*",
        "certificates.change_*",
        "certificates.review_request",
        "certificates.issue_certificate",
        "certificates.export_list",
        "certificates.download_pdf",
        "reminders.change_*",
        "imports.add_*",
        "imports.change_*",
        "imports.run_import",
    ),
    "管理者": ("*",),
}


def _matches(pattern, name):
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name == pattern


def create_roles(apps, schema_editor):
    using = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    available = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role, patterns in ROLES.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set(
            {pk for name, pk in available.items() if any(_matches(p, name) for p in patterns)}
        )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(
        name__in=list(ROLES)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
