"""The roles table gains the notices app (資格情報のお知らせ): every role reads them, the
担当者 marks paper ones printed. A frozen copy of the table, as in 0001_roles; after
migrate, post_migrate syncs the groups again once the notices' permissions exist."""

from django.db import migrations

ROLES = {
    "閲覧": (
        "eligibility.view_*",
        "certificates.view_*",
        "notices.view_*",
        "reminders.view_*",
        "imports.view_*",
    ),
    "担当者": (
        "eligibility.view_*",
        "certificates.view_*",
        "notices.view_*",
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
        "notices.change_*",
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


def set_roles(apps, schema_editor):
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


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0002_encrypt_mfa_secrets"),
        ("notices", "0002_japanese_labels"),
    ]

    operations = [migrations.RunPython(set_roles, migrations.RunPython.noop)]
