"""The roster (加入者名簿), set-based: checks and writes over its staged rows.

A household's own values (事業所, 任意継続 and its end, 郵便番号・住所) come from its
head row: its insured person's (本人) row, or — for a household not stored yet — its
first row. A file without the 本人 row of a stored household (a monthly delta holding a
new dependent) leaves that household as it is: its other rows are checked against the
stored household (an 事業所番号 or 任意継続 that contradicts it is an error, never a change). ``classify`` joins the staged
rows with their head row, employer, household, person and card facts once, into a
temporary table (``CLASSIFIED``) where each row has an ``outcome``: an error
(``duplicate``, ``extra_self``, ``bad_employer``, ``employer_mismatch``,
``vc_mismatch``) or what it does to its person (``created``, ``updated``, ``ended`` — a
資格喪失日 appears —, ``lapsed`` — 任意継続 ended before today —, ``unchanged``); head rows also have a ``household_outcome``
(``created``, ``updated``). Persons not in the file are left as they are.
"""

from django.utils.translation import gettext_lazy as _

from eligibility.models import CardFacts, Employer, Household, Person

from .models import StagedRosterRow
from .parsers import PERSON_FIELDS
from .staging import Param, as_bool, as_date, create_temp, drop_temp, execute, fetch, insert_select

STG = StagedRosterRow._meta.db_table
CLASSIFIED = "imports_roster_classified"
FIELDS = (
    "run_id", "line", "symbol", "number", "branch_number", "relationship", "family_name", "given_name",
    "family_name_kana", "given_name_kana", "sex", "birth_date", "eligible_from", "eligible_until",
    "certificate_wanted", "my_number_registered", "employer_code", "voluntary_continuation",
    "voluntary_continuation_ends_on", "postal_code", "address", "search_text",
)
ERROR_OUTCOMES = ("duplicate", "extra_self", "bad_employer", "employer_mismatch", "vc_mismatch")
_ERRORS = ", ".join(f"'{o}'" for o in ERROR_OUTCOMES)
# The outcomes of a stored person whose row is written.
WRITTEN = ("updated", "ended", "lapsed")
_WRITTEN = ", ".join(f"'{o}'" for o in WRITTEN)
SAMPLE_SIZE = 200
# Person columns a roster sets; 個人番号登録 only when the row says 済 or 未.
PERSON_COLUMNS = (*PERSON_FIELDS, "my_number_registered")
# The optional household columns, by the header name that carries each.
HOUSEHOLD_OPTIONAL = {"voluntary_continuation_ends_on": "任意継続終了日", "postal_code": "郵便番号", "address": "住所"}
HOUSEHOLD_FIELDS = ("employer_id", "voluntary_continuation", *HOUSEHOLD_OPTIONAL)
# The roster's column titles (the preview's kinds of change are counted per field).
FIELD_LABELS = {
    "relationship": _("続柄"), "family_name": _("氏"), "given_name": _("名"), "family_name_kana": _("氏カナ"),
    "given_name_kana": _("名カナ"), "sex": _("性別"), "birth_date": _("生年月日"), "eligible_from": _("資格取得日"),
    "eligible_until": _("資格喪失日"), "certificate_wanted": _("資格確認書発行要否"),
    "my_number_registered": _("個人番号登録"), "employer_id": _("事業所番号"), "voluntary_continuation": _("任意継続"),
    "voluntary_continuation_ends_on": _("任意継続終了日"), "postal_code": _("郵便番号"), "address": _("住所"),
}


def _key(symbol, number, branch=None) -> str:
    return "-".join(x for x in (symbol, number, branch) if x is not None)


def _new_person_value(name: str) -> str:
    if name == "my_number_registered":
        return "COALESCE(r.my_number_registered, p.my_number_registered)"
    return f"r.{name}"


