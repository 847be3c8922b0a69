"""Writes of the imports app: preview an uploaded file, then confirm it.

``import_preview`` parses the file and compares it with the database without
writing anything but the ``ImportRun``. ``import_confirm`` parses the stored
file again, in one transaction with the society locked, checks that the result
is what staff saw, and writes it with bulk operations (a few queries per
thousand rows, never one per person). A file with a bad row writes nothing, and
a file already imported finds nothing to change.
"""

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from audit.services import record
from eligibility.models import CardFacts, CardFactsChange, Employer, Household, Person, Society
from eligibility.selectors import today as japan_today

from . import parsers
from .models import ImportRun
from .parsers import ImportFileError, RowError

logger = logging.getLogger(__name__)

BATCH = 2000
SAMPLE_SIZE = 200
# A household's own fields come from its insured person's row (or its first row).
HOUSEHOLD_FIELDS = ("employer_id", "voluntary_continuation")
FIELD_LABELS = {
    "relationship": "続柄", "family_name": "氏", "given_name": "名", "family_name_kana": "氏カナ",
    "given_name_kana": "名カナ", "sex": "性別", "birth_date": "生年月日", "eligible_from": "資格取得日",
    "eligible_until": "資格喪失日", "certificate_wanted": "資格確認書発行要否",
    "employer_id": "事業所番号", "voluntary_continuation": "任意継続", "registered": "利用登録状況",
    "registration_as_of": "基準日",
}


class ImportRefused(Exception):
    """The run cannot be confirmed; the message is for staff, in Japanese."""


@dataclass
class Plan:
    """What a file would change: counts, examples, bad rows, and how to write it."""

    row_count: int = 0
    errors: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    write: Callable[..., None] | None = None

    def error(self, line: int, message: str) -> None:
        self.errors.append({"line": line, "message": message})

    def count(self, what: str, sample: dict | None = None) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1
        if sample is not None and len(self.samples[what]) < SAMPLE_SIZE:
            self.samples[what].append(sample)


def _chunks(items: list, size: int = 10000) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _key_text(key: tuple[str, str, str]) -> str:
    return "-".join(key)


def _parse(plan: Plan, text: str, columns, make_row, *, today: date) -> list:
    """Rows that read well, each key once; every other row becomes an error with its line."""
    rows, seen = [], {}
    for line, cells in parsers.read_rows(text, columns):
        plan.row_count += 1
        try:
            row = make_row(line, cells, today=today)
        except RowError as exc:
            plan.error(line, str(exc))
            continue
        if row.key in seen:
            plan.error(line, f"記号・番号・枝番が{seen[row.key]}行目と重複しています。")
            continue
        seen[row.key] = line
        rows.append(row)
    return rows


# --- Roster (加入者名簿) --------------------------------------------------------------


