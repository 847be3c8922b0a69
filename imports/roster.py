"""The roster (加入者名簿), set-based: checks and writes over its staged rows.

A household's own values (事業所, 任意継続 and its end, 郵便番号・住所) come from its
head row: its insured person's (本人), or its first row. Each staged row gets an
``outcome``: an error (``duplicate``, ``extra_self``, ``bad_employer``,
``employer_mismatch``, ``vc_mismatch``) or what it does to its person (``created``,
``updated``, ``ended`` — a 資格喪失日 appears —, ``unchanged``); head rows also get a
``household_outcome`` (``created``, ``updated``). Persons not in the file are left as
they are.
"""

from eligibility.models import CardFacts, Household, Person

from .models import StagedRosterRow
from .parsers import PERSON_FIELDS
from .staging import Param, as_bool, as_date, execute, fetch, insert_select

STG = StagedRosterRow._meta.db_table
FIELDS = (
    "run_id", "line", "symbol", "number", "branch_number", "relationship", "family_name", "given_name",
    "family_name_kana", "given_name_kana", "sex", "birth_date", "eligible_from", "eligible_until",
    "certificate_wanted", "my_number_registered", "employer_code", "voluntary_continuation",
    "voluntary_continuation_ends_on", "postal_code", "address",
)
ERROR_OUTCOMES = ("duplicate", "extra_self", "bad_employer", "employer_mismatch", "vc_mismatch")
_ERRORS = ", ".join(f"'{o}'" for o in ERROR_OUTCOMES)
SAMPLE_SIZE = 200
# Person columns a roster sets; 個人番号登録 only when the row says 済 or 未.
PERSON_COLUMNS = (*PERSON_FIELDS, "my_number_registered")
# The optional household columns, by the header name that carries each.
HOUSEHOLD_OPTIONAL = {"voluntary_continuation_ends_on": "任意継続終了日", "postal_code": "郵便番号", "address": "住所"}
FIELD_LABELS = {
    "relationship": "続柄", "family_name": "氏", "given_name": "名", "family_name_kana": "氏カナ",
    "given_name_kana": "名カナ", "sex": "性別", "birth_date": "生年月日", "eligible_from": "資格取得日",
    "eligible_until": "資格喪失日", "certificate_wanted": "資格確認書発行要否", "my_number_registered": "個人番号登録",
    "employer_id": "事業所番号", "voluntary_continuation": "任意継続",
    "voluntary_continuation_ends_on": "任意継続終了日", "postal_code": "郵便番号", "address": "住所",
}


def _key(symbol, number, branch=None) -> str:
    return "-".join(x for x in (symbol, number, branch) if x is not None)


def check_file(run_id: int) -> None:
    """The checks that need only the file: one row per person, one insured person per household,
    one 事業所 and 任意継続 per household."""
    execute(
        f"""UPDATE {STG} SET outcome = 'duplicate' WHERE id IN (
              SELECT id FROM (SELECT id, line, MIN(line) OVER (PARTITION BY symbol, number, branch_number) AS first
                              FROM {STG} WHERE run_id = %s) d
              WHERE d.line <> d.first)""",
        [run_id],
    )
    execute(
        f"""UPDATE {STG} SET is_head = TRUE WHERE id IN (
              SELECT id FROM (SELECT id, ROW_NUMBER() OVER (
                                PARTITION BY symbol, number
                                ORDER BY CASE WHEN relationship = 'self' THEN 0 ELSE 1 END, line) AS rn
                              FROM {STG} WHERE run_id = %s AND outcome = '') t
              WHERE t.rn = 1)""",
        [run_id],
    )
    execute(f"""UPDATE {STG} SET outcome = 'extra_self'
                WHERE run_id = %s AND outcome = '' AND NOT is_head AND relationship = 'self'""", [run_id])
    execute(
        f"""UPDATE {STG} SET outcome = CASE
              WHEN {STG}.employer_code <> '' AND {STG}.employer_code <> h.employer_code THEN 'employer_mismatch'
              WHEN {STG}.voluntary_continuation AND NOT h.voluntary_continuation THEN 'vc_mismatch'
              ELSE '' END
            FROM {STG} AS h
            WHERE {STG}.run_id = %s AND {STG}.outcome = '' AND NOT {STG}.is_head
              AND h.run_id = {STG}.run_id AND h.symbol = {STG}.symbol AND h.number = {STG}.number AND h.is_head""",
        [run_id],
    )