def _new_household_value(name: str, columns: list[str]) -> str:
    """SQL (over the head row ``hd`` and the household ``hh``) for a household field after the
    import; an absent optional column keeps the stored value."""
    if name == "employer_id":
        return "e.id"
    if name in HOUSEHOLD_OPTIONAL and HOUSEHOLD_OPTIONAL[name] not in columns:
        return f"hh.{name}"
    if name in ("postal_code", "address"):
        return f"COALESCE(hd.{name}, '')"
    return f"hd.{name}"


def classify(run_id: int, society_id: int, *, columns: list[str], today, large: bool = False) -> None:
    """Each row's head row, employer, household, person and outcome, against the database now.

    ``lapsed``: a person of a 任意継続 household whose last day (after the import) is before
    ``today``, and whose row has no 資格喪失日 — no longer insured, whatever else the row says."""
    vc_ends = _new_household_value("voluntary_continuation_ends_on", columns)
    person_differs = " OR ".join(f"p.{name} IS DISTINCT FROM {_new_person_value(name)}" for name in PERSON_COLUMNS)
    household_differs = " OR ".join(
        f"hh.{name} IS DISTINCT FROM {_new_household_value(name, columns)}" for name in HOUSEHOLD_FIELDS
    )
    new_household = ", ".join(f"{_new_household_value(name, columns)} AS new_{name}" for name in HOUSEHOLD_FIELDS)
    old_person = ", ".join(f"p.{name} AS old_{name}" for name in PERSON_COLUMNS)
    old_household = ", ".join(f"hh.{name} AS old_{name}" for name in HOUSEHOLD_FIELDS)
    create_temp(CLASSIFIED, f"""
        WITH d AS (
            SELECT symbol, number, branch_number, MIN(line) AS first FROM {STG} WHERE run_id = %s
            GROUP BY symbol, number, branch_number HAVING COUNT(*) > 1
        ), r AS (
            SELECT s.*, COALESCE(d.first, s.line) AS first FROM {STG} s
            LEFT JOIN d ON d.symbol = s.symbol AND d.number = s.number AND d.branch_number = s.branch_number
            WHERE s.run_id = %s
        ), hd AS (
            SELECT x.* FROM (
                SELECT r.*, ROW_NUMBER() OVER (
                    PARTITION BY symbol, number ORDER BY CASE WHEN relationship = 'self' THEN 0 ELSE 1 END, line
                ) AS rn FROM r WHERE line = first
            ) x
            LEFT JOIN eligibility_household known ON known.society_id = %s AND known.symbol = x.symbol
                                                 AND known.number = x.number
            WHERE x.rn = 1 AND (x.relationship = 'self' OR known.id IS NULL)
        ), k AS (
            SELECT r.*, hd.line AS head_line, COALESCE(hd.employer_code, he.code, '') AS head_employer_code,
                   e.id AS employer_id, hh.id AS household_id, p.id AS person_id,
                   (p.id IS NOT NULL AND c.person_id IS NULL) AS needs_card,
                   {new_household}, {old_person}, {old_household},
                   CASE
                     WHEN r.line <> r.first THEN 'duplicate'
                     WHEN r.relationship = 'self' AND r.line <> hd.line THEN 'extra_self'
                     WHEN r.line = hd.line AND r.employer_code <> '' AND e.id IS NULL THEN 'bad_employer'
                     WHEN r.line IS DISTINCT FROM hd.line AND r.employer_code <> ''
                          AND r.employer_code <> COALESCE(hd.employer_code, he.code, '') THEN 'employer_mismatch'
                     WHEN r.line IS DISTINCT FROM hd.line AND r.voluntary_continuation
                          AND NOT COALESCE(hd.voluntary_continuation, hh.voluntary_continuation) THEN 'vc_mismatch'
                     WHEN p.id IS NULL THEN 'created'
                     WHEN p.eligible_until IS NULL AND r.eligible_until IS NOT NULL THEN 'ended'
                     WHEN r.eligible_until IS NULL AND COALESCE(hd.voluntary_continuation, hh.voluntary_continuation)
                          AND CASE WHEN hd.line IS NULL THEN hh.voluntary_continuation_ends_on ELSE {vc_ends} END < %s
                          THEN 'lapsed'
                     WHEN NOT ({person_differs}) THEN 'unchanged'
                     ELSE 'updated' END AS outcome,
                   CASE WHEN hh.id IS NULL THEN 'created' WHEN {household_differs} THEN 'updated' ELSE '' END
                     AS head_household_outcome
            FROM r
            LEFT JOIN hd ON hd.symbol = r.symbol AND hd.number = r.number
            LEFT JOIN eligibility_employer e ON e.society_id = %s AND e.code = hd.employer_code
            LEFT JOIN eligibility_household hh ON hh.society_id = %s AND hh.symbol = r.symbol
                                              AND hh.number = r.number
            LEFT JOIN eligibility_employer he ON he.id = hh.employer_id
            LEFT JOIN eligibility_person p ON p.household_id = hh.id AND p.branch_number = r.branch_number
            LEFT JOIN eligibility_cardfacts c ON c.person_id = p.id
        )
        SELECT k.*, CASE WHEN k.line = k.head_line AND k.outcome NOT IN ({_ERRORS})
                         THEN k.head_household_outcome ELSE '' END AS household_outcome
        FROM k""", [run_id, run_id, society_id, today, society_id, society_id], large=large)