def plan_roster(*, text: str, society: Society, today: date) -> Plan:
    plan = Plan()
    rows: list[parsers.RosterRow] = _parse(plan, text, parsers.ROSTER_COLUMNS, parsers.roster_row, today=today)

    employers = dict(Employer.objects.filter(society=society).values_list("code", "id"))
    households: dict[tuple[str, str], list[parsers.RosterRow]] = defaultdict(list)
    for row in rows:
        households[(row.symbol, row.number)].append(row)

    # What each household should look like, from its insured person's row.
    wanted: dict[tuple[str, str], tuple[int | None, bool]] = {}
    bad_lines: set[int] = set()
    for key, members in households.items():
        insured = [r for r in members if r.relationship == Person.Relationship.SELF]
        for extra in insured[1:]:
            plan.error(extra.line, f"同じ記号・番号の本人が{insured[0].line}行目にもいます。")
            bad_lines.add(extra.line)
        head = insured[0] if insured else members[0]
        if head.employer_code and head.employer_code not in employers:
            plan.error(head.line, f"事業所番号「{head.employer_code}」は登録されていません。")
            bad_lines.add(head.line)
        for other in members:
            if other is head:
                continue
            if other.employer_code and other.employer_code != head.employer_code:
                plan.error(other.line, f"事業所番号が同じ世帯の{head.line}行目と違います。")
                bad_lines.add(other.line)
            elif other.voluntary_continuation and not head.voluntary_continuation:
                plan.error(other.line, f"任意継続が同じ世帯の{head.line}行目と違います。")
                bad_lines.add(other.line)
        wanted[key] = (employers.get(head.employer_code) if head.employer_code else None, head.voluntary_continuation)
    rows = [r for r in rows if r.line not in bad_lines]

    existing_households = {
        (symbol, number): (pk, employer_id, voluntary)
        for pk, symbol, number, employer_id, voluntary in Household.objects.filter(
            society=society, symbol__in={symbol for symbol, _ in households}
        ).values_list("pk", "symbol", "number", "employer_id", "voluntary_continuation")
    }
    new_households: dict[tuple[str, str], Household] = {}
    changed_households: list[Household] = []
    for key, (employer_id, voluntary) in wanted.items():
        if key not in existing_households:
            new_households[key] = Household(
                society=society, symbol=key[0], number=key[1], employer_id=employer_id,
                voluntary_continuation=voluntary,
            )
            plan.count("households_created")
        elif existing_households[key][1:] != (employer_id, voluntary):
            pk, old_employer, old_voluntary = existing_households[key]
            changed_households.append(Household(pk=pk, employer_id=employer_id, voluntary_continuation=voluntary))
            changes = [FIELD_LABELS[f] for f, old, new in zip(
                HOUSEHOLD_FIELDS, (old_employer, old_voluntary), (employer_id, voluntary), strict=True
            ) if old != new]
            plan.count("households_updated", {"key": "-".join(key), "changes": changes})

    household_of = {pk: key for key, (pk, *_rest) in existing_households.items()}
    existing_persons: dict[tuple[str, str, str], tuple] = {}
    for ids in _chunks(list(household_of)):
        for pk, household_id, branch, card_id, *values in Person.objects.filter(household_id__in=ids).values_list(
            "pk", "household_id", "branch_number", "card", *parsers.PERSON_FIELDS
        ):
            existing_persons[(*household_of[household_id], branch)] = (pk, card_id, values)

    new_persons: list[tuple[tuple[str, str], Person]] = []
    changed_persons: list[Person] = []
    changed_fields: set[str] = set()
    missing_cards: list[int] = []
    for row in rows:
        wanted_values = [getattr(row, name) for name in parsers.PERSON_FIELDS]
        sample = {"line": row.line, "key": _key_text(row.key), "name": f"{row.family_name} {row.given_name}"}
        found = existing_persons.get(row.key)
        if found is None:
            new_persons.append(((row.symbol, row.number), Person(branch_number=row.branch_number, **row.person_fields())))
            plan.count("created", sample)
            continue
        pk, card_id, values = found
        if card_id is None:
            missing_cards.append(pk)
        changed = [name for name, old, new in zip(parsers.PERSON_FIELDS, values, wanted_values, strict=True) if old != new]
        if not changed:
            plan.count("unchanged")
            continue
        changed_fields.update(changed)
        changed_persons.append(Person(pk=pk, **row.person_fields()))
        sample["changes"] = [FIELD_LABELS[name] for name in changed]
        old_until = values[parsers.PERSON_FIELDS.index("eligible_until")]
        plan.count("ended" if old_until is None and row.eligible_until is not None else "updated", sample)
    if missing_cards:
        plan.counts["cards_created"] = len(missing_cards)

    def write(*, user) -> None:
        Household.objects.bulk_create(new_households.values(), batch_size=BATCH)
        household_ids = {key: pk for key, (pk, *_rest) in existing_households.items()}
        household_ids.update({key: household.pk for key, household in new_households.items()})
        persons = []
        for key, person in new_persons:
            person.household_id = household_ids[key]
            persons.append(person)
        Person.objects.bulk_create(persons, batch_size=BATCH)
        # Every person has card facts (all unknown at first), derived like a save() would.
        now = timezone.now()
        CardFacts.objects.bulk_create(
            (CardFacts(person_id=pk, updated_at=now).derive() for pk in [p.pk for p in persons] + missing_cards),
            batch_size=BATCH,
        )
        if changed_households:
            Household.objects.bulk_update(changed_households, ["employer", "voluntary_continuation"], batch_size=1000)
        if changed_persons:
            Person.objects.bulk_update(changed_persons, sorted(changed_fields), batch_size=1000)

    plan.write = write
    return plan


# --- Registration status (利用登録状況) ---------------------------------------------


