"""The registration-status file (利用登録状況), set-based: checks and writes over its staged rows.

Each staged row is joined with its person and card facts and given an ``outcome``
(``_classification``):

- ``duplicate`` / ``unknown``: errors (the same person on an earlier row, marked by
  ``mark_duplicates`` for the check; nobody with that key);
- ``new_card``: the person has no card facts yet (counted as ``updated``);
- ``kept``: a newer statement stays — a later file's, or a member's or staff's dated
  **the same day or later** (the tie rule: what a person told us on the file's as-of
  day is at least as fresh as the national file);
- ``unchanged``: the same file was imported before;
- ``updated``: everything else.

The write classifies every row at once into a temporary table (``CLASSIFIED``) and
applies it. The check (``check``) reads a clean file's classification once, for its
counts and sample lines, and materialises it only for a file with a bad row, to name each.

Writes keep what ``eligibility.services.update_card_facts`` keeps for a member's
change: the card facts, their derived dates (computed by ``CardFacts.derive()`` —
``rules.py`` — for the few rows whose dates change), and one history row per person.
"""

from django.db import connection

from eligibility.models import CardFacts, CardFactsChange

from .models import StagedRegistrationRow
from .staging import (
    Param,
    as_bool,
    as_date,
    create_temp,
    drop_temp,
    execute,
    fetch,
    insert_select,
    join_by_index,
    join_whole_tables,
    local_date,
    vendor,
)

STG = StagedRegistrationRow._meta.db_table
CLASSIFIED = "imports_registration_classified"
FIELDS = ("run_id", "line", "symbol", "number", "branch_number", "registered", "as_of")
ERROR_OUTCOMES = ("duplicate", "unknown")
SAMPLE_SIZE = 200


def copy_line(row, run_id: int) -> str:
    """A staged row in COPY's text format (digits and ISO dates only: nothing to escape)."""
    return (f"{run_id}\t{row.line}\t{row.symbol}\t{row.number}\t{row.branch_number}\t"
            f"{'t' if row.registered else 'f'}\t{row.as_of.isoformat()}\n")


def key_text(symbol: str, number: str, branch: str) -> str:
    return f"{symbol}-{number}-{branch}"


def _classification(where: str) -> str:
    """Each staged row (those ``where`` picks) with its person, facts and outcome against the
    database as it is now. Its parameters: the society's id, then ``where``'s."""
    stated_on = f"COALESCE(c.registration_as_of, {local_date('c.updated_at')})"
    return f"""
        SELECT t.*, CASE
            WHEN t.person_id IS NULL THEN 'unknown'
            WHEN t.card_id IS NULL THEN 'new_card'
            WHEN t.old_source IN ('member', 'staff') AND t.stated_on >= t.as_of THEN 'kept'
            WHEN t.old_source = 'national_file' AND t.stated_on > t.as_of THEN 'kept'
            WHEN t.old_registered = t.registered AND t.old_source = 'national_file'
                 AND t.old_as_of = t.as_of THEN 'unchanged'
            ELSE 'updated' END AS outcome
        FROM (
            SELECT s.line, s.symbol, s.number, s.branch_number, s.registered, s.as_of, s.line AS first,
                   p.id AS person_id, c.person_id AS card_id, c.has_card, c.registered AS old_registered,
                   c.registration_source AS old_source, c.registration_as_of AS old_as_of,
                   {stated_on} AS stated_on, c.card_expires_on, c.ecert_expires_on
            FROM {STG} s
            LEFT JOIN eligibility_household h ON h.society_id = %s AND h.symbol = s.symbol AND h.number = s.number
            LEFT JOIN eligibility_person p ON p.household_id = h.id AND p.branch_number = s.branch_number
            LEFT JOIN eligibility_cardfacts c ON c.person_id = p.id
            WHERE {where}
        ) t"""


def classify(run_id: int, society_id: int, *, large: bool = False) -> None:
    """Every row of a run, classified at once (into CLASSIFIED). The check then looks for the
    same person twice (``mark_duplicates``); the write need not (the check refused such a file)."""
    create_temp(CLASSIFIED, _classification("s.run_id = %s"), [society_id, run_id], large=large)