def done() -> None:
    drop_temp(CLASSIFIED)


def kinds() -> dict[str, int]:
    """How many stored persons (and households) each field changes for, by field: one pass."""
    person = [f"SUM(CASE WHEN outcome IN ({_WRITTEN}) AND old_{name} IS DISTINCT FROM {_written_value(name)} "
              "THEN 1 ELSE 0 END)" for name in PERSON_COLUMNS]
    household = [f"SUM(CASE WHEN household_outcome = 'updated' AND old_{name} IS DISTINCT FROM new_{name} "
                 "THEN 1 ELSE 0 END)" for name in HOUSEHOLD_FIELDS]
    (row,) = fetch(f"SELECT {', '.join(person + household)} FROM {CLASSIFIED}")
    return {name: int(n) for name, n in zip((*PERSON_COLUMNS, *HOUSEHOLD_FIELDS), row, strict=True) if n}


def _written_value(name: str) -> str:
    """A person field's value after the import, over CLASSIFIED (a blank 個人番号登録 keeps the stored one)."""
    if name == "my_number_registered":
        return "COALESCE(my_number_registered, old_my_number_registered)"
    return name


def counts() -> dict[str, int]:
    found: dict[str, int] = {}
    for outcome, n in fetch(f"SELECT outcome, COUNT(*) FROM {CLASSIFIED} WHERE outcome NOT IN ({_ERRORS}) "
                            "GROUP BY outcome"):
        found[outcome] = n
    for outcome, n in fetch(f"SELECT household_outcome, COUNT(*) FROM {CLASSIFIED} WHERE household_outcome <> '' "
                            "GROUP BY household_outcome"):
        found[f"households_{outcome}"] = n
    (missing,) = fetch(f"SELECT COUNT(*) FROM {CLASSIFIED} WHERE needs_card AND outcome NOT IN ({_ERRORS})")[0]
    if missing:
        found["cards_created"] = missing
    return found