def classify(run_id: int, society_id: int, *, columns: list[str]) -> None:
    """Name each row's employer, household and person, and what it does, against the database now."""
    execute(
        f"""UPDATE {STG} SET employer_id = NULL, household_id = NULL, person_id = NULL, household_outcome = '',
                outcome = CASE WHEN outcome IN ({_ERRORS}) AND outcome <> 'bad_employer' THEN outcome ELSE '' END
            WHERE run_id = %s""",
        [run_id],
    )
    execute(
        f"""UPDATE {STG} SET employer_id = e.id FROM eligibility_employer e
            WHERE {STG}.run_id = %s AND {STG}.is_head AND e.society_id = %s AND e.code = {STG}.employer_code""",
        [run_id, society_id],
    )
    execute(f"""UPDATE {STG} SET outcome = 'bad_employer' WHERE run_id = %s AND is_head AND outcome = ''
                AND employer_code <> '' AND employer_id IS NULL""", [run_id])
    _resolve_households(run_id, society_id)
    execute(
        f"""UPDATE {STG} SET person_id = p.id FROM eligibility_person p
            WHERE {STG}.run_id = %s AND p.household_id = {STG}.household_id
              AND p.branch_number = {STG}.branch_number""",
        [run_id],
    )
    execute(f"UPDATE {STG} SET outcome = 'created' WHERE run_id = %s AND outcome = '' AND person_id IS NULL",
            [run_id])
    differs = " OR ".join(
        f"p.{name} IS DISTINCT FROM {_new_person_value(name)}" for name in PERSON_COLUMNS
    )
    execute(
        f"""UPDATE {STG} SET outcome = CASE
              WHEN NOT ({differs}) THEN 'unchanged'
              WHEN p.eligible_until IS NULL AND {STG}.eligible_until IS NOT NULL THEN 'ended'
              ELSE 'updated' END
            FROM eligibility_person p
            WHERE {STG}.run_id = %s AND {STG}.outcome = '' AND p.id = {STG}.person_id""",
        [run_id],
    )
    execute(f"""UPDATE {STG} SET household_outcome = 'created'
                WHERE run_id = %s AND is_head AND outcome NOT IN ({_ERRORS}) AND household_id IS NULL""", [run_id])
    household_differs = " OR ".join(
        f"h.{name} IS DISTINCT FROM {_new_household_value(name, columns)}" for name in _household_fields()
    )
    execute(
        f"""UPDATE {STG} SET household_outcome = 'updated' FROM eligibility_household h
            WHERE {STG}.run_id = %s AND {STG}.is_head AND {STG}.outcome NOT IN ({_ERRORS})
              AND h.id = {STG}.household_id AND ({household_differs})""",
        [run_id],
    )


def _resolve_households(run_id: int, society_id: int) -> None:
    execute(
        f"""UPDATE {STG} SET household_id = h.id FROM eligibility_household h
            WHERE {STG}.run_id = %s AND {STG}.household_id IS NULL AND h.society_id = %s
              AND h.symbol = {STG}.symbol AND h.number = {STG}.number""",
        [run_id, society_id],
    )


def _new_person_value(name: str) -> str:
    if name == "my_number_registered":
        return f"COALESCE({STG}.my_number_registered, p.my_number_registered)"
    return f"{STG}.{name}"


def _household_fields() -> tuple[str, ...]:
    return ("employer_id", "voluntary_continuation", *HOUSEHOLD_OPTIONAL)


def _new_household_value(name: str, columns: list[str], *, old: str = "h") -> str:
    """SQL for a household field's value after the import; an absent optional column keeps the old one."""
    if name in HOUSEHOLD_OPTIONAL and HOUSEHOLD_OPTIONAL[name] not in columns:
        return f"{old}.{name}"
    return f"{STG}.{name}"