def mark_duplicates() -> None:
    """The same person on more than one row: every row after the first is an error. (Rows of a
    key nobody has are errors already, each of them: 「加入者が見つかりません」.)"""
    execute(f"""
        UPDATE {CLASSIFIED} SET outcome = 'duplicate', first = d.first
        FROM (SELECT person_id, MIN(line) AS first FROM {CLASSIFIED} WHERE person_id IS NOT NULL
              GROUP BY person_id HAVING COUNT(*) > 1) d
        WHERE {CLASSIFIED}.person_id = d.person_id AND {CLASSIFIED}.line <> d.first""")


def done() -> None:
    drop_temp(CLASSIFIED)


def tally() -> tuple[dict[str, int], int]:
    """The rows per outcome, as staff see them, and the bad rows: one pass."""
    return _as_staff_see(fetch(f"SELECT outcome, COUNT(*) FROM {CLASSIFIED} GROUP BY outcome"))


def _as_staff_see(outcomes) -> tuple[dict[str, int], int]:
    """``(outcome, rows)`` pairs as the preview counts them (a new card is ``updated``), and the bad rows."""
    found: dict[str, int] = {}
    bad = 0
    for outcome, n in outcomes:
        if outcome in ERROR_OUTCOMES:
            bad += n
            continue
        name = "updated" if outcome == "new_card" else outcome
        found[name] = found.get(name, 0) + n
    return found, bad


def errors(*, limit: int) -> list[dict]:
    """The first ``limit`` bad rows the checks found, by line."""
    rows = fetch(f"""SELECT line, outcome, symbol, number, branch_number, first FROM {CLASSIFIED}
                     WHERE outcome IN ('duplicate', 'unknown') ORDER BY line LIMIT %s""", [limit])
    found = []
    for line, outcome, symbol, number, branch, first in rows:
        if outcome == "duplicate":
            message = f"記号・番号・枝番が{first}行目と重複しています。"
        else:
            message = f"記号・番号・枝番「{key_text(symbol, number, branch)}」の加入者が見つかりません。"
        found.append({"line": line, "message": message})
    return found


def samples(counts: dict[str, int]) -> dict[str, list]:
    """The first SAMPLE_SIZE rows (by line) that would be updated, and those kept (each a scan of
    the classified rows: only for an outcome that ``counts`` says some rows have)."""
    selects = [f"SELECT * FROM (SELECT {SAMPLE_COLUMNS}, '{name}' AS grp FROM {CLASSIFIED} WHERE {_in_group(name)} "
               f"ORDER BY line LIMIT {SAMPLE_SIZE:d}) {name}" for name in SAMPLE_GROUPS if counts.get(name)]
    return _samples(fetch(" UNION ALL ".join(selects) + " ORDER BY line") if selects else [])


# The preview's samples: the rows that would be updated (a new card counts as updated) and those kept.
SAMPLE_GROUPS = {"updated": ("updated", "new_card"), "kept": ("kept",)}
SAMPLE_COLUMNS = "line, symbol, number, branch_number, registered, as_of, old_source, stated_on"


def _in_group(name: str) -> str:
    return "outcome IN (" + ", ".join(f"'{outcome}'" for outcome in SAMPLE_GROUPS[name]) + ")"


def _samples(rows) -> dict[str, list]:
    """Samples as the preview shows them, from rows of SAMPLE_COLUMNS and their group, by line."""
    found: dict[str, list] = {}
    for line, symbol, number, branch, registered, as_of, source, stated_on, group_name in rows:
        sample = {"line": line, "key": key_text(symbol, number, branch), "registered": bool(registered),
                  "as_of": as_date(as_of).isoformat()}
        if group_name == "kept":
            sample["source"] = str(CardFacts.RegistrationSource(source).label)
            sample["stated_on"] = as_date(stated_on).isoformat()
        found.setdefault(group_name, []).append(sample)
    return found