REGISTRATION_FIELDS = ("has_card", "registered", "registration_source", "registration_as_of")


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value


def _statement_day(as_of: date | None, updated_at) -> date | None:
    if as_of is not None:
        return as_of
    return timezone.localdate(updated_at) if updated_at is not None else None


def plan_registration(*, text: str, society: Society, today: date) -> Plan:
    plan = Plan()
    rows: list[parsers.RegistrationRow] = _parse(
        plan, text, parsers.REGISTRATION_COLUMNS, parsers.registration_row, today=today
    )
    known: dict[tuple[str, str, str], tuple] = {}
    for values in Person.objects.filter(
        household__society=society, household__symbol__in={row.symbol for row in rows}
    ).values_list(
        "pk", "household__symbol", "household__number", "branch_number", "card", "card__has_card",
        "card__card_expires_on", "card__ecert_expires_on", "card__registered", "card__registration_source",
        "card__registration_as_of", "card__updated_at",
    ):
        known[(values[1], values[2], values[3])] = values

    new_cards: list[CardFacts] = []
    changed_cards: list[CardFacts] = []
    for row in rows:
        found = known.get(row.key)
        if found is None:
            plan.error(row.line, f"記号・番号・枝番「{_key_text(row.key)}」の加入者が見つかりません。")
            continue
        pk, _s, _n, _b, card_id, has_card, card_expires, ecert_expires, registered, source, as_of, updated_at = found
        sample = {"line": row.line, "key": _key_text(row.key), "registered": row.registered, "as_of": row.as_of.isoformat()}
        if card_id is None:
            new_cards.append(CardFacts(
                person_id=pk, has_card=row.registered, registered=row.registered,
                registration_source=CardFacts.RegistrationSource.NATIONAL_FILE, registration_as_of=row.as_of,
            ))
            plan.count("updated", sample)
            continue
        # A newer statement (the member's, the staff's or a later file's) is kept.
        stated_on = _statement_day(as_of, updated_at) if source else None
        if stated_on is not None and stated_on > row.as_of:
            sample["source"] = str(CardFacts.RegistrationSource(source).label)
            sample["stated_on"] = stated_on.isoformat()
            plan.count("kept", sample)
            continue
        if (registered, source, as_of) == (row.registered, CardFacts.RegistrationSource.NATIONAL_FILE, row.as_of):
            plan.count("unchanged")
            continue
        card = CardFacts(
            person_id=pk, has_card=has_card or row.registered, card_expires_on=card_expires,
            ecert_expires_on=ecert_expires, registered=row.registered,
            registration_source=CardFacts.RegistrationSource.NATIONAL_FILE, registration_as_of=row.as_of,
        )
        old = {"has_card": has_card, "registered": registered, "registration_source": source,
               "registration_as_of": as_of}
        changed_cards.append((card, old))
        plan.count("updated", sample)

    def write(*, user) -> None:
        now = timezone.now()
        history = []
        for card, old in [(card, {}) for card in new_cards] + changed_cards:
            card.updated_at = now
            card.updated_by = user
            card.derive()
            # The person's card history (as update_card_facts keeps it), in bulk.
            before = {name: _jsonable(value) for name, value in old.items() if value != getattr(card, name)}
            after = {name: _jsonable(getattr(card, name)) for name in (before if old else REGISTRATION_FIELDS)}
            history.append(CardFactsChange(
                person_id=card.person_id, changed_at=now, changed_by=user,
                source=CardFactsChange.Source.NATIONAL_FILE, before=before, after=after,
            ))
        CardFacts.objects.bulk_create(new_cards, batch_size=BATCH)
        CardFacts.objects.bulk_update(
            [card for card, _old in changed_cards],
            ["has_card", "registered", "registration_source", "registration_as_of", "updated_at", "updated_by",
             "effective_expires_on", "renewal_opens_on", "grace_ends_on"],
            batch_size=1000,
        )
        CardFactsChange.objects.bulk_create(history, batch_size=BATCH)

    plan.write = write
    return plan


PLANNERS = {ImportRun.Kind.ROSTER: plan_roster, ImportRun.Kind.REGISTRATION: plan_registration}


# --- Preview and confirm ------------------------------------------------------------


def _plan(kind: str, data: bytes, society: Society) -> tuple[Plan, str]:
    text, encoding = parsers.decode(data)
    return PLANNERS[kind](text=text, society=society, today=japan_today()), encoding


