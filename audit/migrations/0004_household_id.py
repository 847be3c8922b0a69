"""The audit log keeps a plain, indexed household id instead of a foreign key: an
append-only log never nulls its subject, and the log knows no app above it.

The column (``household_id``) and its indexes stay as they are; only the database's
foreign-key constraint goes (the first step), then the field becomes a plain integer in
Django's state alone."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_actor_protected"),
        ("eligibility", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="household",
            field=models.ForeignKey(blank=True, db_constraint=False, null=True,
                                    on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                                    to="eligibility.household", verbose_name="世帯"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="auditentry", name="audit_audit_househo_dfea34_idx"),
                migrations.RemoveField(model_name="auditentry", name="household"),
                migrations.AddField(
                    model_name="auditentry",
                    name="household_id",
                    field=models.BigIntegerField(blank=True, db_index=True, null=True, verbose_name="世帯ID"),
                ),
                migrations.AddIndex(
                    model_name="auditentry",
                    index=models.Index(fields=["household_id", "-at"], name="audit_audit_househo_dfea34_idx"),
                ),
            ],
        ),
    ]