def check(run_id: int, society_id: int, *, large: bool, error_limit: int) -> tuple[dict[str, int], int, list, dict]:
    """What the preview shows of a staged run: the rows per outcome, the bad rows (their count
    and the first ``error_limit``) and the samples.

    A clean file (the usual case) is classified in one reading query that counts the outcomes,
    looks for the same person twice and picks the sample lines; only the samples' rows are then
    classified again, by line. A file with a bad row (it will be refused) is classified into
    CLASSIFIED, where each bad row is found and named; so is every file on SQLite (the embedded
    default: a small society, and no array aggregates)."""
    if vendor() == "postgresql":
        outcomes, repeated, lines = _summary(run_id, society_id, large=large)
        counts, bad = _as_staff_see(outcomes.items())
        if not repeated and not bad:
            return counts, 0, [], _samples_at(run_id, society_id, lines)
    classify(run_id, society_id, large=large)
    mark_duplicates()
    counts, bad = tally()
    found = errors(limit=error_limit)
    picked = samples(counts)
    done()
    return counts, bad, found, picked


def _summary(run_id: int, society_id: int, *, large: bool) -> tuple[dict[str, int], int, dict[str, list[int]]]:
    """(PostgreSQL) One reading of the classified rows: the rows per outcome, how many rows
    name a person an earlier row names, and the first SAMPLE_SIZE lines of each sample group."""
    picks = ", ".join(f"(array_agg(line ORDER BY line) FILTER (WHERE {_in_group(name)}))[1:{SAMPLE_SIZE:d}]"
                      for name in SAMPLE_GROUPS)
    outcomes: dict[str, int] = {}
    repeated = 0
    lines: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        if large:
            join_whole_tables(cursor, parallel=True)
        cursor.execute(
            f"""SELECT outcome, COUNT(*), COUNT(person_id) - COUNT(DISTINCT person_id), {picks}
                FROM ({_classification("s.run_id = %s")}) c GROUP BY ROLLUP (outcome)""",
            [society_id, run_id],
        )
        for outcome, n, same_person, *picked in cursor.fetchall():
            if outcome is not None:
                outcomes[outcome] = n
                continue
            repeated = same_person  # the whole file's row (ROLLUP's total)
            for name, found in zip(SAMPLE_GROUPS, picked, strict=True):
                if found:
                    lines[name] = found
    return outcomes, repeated, lines


def _samples_at(run_id: int, society_id: int, lines: dict[str, list[int]]) -> dict[str, list]:
    """The samples of a clean file: its sample lines classified again, by line (few rows: by index)."""
    wanted = {line: name for name, found in lines.items() for line in found}
    if not wanted:
        return {}
    with connection.cursor() as cursor:
        join_by_index(cursor)  # after _summary's hash joins
        marks = ", ".join(["%s"] * len(wanted))
        cursor.execute(f"SELECT {SAMPLE_COLUMNS} FROM ({_classification(f's.run_id = %s AND s.line IN ({marks})')}) c "
                       "ORDER BY line", [society_id, run_id, *wanted])
        rows = cursor.fetchall()
    return _samples([(*row, wanted[row[0]]) for row in rows])


