"""Staged registration rows are keyed by (run, line), with no automatic id.

An id's sequence and its index made a COPY of 100,000 rows 2.5 times slower. A
primary key cannot be changed in place, so the staging table is made again. Its rows are
a scratch copy of each run's upload: a run still waiting for 「取り込む」 when this
migration runs is refused at its write with 「取込の作業用データが見つかりません…もう一度
アップロードしてください」, and nothing is written."""

import django.db.models.deletion
from django.db import migrations, models


def unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE imports_stagedregistrationrow SET UNLOGGED")


class Migration(migrations.Migration):

    dependencies = [
        ("imports", "0003_background_jobs_and_staging"),
    ]

    operations = [
        migrations.DeleteModel(name="StagedRegistrationRow"),
        migrations.CreateModel(
            name="StagedRegistrationRow",
            fields=[
                ("pk", models.CompositePrimaryKey("run", "line", blank=True, editable=False, primary_key=True,
                                                  serialize=False)),
                ("run", models.ForeignKey(db_constraint=False, db_index=False,
                                          on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                                          to="imports.importrun")),
                ("line", models.PositiveIntegerField()),
                ("symbol", models.CharField(max_length=8)),
                ("number", models.CharField(max_length=8)),
                ("branch_number", models.CharField(max_length=2)),
                ("registered", models.BooleanField()),
                ("as_of", models.DateField()),
            ],
            options={"default_permissions": ()},
        ),
        migrations.RunPython(unlogged, migrations.RunPython.noop),
    ]
