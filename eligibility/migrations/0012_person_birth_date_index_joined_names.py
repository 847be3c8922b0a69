"""The admin's search as clerks type (issue 20): ``Person.search_text`` now holds the
family and given names run together (高橋陽翔 finds 高橋 陽翔), refreshed here for the
persons already there; and an index on the date of birth for the search by it.

The folding is 0006's (frozen there); the refresh writes in chunks of 5,000 with one
``UPDATE … FROM (VALUES …)`` each on PostgreSQL (about a minute at a million persons).
"""

import importlib

from django.db import migrations, models

_fold = importlib.import_module("eligibility.migrations.0006_person_search_text")._fold
FIELDS = ("family_name", "given_name", "family_name_kana", "given_name_kana", "print_name")
CHUNK = 5000


def _joined(person) -> str:
    parts = (person.family_name + person.given_name, person.family_name_kana + person.given_name_kana,
             person.print_name)
    return " ".join(f for part in parts if (f := _fold(part)))


def refresh(apps, schema_editor):
    Person = apps.get_model("eligibility", "Person")
    connection = schema_editor.connection
    rows = []

    def write():
        if not rows:
            return
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            with connection.cursor() as cursor:
                execute_values(cursor.cursor,
                               "UPDATE eligibility_person p SET search_text = v.t FROM (VALUES %s) AS v(id, t) "
                               "WHERE p.id = v.id AND p.search_text IS DISTINCT FROM v.t", rows, page_size=CHUNK)
        else:
            for pk, text in rows:
                Person.objects.filter(pk=pk).update(search_text=text)
        rows.clear()

    for person in Person.objects.only("pk", *FIELDS).order_by("pk").iterator(chunk_size=CHUNK):
        rows.append((person.pk, _joined(person)))
        if len(rows) >= CHUNK:
            write()
    write()


class Migration(migrations.Migration):

    dependencies = [
        ('eligibility', '0011_card_facts_unknown'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='person',
            index=models.Index(fields=['birth_date'], name='eligibility_birth_d_d85282_idx'),
        ),
        migrations.RunPython(refresh, migrations.RunPython.noop, elidable=True),
    ]