def apply(*, user_id: int | None, now, progress) -> int:
    """Write the classified rows; returns how many persons' facts were written."""
    # Card facts whose card becomes known with its dates: their derived dates change
    # (rare: a card without a registration whose expiry a member already stated).
    flips = fetch(
        f"""SELECT person_id, card_expires_on, ecert_expires_on FROM {CLASSIFIED}
            WHERE outcome = 'updated' AND NOT COALESCE(has_card, FALSE) AND registered
              AND (card_expires_on IS NOT NULL OR ecert_expires_on IS NOT NULL)"""
    )
    written = _history(user_id=user_id, now=now)
    progress(written // 3)
    # A new card's dates are all unknown, so its derived dates are null (as derive() makes them).
    columns, select, params = insert_select(CardFacts, {
        "person_id": "s.person_id", "has_card": "s.registered", "registered": "s.registered",
        "registration_source": "'national_file'", "registration_as_of": "s.as_of",
        "updated_at": Param(now), "updated_by_id": Param(user_id),
    })
    execute(
        f"""INSERT INTO eligibility_cardfacts ({columns}) SELECT {select}
            FROM {CLASSIFIED} s WHERE s.outcome = 'new_card'
            ON CONFLICT (person_id) DO NOTHING""",
        params,
    )
    progress(2 * written // 3)
    execute(
        f"""UPDATE eligibility_cardfacts SET has_card = (COALESCE(s.has_card, FALSE) OR s.registered),
                registered = s.registered, registration_source = 'national_file', registration_as_of = s.as_of,
                updated_at = %s, updated_by_id = %s
            FROM {CLASSIFIED} s
            WHERE s.outcome = 'updated' AND eligibility_cardfacts.person_id = s.person_id""",
        [now, user_id],
    )
    if flips:
        cards = [
            CardFacts(person_id=pk, has_card=True, card_expires_on=as_date(card), ecert_expires_on=as_date(ecert)).derive()
            for pk, card, ecert in flips
        ]
        CardFacts.objects.bulk_update(cards, ["effective_expires_on", "renewal_opens_on", "grace_ends_on"],
                                      batch_size=1000)
    progress(written)
    return written


def _history(*, user_id: int | None, now) -> int:
    """One history row per person whose facts change (source: the national file), from the
    facts as they were when classified."""
    if vendor() == "postgresql":
        # Every field, then the unchanged ones taken out (an old null stays: it is a change).
        names = ("has_card", "registered", "registration_source", "registration_as_of")
        old = ("s.has_card", "s.old_registered", "s.old_source", "s.old_as_of")
        new = ("(COALESCE(s.has_card, FALSE) OR s.registered)", "s.registered", "'national_file'::text", "s.as_of")
        unchanged = "ARRAY[" + ", ".join(
            f"CASE WHEN {o} IS NOT DISTINCT FROM {n} THEN '{name}' END" for name, o, n in zip(names, old, new, strict=True)
        ) + "]::text[]"
        before = "jsonb_build_object(" + ", ".join(f"'{n}', {o}" for n, o in zip(names, old, strict=True)) + f") - {unchanged}"
        after = "jsonb_build_object(" + ", ".join(f"'{n}', {v}" for n, v in zip(names, new, strict=True)) + f") - {unchanged}"
        new_card = ("jsonb_build_object('has_card', s.registered, 'registered', s.registered, "
                    "'registration_source', 'national_file', 'registration_as_of', s.as_of)")
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO eligibility_cardfactschange (person_id, changed_at, changed_by_id, source, "before", "after")
                    SELECT s.person_id, %s, %s, 'national_file',
                           CASE WHEN s.outcome = 'new_card' THEN '{{}}'::jsonb ELSE {before} END,
                           CASE WHEN s.outcome = 'new_card' THEN {new_card} ELSE {after} END
                    FROM {CLASSIFIED} s WHERE s.outcome IN ('updated', 'new_card')""",
                [now, user_id],
            )
            return cursor.rowcount
    # SQLite (the embedded default, a small society): the same rows built in Python.
    rows = fetch(
        f"""SELECT person_id, outcome, registered, as_of, has_card, old_registered, old_source, old_as_of
            FROM {CLASSIFIED} WHERE outcome IN ('updated', 'new_card') ORDER BY line"""
    )
    history = []
    for person_id, outcome, registered, as_of, has_card, old_registered, source, old_as_of in rows:
        registered, as_of = bool(registered), as_date(as_of)
        if outcome == "new_card":
            before, after = {}, {"has_card": registered, "registered": registered,
                                 "registration_source": "national_file", "registration_as_of": as_of.isoformat()}
        else:
            old = {"has_card": as_bool(has_card), "registered": as_bool(old_registered),
                   "registration_source": source, "registration_as_of": as_date(old_as_of)}
            # A row in the file: never unknown again (R5).
            new = {"has_card": bool(has_card) or registered, "registered": registered,
                   "registration_source": "national_file", "registration_as_of": as_of}
            changed = [name for name in old if old[name] != new[name]]
            before = {name: _jsonable(old[name]) for name in changed}
            after = {name: _jsonable(new[name]) for name in changed}
        history.append(CardFactsChange(person_id=person_id, changed_at=now, changed_by_id=user_id,
                                       source=CardFactsChange.Source.NATIONAL_FILE, before=before, after=after))
    CardFactsChange.objects.bulk_create(history, batch_size=2000)
    return len(history)


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
