"""R5 ``unknown``: ``CardFacts.has_card`` may be null (nobody has said yet).

Card facts nobody ever stated — created by a roster import with the old default
(no card, not registered, no source, and no change in their history) — become
unknown: a missing record is never shown as 「マイナンバーカードがありません」.
"""

from django.db import migrations, models
from django.db.models import Exists, OuterRef


def unknown_where_nobody_said(apps, schema_editor):
    CardFacts = apps.get_model("eligibility", "CardFacts")
    CardFactsChange = apps.get_model("eligibility", "CardFactsChange")
    said = CardFactsChange.objects.filter(person_id=OuterRef("person_id"))
    CardFacts.objects.filter(has_card=False, registered=False, registration_source="").exclude(
        Exists(said)).update(has_card=None)


class Migration(migrations.Migration):
    dependencies = [("eligibility", "0010_employer_contact")]

    operations = [
        migrations.AlterField(
            model_name="cardfacts",
            name="has_card",
            field=models.BooleanField(default=None, null=True, verbose_name="マイナンバーカードを持っている"),
        ),
        migrations.RunPython(unknown_where_nobody_said, migrations.RunPython.noop),
    ]
