"""``manage.py refresh_search_text``: recompute every person's folded search text
(``Person.search_text``) after ``core.kana`` changed, in batches of a few thousand."""

from django.core.management.base import BaseCommand

from eligibility.models import Person

BATCH = 5000


class Command(BaseCommand):
    help = "氏名の検索用テキスト（Person.search_text）を作り直します。"

    def handle(self, *args, **options):
        changed, batch = 0, []
        fields = ("pk", "search_text", *Person.SEARCHED_FIELDS)
        for person in Person.objects.only(*fields).order_by("pk").iterator(chunk_size=BATCH):
            before = person.search_text
            if person.fill_search_text().search_text != before:
                batch.append(person)
            if len(batch) >= BATCH:
                changed += Person.objects.bulk_update(batch, ["search_text"])
                batch = []
        changed += Person.objects.bulk_update(batch, ["search_text"])
        self.stdout.write(f"{changed} persons updated")
