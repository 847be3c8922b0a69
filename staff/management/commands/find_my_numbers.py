"""Find text already stored that holds a My Number (RULES.md R9), and report where — never what.

Before issue 24 the check let a My Number through behind Hangul fillers, variation
selectors, combining marks and kanji numerals; from there it spread to names,
notes, ``search_text``, django-auditlog's history and import runs' stored errors.
This walks every text column (CharField, TextField, JSONField) of every model,
reads each value longer than 11 characters with ``core.mynumber.contains_my_number``
and prints, per hit, the model, the field, the primary key and the admin page: the
value itself is never printed, logged or written to the audit entry.

    python manage.py find_my_numbers            # report; exit status 1 when something is found
    python manage.py find_my_numbers --redact   # also replace the digits of each offending line by '#'

A typed field (a name, a note) is best corrected by staff on its admin page (which now
refuses the number); ``--redact`` is for what nobody can edit: history, stored errors.
``manage.py refresh_search_text`` then rebuilds the folded names.
"""

import json

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import models, transaction
from django.db.models.functions import Length
from django.urls import NoReverseMatch, reverse

from audit.services import record
from core.logging import redact_my_numbers
from core.mynumber import LENGTH, contains_my_number

# Never text a person typed, or not readable as text.
SKIPPED = {"sessions.Session", "contenttypes.ContentType", "auth.Permission", "admin.LogEntry"}
SKIPPED_FIELDS = {"auth.User.password"}


def text_fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
            and f"{model._meta.label}.{f.name}" not in SKIPPED_FIELDS]


def _as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _redacted(value):
    if isinstance(value, str):
        return redact_my_numbers(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def find(model, field):
    """The primary keys of ``model`` whose ``field`` holds a My Number."""
    rows = model._default_manager.all()
    if not isinstance(field, models.JSONField):
        rows = rows.annotate(_length=Length(field.name)).filter(_length__gte=LENGTH)
    for pk, value in rows.values_list("pk", field.name).iterator(chunk_size=2000):
        if value is not None and contains_my_number(_as_text(value)):
            yield pk


def _admin_url(model, pk) -> str:
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])
    except NoReverseMatch:
        return "—"


class Command(BaseCommand):
    help = "保存済みのデータから個人番号（マイナンバー）らしい値を探し、場所だけを報告します（値は表示しません）。"

    def add_arguments(self, parser):
        parser.add_argument("--redact", action="store_true",
                            help="見つかった値の該当行の数字を # に置き換える（履歴・エラー文など編集できない値向け）")

    def handle(self, *args, redact: bool = False, **options):
        found = 0
        for model in apps.get_models():
            if model._meta.label in SKIPPED or model._meta.proxy:
                continue
            for field in text_fields(model):
                pks = list(find(model, field))
                for pk in pks:
                    self.stdout.write(f"{model._meta.label}.{field.name}\tpk={pk}\t{_admin_url(model, pk)}")
                if pks and redact:
                    with transaction.atomic():
                        for row in model._default_manager.select_for_update().filter(pk__in=pks).only("pk", field.name):
                            setattr(row, field.name, _redacted(getattr(row, field.name)))
                            # queryset update: no save() side effects, no validators that would refuse the old value
                            model._default_manager.filter(pk=row.pk).update(**{field.name: getattr(row, field.name)})
                found += len(pks)
        record(action="view", summary=f"個人番号の疑いがある保存値の点検: {found} 件" + ("（伏せ字にしました）" if redact and found else ""),
               details={"found": found, "redacted": bool(redact and found)})
        if found:
            self.stdout.write(self.style.WARNING(
                f"個人番号の疑いがある値が {found} 件あります（値は表示していません）。"
                + ("該当行の数字を # に置き換えました。" if redact else "各画面で訂正するか --redact で伏せ字にしてください。")))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("個人番号の疑いがある値は見つかりませんでした。"))
