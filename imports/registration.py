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

Each ``updated`` or ``new_card`` row also has a ``change``, the kind of change staff see
counted apart in the preview (``CHANGES``): a status that flips (``to_registered``,
``to_unregistered``), a first statement where nobody had said anything
(``new_registered``, ``new_unregistered``), or the same status with a newer 基準日 or
another source (``as_of_only``) — the monthly file's usual row.

The write classifies every row at once into a temporary table (``CLASSIFIED``) and
applies it. The check (``check``) reads a clean file's classification once, for its
counts and sample lines, and materialises it only for a file with a bad row, to name each.

Writes keep what ``eligibility.services.update_card_facts`` keeps for a member's
change: the card facts, their derived dates (computed by ``CardFacts.derive()`` —
``rules.py`` — for the few rows whose dates change), and one history row per person.
"""

from django.db import connection
from django.utils.translation import gettext_lazy as _

from eligibility.models import CardFacts, CardFactsChange

from .models import StagedRegistrationRow
from .staging import (
    LARGE,
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


# The kinds of change (``change``) by the preview's order, with the words staff read.
CHANGES = {
    "to_unregistered": _("登録済 → 未登録"),
    "to_registered": _("未登録 → 登録済"),
    "new_registered": _("記録なし → 登録済"),
    "new_unregistered": _("記録なし → 未登録"),
    "as_of_only": _("登録状況は同じ（基準日・出所だけ更新）"),
}


def _classification(where: str) -> str:
    """Each staged row (those ``where`` picks) with its person, facts, outcome and kind of change
    against the database as it is now. Its parameters: the society's id, then ``where``'s."""
    stated_on = f"COALESCE(c.registration_as_of, {local_date('c.updated_at')})"
    return f"""
        SELECT o.*, CASE
            WHEN o.outcome NOT IN ('updated', 'new_card') THEN NULL
            WHEN o.outcome = 'new_card' OR o.old_source = '' THEN
                CASE WHEN o.registered THEN 'new_registered' ELSE 'new_unregistered' END
            WHEN o.old_registered <> o.registered THEN
                CASE WHEN o.registered THEN 'to_registered' ELSE 'to_unregistered' END
            ELSE 'as_of_only' END AS change
        FROM (
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
        ) t) o"""


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


def tally() -> tuple[dict[str, int], dict[str, int], int]:
    """The rows per outcome and per kind of change, as staff see them, and the bad rows: one pass."""
    return _as_staff_see(fetch(f"SELECT outcome, change, COUNT(*) FROM {CLASSIFIED} GROUP BY outcome, change"))


def _as_staff_see(outcomes) -> tuple[dict[str, int], dict[str, int], int]:
    """``(outcome, change, rows)`` as the preview counts them (a new card is ``updated``): the rows
    per outcome, per kind of change, and the bad rows."""
    found: dict[str, int] = {}
    kinds: dict[str, int] = {}
    bad = 0
    for outcome, change, n in outcomes:
        if outcome in ERROR_OUTCOMES:
            bad += n
            continue
        name = "updated" if outcome == "new_card" else outcome
        found[name] = found.get(name, 0) + n
        if change:
            kinds[change] = kinds.get(change, 0) + n
    return found, {kind: kinds[kind] for kind in CHANGES if kind in kinds}, bad


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


def samples(kinds: dict[str, int], counts: dict[str, int]) -> dict[str, list]:
    """The first SAMPLE_SIZE rows (by line) of each kind of change, and of those kept (each a scan
    of the classified rows: only for a group that ``kinds`` or ``counts`` says some rows have)."""
    selects = [f"SELECT * FROM (SELECT {SAMPLE_COLUMNS}, '{name}' AS grp FROM {CLASSIFIED} WHERE {_in_group(name)} "
               f"ORDER BY line LIMIT {SAMPLE_SIZE:d}) {name}" for name in SAMPLE_GROUPS
               if kinds.get(name) or counts.get(name)]
    return _samples(fetch(" UNION ALL ".join(selects) + " ORDER BY line") if selects else [])


# The preview's samples: the rows of each kind of change, and those kept.
SAMPLE_GROUPS = (*CHANGES, "kept")
SAMPLE_COLUMNS = ("line, symbol, number, branch_number, registered, as_of, old_source, stated_on, "
                  "old_registered, old_as_of")


def _in_group(name: str) -> str:
    return "outcome = 'kept'" if name == "kept" else f"change = '{name}'"


def _status(registered) -> str:
    return "登録済" if registered else "未登録"


def _samples(rows) -> dict[str, list]:
    """Samples as the preview shows them, from rows of SAMPLE_COLUMNS and their group, by line: each
    with the fields that would change, before → after."""
    found: dict[str, list] = {}
    for line, symbol, number, branch, registered, as_of, source, stated_on, old_registered, old_as_of, group_name \
            in rows:
        sample: dict = {"line": line, "key": key_text(symbol, number, branch), "registered": bool(registered),
                        "as_of": as_date(as_of).isoformat()}
        if group_name == "kept":
            sample["source"] = str(CardFacts.RegistrationSource(source).label)
            sample["stated_on"] = as_date(stated_on).isoformat()
        else:
            stated = bool(source)  # '' or no card facts: nobody has said anything yet
            old_day = as_date(old_as_of)
            changes = []
            if not stated or as_bool(old_registered) != bool(registered):
                changes.append(("利用登録状況", _status(old_registered) if stated else "記録なし", _status(registered)))
            if old_day != as_date(as_of):
                changes.append(("基準日", old_day.isoformat() if old_day else "なし", as_date(as_of).isoformat()))
            if source != CardFacts.RegistrationSource.NATIONAL_FILE:
                changes.append(("出所", str(CardFacts.RegistrationSource(source).label) if stated else "なし",
                                str(CardFacts.RegistrationSource.NATIONAL_FILE.label)))
            sample["changes"] = [{"field": f, "before": b, "after": a} for f, b, a in changes]
        found.setdefault(group_name, []).append(sample)
    return found


def check(run_id: int, society_id: int, *, large: bool, error_limit: int,
          summary: "Summary | None" = None) -> tuple[dict[str, int], dict[str, int], int, list, dict]:
    """What the preview shows of a staged run: the rows per outcome and per kind of change, the
    bad rows (their count and the first ``error_limit``) and the samples.

    A clean file (the usual case) is classified by ``summary`` (PostgreSQL) in reading queries
    over its rows batch by batch, most of them while the file was still being parsed; it counts
    the outcomes and keeps the sample rows. A file with a bad row or the same person twice (it
    will be refused) is classified into CLASSIFIED, where each bad row is found and named; so is
    every file on SQLite (the embedded default: a small society)."""
    if summary is not None:
        summary.catch_up(connection, parallel=large)
        counts, kinds, bad = _as_staff_see(summary.outcomes())
        if summary.is_whole() and not summary.repeated and not bad:
            return counts, kinds, 0, [], summary.samples()
    classify(run_id, society_id, large=large)
    mark_duplicates()
    counts, kinds, bad = tally()
    found = errors(limit=error_limit)
    picked = samples(kinds, counts)
    done()
    return counts, kinds, bad, found, picked


def _group(outcome: str, change: str | None) -> str | None:
    """The sample group (SAMPLE_GROUPS) of an outcome and kind of change, if any."""
    return "kept" if outcome == "kept" else change


class Summary:
    """(PostgreSQL) The preview of a clean file, classified batch by batch as its rows are staged
    (issue 26): the loader's thread calls ``classify`` on its own connection after each batch it
    has loaded (``Stager.in_background(then=…)``), while the next rows are parsed, so that little
    is left to classify once the last row is read (``catch_up``).

    Each batch is one reading query over its lines: the rows per outcome and kind of change, and
    the first SAMPLE_SIZE lines of each sample group (``_batch_sql``); the few lines that are
    among the file's first of their group are then classified again by line for the samples.
    Counts add up; the file's first lines of a group are its first batch's, then the next's.

    The same person on two rows is the same 記号・番号・枝番 on two rows (a household is unique
    per society, 記号 and 番号; a person per household and 枝番): ``line`` notes each row's key
    as it formats the row for COPY. A file with a key twice goes to the full classification,
    which names its rows (as does a file with a bad row)."""

    def __init__(self, run_id: int, society_id: int):
        self.run_id, self.society_id = run_id, society_id
        self.repeated = False
        self._keys: set[int] = set()
        self._staged = 0  # rows formatted for COPY
        self._last_line = 0  # of the last of them
        self._classified = 0  # rows classified, by the batches' own counts
        self._upto = 0  # the last line classified
        self._outcomes: dict[tuple[str, str | None], int] = {}
        self._lines: dict[str, list[int]] = {name: [] for name in SAMPLE_GROUPS}
        self._rows: list[tuple] = []  # the sample lines' rows (SAMPLE_COLUMNS and group), by line
        self.population: int | None = None  # the society's persons, counted with the first batch

    def line(self, row) -> str:
        """``row`` in COPY's text format (``copy_line``), its key noted."""
        # The key's hash: two keys that share one (once in billions) only send the file to the
        # full classification, which finds no one twice and gives the same preview.
        key = hash((row.symbol, row.number, row.branch_number))
        keys = self._keys
        if key in keys:
            self.repeated = True
        keys.add(key)
        self._staged += 1
        self._last_line = row.line
        return copy_line(row, self.run_id)

    def classify(self, conn, last_line: int, rows: int, *, parallel: bool = False) -> None:
        """Classify the staged lines after the last batch's, up to ``last_line`` (``rows`` rows), on ``conn``."""
        own = conn.get_autocommit()  # the loader's connection: a transaction for the SET LOCALs
        with conn.cursor() as cursor:
            if own:
                cursor.execute("BEGIN READ ONLY")
            try:
                if self.population is None:
                    cursor.execute("SELECT COUNT(*) FROM eligibility_person p JOIN eligibility_household h "
                                   "ON h.id = p.household_id WHERE h.society_id = %s", [self.society_id])
                    self.population = cursor.fetchone()[0]
                if rows > LARGE:
                    join_whole_tables(cursor, parallel=parallel)
                cursor.execute(_batch_sql("s.run_id = %s AND s.line > %s AND s.line <= %s"),
                               [self.society_id, self.run_id, self._upto, last_line])
                found = cursor.fetchall()
                wanted: dict[int, str] = {}
                for outcome, change, n, lines in found:
                    self._outcomes[(outcome, change)] = self._outcomes.get((outcome, change), 0) + n
                    self._classified += n
                    group = _group(outcome, change)
                    if group is not None and lines:
                        # The batch's first lines of the group (two outcomes may share one: new_*).
                        wanted.update((line, group) for line in lines)
                for group in set(wanted.values()):
                    taken = self._lines[group]
                    mine = sorted(line for line, name in wanted.items() if name == group)
                    room = max(SAMPLE_SIZE - len(taken), 0)
                    for line in mine[room:]:  # a group whose first lines an earlier batch gave
                        del wanted[line]
                    taken.extend(mine[:room])
                if wanted:
                    join_by_index(cursor)
                    marks = ", ".join(["%s"] * len(wanted))
                    cursor.execute(f"SELECT {SAMPLE_COLUMNS} FROM ("
                                   f"{_classification(f's.run_id = %s AND s.line IN ({marks})')}) c ORDER BY line",
                                   [self.society_id, self.run_id, *wanted])
                    self._rows.extend((*row, wanted[row[0]]) for row in cursor.fetchall())
            except BaseException:
                if own:
                    cursor.execute("ROLLBACK")
                raise
            if own:
                cursor.execute("COMMIT")
        self._upto = last_line

    def catch_up(self, conn, *, parallel: bool = False) -> None:
        """Classify what the loader has not (a file loaded in the foreground: all of it)."""
        if self._last_line > self._upto:
            self.classify(conn, self._last_line, self._staged - self._classified, parallel=parallel)

    def is_whole(self) -> bool:
        """Every staged row classified once (the batches' counts add up to the rows staged)."""
        return self._classified == self._staged

    def outcomes(self) -> list[tuple[str, str | None, int]]:
        return [(outcome, change, n) for (outcome, change), n in self._outcomes.items()]

    def samples(self) -> dict[str, list]:
        return _samples(sorted(self._rows, key=lambda row: row[0]))


def _batch_sql(where: str) -> str:
    """The rows ``where`` picks per outcome and kind of change, each with the first SAMPLE_SIZE
    lines of a sample group (NULL for the others). Its parameters: the society's id, then ``where``'s."""
    return f"""SELECT outcome, change, COUNT(*),
                      (array_agg(line ORDER BY line) FILTER (WHERE outcome = 'kept' OR change IS NOT NULL))
                      [1:{SAMPLE_SIZE:d}]
               FROM ({_classification(where)}) c GROUP BY outcome, change"""


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
