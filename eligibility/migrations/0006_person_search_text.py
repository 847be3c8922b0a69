"""Person.search_text: names and kana folded for search (core.kana), filled for the
persons already there, and a trigram index so a search of any part of a name does
not read a million rows (PostgreSQL only; pg_trgm is a trusted extension).

The folding is written out here as it was when this migration was made: a migration
must not change when the app code does (later changes of core.kana refresh the column
with ``manage.py refresh_search_text``).
"""

import re
import unicodedata

from django.db import migrations, models

_VARIANTS = str.maketrans({
    "髙": "高", "﨑": "崎", "嵜": "崎", "碕": "崎", "邊": "辺", "邉": "辺", "齋": "斎", "齊": "斎", "斉": "斎",
    "德": "徳", "濱": "浜", "濵": "浜", "澤": "沢", "櫻": "桜", "廣": "広", "國": "国", "嶋": "島", "嶌": "島",
    "冨": "富", "眞": "真", "𠮷": "吉", "龍": "竜", "瀧": "滝", "實": "実", "惠": "恵", "榮": "栄", "舘": "館",
    "淵": "渕", "峯": "峰", "曾": "曽", "桒": "桑", "埜": "野", "關": "関", "檜": "桧", "萬": "万", "龜": "亀",
    "鐵": "鉄", "禮": "礼", "黑": "黒", "條": "条", "圓": "円", "會": "会", "藏": "蔵", "壽": "寿", "彌": "弥",
    "兒": "児", "乘": "乗", "晉": "晋", "髮": "髪",
})
_HIRAGANA = str.maketrans({c: chr(c + 0x60) for c in (*range(0x3041, 0x3097), 0x309D, 0x309E)})
_IGNORED = re.compile(r"[\s\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff\ufe00-\ufe0f\U000e0100-\U000e01ef]+")
FIELDS = ("family_name", "given_name", "family_name_kana", "given_name_kana", "print_name")


def _fold(text):
    text = _IGNORED.sub("", unicodedata.normalize("NFKC", text or ""))
    return text.translate(_HIRAGANA).translate(_VARIANTS).casefold()


def fill_search_text(apps, schema_editor):
    Person = apps.get_model("eligibility", "Person")
    batch = []
    for person in Person.objects.only("pk", *FIELDS).order_by("pk").iterator(chunk_size=5000):
        person.search_text = " ".join(f for name in FIELDS if (f := _fold(getattr(person, name))))
        batch.append(person)
        if len(batch) >= 5000:
            Person.objects.bulk_update(batch, ["search_text"])
            batch = []
    Person.objects.bulk_update(batch, ["search_text"])


def trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS person_search_text_trgm ON eligibility_person "
            "USING gin (search_text gin_trgm_ops)"
        )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS person_search_text_trgm")



class Migration(migrations.Migration):

    dependencies = [
        ('eligibility', '0005_society_hours'),
    ]

    operations = [
        migrations.AddField(
            model_name='person',
            name='search_text',
            field=models.CharField(blank=True, editable=False, max_length=400, verbose_name='検索用の氏名'),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(trigram_index, drop_trigram_index),
    ]