def errors(*, limit: int) -> tuple[list[dict], int]:
    (total,) = fetch(f"SELECT COUNT(*) FROM {CLASSIFIED} WHERE outcome IN ({_ERRORS})")[0]
    if not total:
        return [], 0
    rows = fetch(f"""SELECT line, outcome, employer_code, head_line, first, head_employer_code FROM {CLASSIFIED}
                     WHERE outcome IN ({_ERRORS}) ORDER BY line LIMIT %s""", [limit])
    messages = {
        "duplicate": "記号・番号・枝番が{first}行目と重複しています。",
        "extra_self": "同じ記号・番号の本人が{head}行目にもいます。",
        "bad_employer": "事業所番号「{code}」は登録されていません。",
        "employer_mismatch": "事業所番号が同じ世帯の{head}行目と違います。",
        "vc_mismatch": "任意継続が同じ世帯の{head}行目と違います。",
    }
    # Without its 本人 row in the file, a row is checked against the household as stored.
    stored = {
        "employer_mismatch": "事業所番号が登録済みの世帯の事業所番号（{stored}）と違います。"
                             "世帯の事業所を変えるときは本人の行に書いてください。",
        "vc_mismatch": "登録済みの世帯は任意継続ではありません。任意継続にするときは本人の行に書いてください。",
    }
    return [
        {"line": line, "message": (stored if head is None and outcome in stored else messages)[outcome].format(
            first=first, head=head, code=code, stored=stored_code or "なし")}
        for line, outcome, code, head, first, stored_code in rows
    ], total


def samples() -> dict[str, list]:
    """The first SAMPLE_SIZE rows of each outcome that writes, each stored person's (and household's)
    changes as ``{"field", "before", "after"}`` in the words staff read."""
    found: dict[str, list] = {}
    new = ", ".join(f"t.{name}" for name in PERSON_COLUMNS)
    old = ", ".join(f"t.old_{name}" for name in PERSON_COLUMNS)
    rows = fetch(
        f"""SELECT t.line, t.symbol, t.number, t.branch_number, t.family_name, t.given_name, t.outcome, {new}, {old}
            FROM (SELECT c.*, ROW_NUMBER() OVER (PARTITION BY outcome ORDER BY line) AS rn
                  FROM {CLASSIFIED} c WHERE outcome IN ('created', {_WRITTEN})) t
            WHERE t.rn <= %s ORDER BY t.line""",
        [SAMPLE_SIZE],
    )
    n = len(PERSON_COLUMNS)
    for line, symbol, number, branch, family, given, outcome, *values in rows:
        sample = {"line": line, "key": _key(symbol, number, branch), "name": f"{family} {given}"}
        if outcome != "created":
            after, before = values[:n], values[n:]
            sample["changes"] = [
                _change(name, b, a) for name, a, b in zip(PERSON_COLUMNS, after, before, strict=True)
                if not (name == "my_number_registered" and a is None) and _python(name, a) != _python(name, b)
            ]
        found.setdefault(outcome, []).append(sample)
    new = ", ".join(f"new_{name}" for name in HOUSEHOLD_FIELDS)
    old = ", ".join(f"old_{name}" for name in HOUSEHOLD_FIELDS)
    rows = fetch(f"""SELECT line, symbol, number, {old}, {new} FROM {CLASSIFIED} WHERE household_outcome = 'updated'
                     ORDER BY line LIMIT %s""", [SAMPLE_SIZE])
    n = len(HOUSEHOLD_FIELDS)
    employers = dict(Employer.objects.filter(pk__in={v for row in rows for v in (row[3], row[3 + n]) if v})
                     .values_list("pk", "code"))
    for line, symbol, number, *values in rows:
        before, after = values[:n], values[n:]
        changes = [_change(f, b, a, employers) for f, b, a in zip(HOUSEHOLD_FIELDS, before, after, strict=True)
                   if _python(f, a) != _python(f, b)]
        found.setdefault("households_updated", []).append({"line": line, "key": _key(symbol, number),
                                                           "changes": changes})
    return found


def _change(name: str, before, after, employers: dict | None = None) -> dict[str, str]:
    return {"field": str(FIELD_LABELS[name]), "before": _shown(name, before, employers),
            "after": _shown(name, after, employers)}


def _shown(name: str, value, employers: dict | None = None) -> str:
    """A stored or imported value as staff read it in the preview."""
    value = _python(name, value)
    if value is None or value == "":
        return "なし"
    if name == "employer_id":
        return (employers or {}).get(value, str(value))
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    choices = dict((Person if name in PERSON_COLUMNS else Household)._meta.get_field(name).flatchoices)
    return str(choices.get(value, value))


