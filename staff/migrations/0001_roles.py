"""Create the three staff roles (閲覧・担当者・管理者) as groups.

Their permissions are set from staff.roles.ROLES here for what already exists and
again after every migrate (post_migrate, staff.apps), once all apps' permissions
have been created.
"""

from django.db import migrations


def create_roles(apps, schema_editor):
    from staff.roles import sync_roles

    sync_roles(apps=apps, using=schema_editor.connection.alias)


def remove_roles(apps, schema_editor):
    from staff.roles import ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