def import_preview(*, kind: str, society: Society, data: bytes, user, request=None) -> ImportRun:
    """Store the file and what it would change; write nothing else."""
    sha256 = hashlib.sha256(data).hexdigest()
    run = ImportRun(kind=kind, society=society, sha256=sha256, uploaded_by=user)
    started = time.monotonic()
    try:
        plan, run.encoding = _plan(kind, data, society)
    except ImportFileError as exc:
        run.status = ImportRun.Status.FAILED
        run.failure = str(exc)[:255]
        run.errors = [{"line": 1, "message": str(exc)}]
    else:
        run.row_count = plan.row_count
        run.counts = plan.counts
        run.samples = dict(plan.samples)
        run.errors = plan.errors
    run.seconds = round(time.monotonic() - started, 3)
    if run.status != ImportRun.Status.FAILED and not run.errors:
        # Kept only until it is confirmed: a file with errors cannot be, and is never
        # stored (it may hold what a row was refused for). The name says nothing of it.
        run.file.save(f"{kind}-{sha256[:16]}.csv", ContentFile(data), save=False)
    run.save()
    record(action="import", request=request, actor=user, obj=run,
           summary=f"{run.get_kind_display()}のプレビュー（{run.row_count}行、エラー{len(run.errors)}件）")
    return run


def import_confirm(*, run: ImportRun, user, request=None) -> ImportRun:
    """Write the previewed file, all of it or nothing, once."""
    started = time.monotonic()
    try:
        with transaction.atomic():
            run = ImportRun.objects.select_for_update().get(pk=run.pk)
            if run.status != ImportRun.Status.PREVIEW:
                raise ImportRefused("この取込はすでに確定されたか、失敗しています。")
            if run.errors:
                raise ImportRefused("エラーのある行があるため取り込めません。ファイルを直して、もう一度アップロードしてください。")
            # One import at a time per society: the comparison below stays true until commit.
            society = Society.objects.select_for_update().get(pk=run.society_id)
            with run.file.open("rb") as stored:
                data = stored.read()
            if hashlib.sha256(data).hexdigest() != run.sha256:
                raise ImportRefused("保存されたファイルが変わっています。もう一度アップロードしてください。")
            plan, _encoding = _plan(run.kind, data, society)
            if plan.errors or plan.counts != run.counts:
                raise ImportRefused(
                    "プレビューの後にデータが変わりました。何も書き込んでいません。もう一度アップロードしてください。"
                )
            plan.write(user=user)
            run.status = ImportRun.Status.CONFIRMED
            run.confirmed_by = user
            run.confirmed_at = timezone.now()
            run.seconds = round(time.monotonic() - started, 3)
            run.save(update_fields=["status", "confirmed_by", "confirmed_at", "seconds"])
            transaction.on_commit(lambda: _forget_file(run))
            counts = run.counts
            record(
                action="import", request=request, actor=user, obj=run,
                summary=(
                    f"{run.get_kind_display()}を取込（作成{counts.get('created', 0)}、更新{counts.get('updated', 0)}、"
                    f"喪失{counts.get('ended', 0)}、変更なし{counts.get('unchanged', 0)}）"
                ),
                details={"counts": counts, "rows": run.row_count},
            )
    except ImportRefused as exc:
        _fail(run, str(exc), user=user, request=request)
        raise
    except Exception:
        logger.exception("import run %s failed", run.pk)
        message = "取込中にエラーが起きました。何も書き込んでいません。"
        _fail(run, message, user=user, request=request)
        raise ImportRefused(message) from None
    return run


def _fail(run: ImportRun, message: str, *, user, request) -> None:
    # A refused second confirmation leaves the confirmed run as it is.
    updated = ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.PREVIEW).update(
        status=ImportRun.Status.FAILED, failure=message[:255]
    )
    if updated:
        _forget_file(run)
        record(action="import", request=request, actor=user, obj=run,
               summary=f"{run.get_kind_display()}の取込を中止: {message}")


def _forget_file(run: ImportRun) -> None:
    """A roster is personal data: once written (or refused) its upload is deleted."""
    if run.file:
        run.file.delete(save=False)
        ImportRun.objects.filter(pk=run.pk).update(file="")