def _python(name: str, value):
    """A value read back from SQL, comparable across databases (SQLite gives 0/1 and ISO text)."""
    field_type = (Person if name in PERSON_COLUMNS else Household)._meta.get_field(name).get_internal_type()
    if field_type == "BooleanField":
        return as_bool(value)
    if field_type == "DateField":
        return as_date(value)
    return value


def apply(society_id: int, *, now, progress) -> int:
    """Write the classified rows; returns how many rows were written."""
    written = 0
    cols, select, params = insert_select(Household, {
        "society_id": Param(society_id), "symbol": "s.symbol", "number": "s.number",
        **{name: f"s.new_{name}" for name in HOUSEHOLD_FIELDS},
        "postal_code": "COALESCE(s.new_postal_code, '')", "address": "COALESCE(s.new_address, '')",
    })
    written += execute(f"INSERT INTO eligibility_household ({cols}) SELECT {select} FROM {CLASSIFIED} s "
                       "WHERE s.household_outcome = 'created'", params)
    sets = ", ".join(f"{name} = s.new_{name}" for name in HOUSEHOLD_FIELDS)
    written += execute(
        f"""UPDATE eligibility_household SET {sets} FROM {CLASSIFIED} s
            WHERE s.household_outcome = 'updated' AND eligibility_household.id = s.household_id"""
    )
    progress(written)
    given = {name: f"s.{name}" for name in PERSON_FIELDS}
    given.update({"household_id": "h.id", "branch_number": "s.branch_number", "search_text": "s.search_text",
                  "my_number_registered": "COALESCE(s.my_number_registered, TRUE)"})
    cols, select, params = insert_select(Person, given)
    written += execute(
        f"""INSERT INTO eligibility_person ({cols}) SELECT {select} FROM {CLASSIFIED} s
            JOIN eligibility_household h ON h.society_id = %s AND h.symbol = s.symbol AND h.number = s.number
            WHERE s.outcome = 'created'""",
        [*params, society_id],
    )
    progress(written)
    sets = [f"{name} = s.{name}" for name in PERSON_FIELDS]
    sets.append("my_number_registered = COALESCE(s.my_number_registered, eligibility_person.my_number_registered)")
    # The folded names for search; a person with a 印字用氏名 gets it folded in too, below.
    sets.append("search_text = CASE WHEN eligibility_person.print_name = '' THEN s.search_text "
                "ELSE eligibility_person.search_text END")
    written += execute(
        f"""UPDATE eligibility_person SET {", ".join(sets)} FROM {CLASSIFIED} s
            WHERE s.outcome IN ({_WRITTEN}) AND eligibility_person.id = s.person_id"""
    )
    with_print_name = [pk for (pk,) in fetch(
        f"""SELECT p.id FROM {CLASSIFIED} s JOIN eligibility_person p ON p.id = s.person_id
            WHERE s.outcome IN ({_WRITTEN}) AND p.print_name <> ''"""
    )]
    persons = [p.fill_search_text() for p in Person.objects.filter(pk__in=with_print_name).only(
        "pk", *Person.SEARCHED_FIELDS)]
    Person.objects.bulk_update(persons, ["search_text"], batch_size=1000)
    progress(written)
    # Every person has card facts (all unknown at first: derive() leaves the derived dates null).
    cols, select, params = insert_select(CardFacts, {"person_id": "p.id", "updated_at": Param(now)})
    execute(
        f"""INSERT INTO eligibility_cardfacts ({cols}) SELECT {select}
            FROM {CLASSIFIED} s
            JOIN eligibility_household h ON h.society_id = %s AND h.symbol = s.symbol AND h.number = s.number
            JOIN eligibility_person p ON p.household_id = h.id AND p.branch_number = s.branch_number
            WHERE (s.outcome = 'created' OR (s.needs_card AND s.outcome NOT IN ({_ERRORS})))
            ON CONFLICT (person_id) DO NOTHING""",
        [*params, society_id],
    )
    progress(written)
    return written