def counts(run_id: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for outcome, n in fetch(f"""SELECT outcome, COUNT(*) FROM {STG} WHERE run_id = %s
                                AND outcome NOT IN ({_ERRORS}) GROUP BY outcome""", [run_id]):
        found[outcome] = n
    for outcome, n in fetch(f"""SELECT household_outcome, COUNT(*) FROM {STG} WHERE run_id = %s
                                AND household_outcome <> '' GROUP BY household_outcome""", [run_id]):
        found[f"households_{outcome}"] = n
    (missing,) = fetch(
        f"""SELECT COUNT(*) FROM {STG} s WHERE s.run_id = %s AND s.person_id IS NOT NULL
            AND s.outcome NOT IN ({_ERRORS})
            AND NOT EXISTS (SELECT 1 FROM eligibility_cardfacts c WHERE c.person_id = s.person_id)""",
        [run_id],
    )[0]
    if missing:
        found["cards_created"] = missing
    return found


def errors(run_id: int, *, limit: int) -> tuple[list[dict], int]:
    (total,) = fetch(f"SELECT COUNT(*) FROM {STG} WHERE run_id = %s AND outcome IN ({_ERRORS})", [run_id])[0]
    if not total:
        return [], 0
    rows = fetch(
        f"""SELECT s.line, s.outcome, s.employer_code, h.line,
                   (SELECT MIN(o.line) FROM {STG} o WHERE o.run_id = s.run_id AND o.symbol = s.symbol
                      AND o.number = s.number AND o.branch_number = s.branch_number)
            FROM {STG} s LEFT JOIN {STG} h ON h.run_id = s.run_id AND h.symbol = s.symbol AND h.number = s.number
                                          AND h.is_head
            WHERE s.run_id = %s AND s.outcome IN ({_ERRORS}) ORDER BY s.line LIMIT %s""",
        [run_id, limit],
    )
    messages = {
        "duplicate": "記号・番号・枝番が{first}行目と重複しています。",
        "extra_self": "同じ記号・番号の本人が{head}行目にもいます。",
        "bad_employer": "事業所番号「{code}」は登録されていません。",
        "employer_mismatch": "事業所番号が同じ世帯の{head}行目と違います。",
        "vc_mismatch": "任意継続が同じ世帯の{head}行目と違います。",
    }
    return [
        {"line": line, "message": messages[outcome].format(first=first, head=head, code=code)}
        for line, outcome, code, head, first in rows
    ], total


def samples(run_id: int, *, columns: list[str]) -> dict[str, list]:
    found: dict[str, list] = {}
    person_columns = ", ".join(f"p.{name}" for name in PERSON_COLUMNS)
    rows = fetch(
        f"""SELECT t.line, t.symbol, t.number, t.branch_number, t.family_name, t.given_name, t.outcome,
                   {", ".join(f"t.{name}" for name in PERSON_COLUMNS)}, {person_columns}
            FROM (SELECT s.*, ROW_NUMBER() OVER (PARTITION BY outcome ORDER BY line) AS rn
                  FROM {STG} s WHERE run_id = %s AND outcome IN ('created', 'updated', 'ended')) t
            LEFT JOIN eligibility_person p ON p.id = t.person_id
            WHERE t.rn <= %s ORDER BY t.line""",
        [run_id, SAMPLE_SIZE],
    )
    n = len(PERSON_COLUMNS)
    for line, symbol, number, branch, family, given, outcome, *values in rows:
        sample = {"line": line, "key": _key(symbol, number, branch), "name": f"{family} {given}"}
        if outcome != "created":
            new, old = values[:n], values[n:]
            sample["changes"] = [
                FIELD_LABELS[name] for name, a, b in zip(PERSON_COLUMNS, old, new, strict=True)
                if b is not None or name != "my_number_registered"
                if _python(name, a) != _python(name, b)
            ]
        found.setdefault(outcome, []).append(sample)
    fields = _household_fields()
    rows = fetch(
        f"""SELECT t.symbol, t.number, {", ".join(f"h.{f}" for f in fields)},
                   {", ".join(_new_household_value(f, columns, old="h").replace(STG, "t") for f in fields)}
            FROM {STG} t JOIN eligibility_household h ON h.id = t.household_id
            WHERE t.run_id = %s AND t.household_outcome = 'updated' ORDER BY t.line LIMIT %s""",
        [run_id, SAMPLE_SIZE],
    )
    for symbol, number, *values in rows:
        old, new = values[:len(fields)], values[len(fields):]
        changes = [FIELD_LABELS[f] for f, a, b in zip(fields, old, new, strict=True) if _python(f, a) != _python(f, b)]
        found.setdefault("households_updated", []).append({"key": _key(symbol, number), "changes": changes})
    return found


def _python(name: str, value):
    """A value read back from SQL, comparable across databases (SQLite gives 0/1 and ISO text)."""
    field_type = (Person if name in PERSON_COLUMNS else Household)._meta.get_field(name).get_internal_type()
    if field_type == "BooleanField":
        return as_bool(value)
    if field_type == "DateField":
        return as_date(value)
    return value


def apply(run_id: int, society_id: int, *, columns: list[str], now, progress) -> int:
    """Write the classified rows; returns how many rows were written."""
    written = 0
    optional = {name: HOUSEHOLD_OPTIONAL[name] in columns for name in HOUSEHOLD_OPTIONAL}
    given = {
        "society_id": Param(society_id), "employer_id": "s.employer_id", "symbol": "s.symbol", "number": "s.number",
        "voluntary_continuation": "s.voluntary_continuation",
        "voluntary_continuation_ends_on": "s.voluntary_continuation_ends_on",
        "postal_code": "COALESCE(s.postal_code, '')", "address": "COALESCE(s.address, '')",
    }
    cols, select, params = insert_select(Household, given)
    written += execute(
        f"""INSERT INTO eligibility_household ({cols}) SELECT {select} FROM {STG} s
            WHERE s.run_id = %s AND s.household_outcome = 'created'""",
        [*params, run_id],
    )
    sets = ["employer_id = s.employer_id", "voluntary_continuation = s.voluntary_continuation",
            "postal_code = COALESCE(s.postal_code, eligibility_household.postal_code)",
            "address = COALESCE(s.address, eligibility_household.address)"]
    if optional["voluntary_continuation_ends_on"]:
        sets.append("voluntary_continuation_ends_on = s.voluntary_continuation_ends_on")
    written += execute(
        f"""UPDATE eligibility_household SET {", ".join(sets)} FROM {STG} s
            WHERE s.run_id = %s AND s.household_outcome = 'updated' AND eligibility_household.id = s.household_id""",
        [run_id],
    )
    progress(written)
    _resolve_households(run_id, society_id)
    given = {name: f"s.{name}" for name in PERSON_FIELDS}
    given.update({"household_id": "s.household_id", "branch_number": "s.branch_number",
                  "my_number_registered": "COALESCE(s.my_number_registered, TRUE)"})
    cols, select, params = insert_select(Person, given)
    written += execute(
        f"""INSERT INTO eligibility_person ({cols}) SELECT {select} FROM {STG} s
            WHERE s.run_id = %s AND s.outcome = 'created'""",
        [*params, run_id],
    )
    progress(written)
    sets = [f"{name} = s.{name}" for name in PERSON_FIELDS]
    sets.append("my_number_registered = COALESCE(s.my_number_registered, eligibility_person.my_number_registered)")
    written += execute(
        f"""UPDATE eligibility_person SET {", ".join(sets)} FROM {STG} s
            WHERE s.run_id = %s AND s.outcome IN ('updated', 'ended') AND eligibility_person.id = s.person_id""",
        [run_id],
    )
    progress(written)
    # Every person has card facts (all unknown at first: derive() leaves the derived dates null).
    cols, select, params = insert_select(CardFacts, {"person_id": "p.id", "updated_at": Param(now)})
    execute(
        f"""INSERT INTO eligibility_cardfacts ({cols}) SELECT {select}
            FROM {STG} s JOIN eligibility_person p ON p.household_id = s.household_id
                                                  AND p.branch_number = s.branch_number
            WHERE s.run_id = %s AND s.outcome NOT IN ({_ERRORS})
              AND NOT EXISTS (SELECT 1 FROM eligibility_cardfacts c WHERE c.person_id = p.id)
            ON CONFLICT (person_id) DO NOTHING""",
        [*params, run_id],
    )
    progress(written)
    return written
