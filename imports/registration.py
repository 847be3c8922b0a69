"""The registration-status file (利用登録状況), set-based: checks and writes over its staged rows.

Each staged row gets the person its 記号・番号・枝番 names and an ``outcome``:

- ``duplicate`` / ``unknown``: errors (the same person twice; nobody with that key);
- ``new_card``: the person has no card facts yet (counted as ``updated``);
- ``kept``: a newer statement stays — a later file's, or a member's or staff's dated
  **the same day or later** (the tie rule: what a person told us on the file's as-of
  day is at least as fresh as the national file);
- ``unchanged``: the same file was imported before;
- ``updated``: everything else.

Writes keep what ``eligibility.services.update_card_facts`` keeps for a member's
change: the card facts, their derived dates (computed by ``CardFacts.derive()`` —
``rules.py`` — for the few rows whose dates change), and one history row per person.
"""

from django.db import connection

from eligibility.models import CardFacts, CardFactsChange

from .models import StagedRegistrationRow
from .staging import Param, as_bool, as_date, execute, fetch, insert_select, local_date, vendor

STG = StagedRegistrationRow._meta.db_table
FIELDS = ("run_id", "line", "symbol", "number", "branch_number", "registered", "as_of")
ERROR_OUTCOMES = ("duplicate", "unknown")
SAMPLE_SIZE = 200


def key_text(symbol: str, number: str, branch: str) -> str:
    return f"{symbol}-{number}-{branch}"


def mark_duplicates(run_id: int) -> None:
    """The second and later rows of one person are errors (the first one counts)."""
    execute(
        f"""UPDATE {STG} SET outcome = 'duplicate' WHERE id IN (
              SELECT id FROM (SELECT id, line, MIN(line) OVER (PARTITION BY symbol, number, branch_number) AS first
                              FROM {STG} WHERE run_id = %s) d
              WHERE d.line <> d.first)""",
        [run_id],
    )


def classify(run_id: int, society_id: int) -> None:
    """Name each row's person and outcome against the database as it is now."""
    execute(f"UPDATE {STG} SET person_id = NULL, outcome = '' WHERE run_id = %s AND outcome <> 'duplicate'", [run_id])
    execute(
        f"""UPDATE {STG} SET person_id = p.id
            FROM eligibility_person p, eligibility_household h
            WHERE {STG}.run_id = %s AND {STG}.outcome = '' AND h.society_id = %s
              AND h.symbol = {STG}.symbol AND h.number = {STG}.number
              AND p.household_id = h.id AND p.branch_number = {STG}.branch_number""",
        [run_id, society_id],
    )
    execute(f"UPDATE {STG} SET outcome = 'unknown' WHERE run_id = %s AND outcome = '' AND person_id IS NULL",
            [run_id])
    execute(
        f"""UPDATE {STG} SET outcome = 'new_card' WHERE run_id = %s AND outcome = ''
            AND NOT EXISTS (SELECT 1 FROM eligibility_cardfacts c WHERE c.person_id = {STG}.person_id)""",
        [run_id],
    )
    stated_on = f"COALESCE(c.registration_as_of, {local_date('c.updated_at')})"
    execute(
        f"""UPDATE {STG} SET outcome = CASE
              WHEN c.registration_source IN ('member', 'staff') AND {stated_on} >= {STG}.as_of THEN 'kept'
              WHEN c.registration_source = 'national_file' AND {stated_on} > {STG}.as_of THEN 'kept'
              WHEN c.registered = {STG}.registered AND c.registration_source = 'national_file'
                   AND c.registration_as_of = {STG}.as_of THEN 'unchanged'
              ELSE 'updated' END
            FROM eligibility_cardfacts c
            WHERE {STG}.run_id = %s AND {STG}.outcome = '' AND c.person_id = {STG}.person_id""",
        [run_id],
    )


def counts(run_id: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for outcome, n in fetch(f"SELECT outcome, COUNT(*) FROM {STG} WHERE run_id = %s GROUP BY outcome", [run_id]):
        if outcome in ERROR_OUTCOMES:
            continue
        name = "updated" if outcome == "new_card" else outcome
        found[name] = found.get(name, 0) + n
    return found


def errors(run_id: int, *, limit: int) -> tuple[list[dict], int]:
    """The bad rows the checks found (the first ``limit``, by line) and how many there are."""
    (total,) = fetch(f"SELECT COUNT(*) FROM {STG} WHERE run_id = %s AND outcome IN ('duplicate', 'unknown')",
                     [run_id])[0]
    if not total:
        return [], 0
    rows = fetch(
        f"""SELECT line, outcome, symbol, number, branch_number, first FROM (
              SELECT line, outcome, symbol, number, branch_number,
                     MIN(line) OVER (PARTITION BY symbol, number, branch_number) AS first
              FROM {STG} WHERE run_id = %s) t
            WHERE outcome IN ('duplicate', 'unknown') ORDER BY line LIMIT %s""",
        [run_id, limit],
    )
    found = []
    for line, outcome, symbol, number, branch, first in rows:
        if outcome == "duplicate":
            message = f"記号・番号・枝番が{first}行目と重複しています。"
        else:
            message = f"記号・番号・枝番「{key_text(symbol, number, branch)}」の加入者が見つかりません。"
        found.append({"line": line, "message": message})
    return found, total


def samples(run_id: int) -> dict[str, list]:
    group = "CASE WHEN outcome = 'new_card' THEN 'updated' ELSE outcome END"
    rows = fetch(
        f"""SELECT t.line, t.symbol, t.number, t.branch_number, t.registered, t.as_of, t.grp,
                   c.registration_source, COALESCE(c.registration_as_of, {local_date('c.updated_at')})
            FROM (SELECT s.*, {group} AS grp, ROW_NUMBER() OVER (PARTITION BY {group} ORDER BY line) AS rn
                  FROM {STG} s WHERE run_id = %s AND outcome IN ('updated', 'new_card', 'kept')) t
            LEFT JOIN eligibility_cardfacts c ON c.person_id = t.person_id
            WHERE t.rn <= %s ORDER BY t.line""",
        [run_id, SAMPLE_SIZE],
    )
    found: dict[str, list] = {}
    for line, symbol, number, branch, registered, as_of, group_name, source, stated_on in rows:
        sample = {"line": line, "key": key_text(symbol, number, branch), "registered": bool(registered),
                  "as_of": as_date(as_of).isoformat()}
        if group_name == "kept":
            sample["source"] = str(CardFacts.RegistrationSource(source).label)
            sample["stated_on"] = as_date(stated_on).isoformat()
        found.setdefault(group_name, []).append(sample)
    return found


def apply(run_id: int, *, user_id: int | None, now, progress) -> int:
    """Write the classified rows; returns how many persons' facts were written."""
    # Card facts whose card becomes known with its dates: their derived dates change
    # (rare: a card without a registration whose expiry a member already stated).
    flips = fetch(
        f"""SELECT c.person_id, c.card_expires_on, c.ecert_expires_on FROM eligibility_cardfacts c
            JOIN {STG} s ON s.person_id = c.person_id
            WHERE s.run_id = %s AND s.outcome = 'updated' AND NOT c.has_card AND s.registered
              AND (c.card_expires_on IS NOT NULL OR c.ecert_expires_on IS NOT NULL)""",
        [run_id],
    )
    written = _history(run_id, user_id=user_id, now=now)
    progress(written // 3)
    # A new card's dates are all unknown, so its derived dates are null (as derive() makes them).
    columns, select, params = insert_select(CardFacts, {
        "person_id": "s.person_id", "has_card": "s.registered", "registered": "s.registered",
        "registration_source": "'national_file'", "registration_as_of": "s.as_of",
        "updated_at": Param(now), "updated_by_id": Param(user_id),
    })
    execute(
        f"""INSERT INTO eligibility_cardfacts ({columns}) SELECT {select}
            FROM {STG} s WHERE s.run_id = %s AND s.outcome = 'new_card'
            ON CONFLICT (person_id) DO NOTHING""",
        [*params, run_id],
    )
    progress(2 * written // 3)
    execute(
        f"""UPDATE eligibility_cardfacts SET has_card = (eligibility_cardfacts.has_card OR s.registered),
                registered = s.registered, registration_source = 'national_file', registration_as_of = s.as_of,
                updated_at = %s, updated_by_id = %s
            FROM {STG} s
            WHERE s.run_id = %s AND s.outcome = 'updated' AND eligibility_cardfacts.person_id = s.person_id""",
        [now, user_id, run_id],
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


def _history(run_id: int, *, user_id: int | None, now) -> int:
    """One history row per person whose facts change (source: the national file)."""
    if vendor() == "postgresql":
        def field(name: str, old: str, new: str) -> tuple[str, str]:
            changed = f"{old} IS DISTINCT FROM {new}"
            return (f"CASE WHEN {changed} THEN jsonb_build_object('{name}', {old}) ELSE '{{}}'::jsonb END",
                    f"CASE WHEN {changed} THEN jsonb_build_object('{name}', {new}) ELSE '{{}}'::jsonb END")

        parts = [
            field("has_card", "c.has_card", "(c.has_card OR s.registered)"),
            field("registered", "c.registered", "s.registered"),
            field("registration_source", "c.registration_source", "'national_file'::text"),
            field("registration_as_of", "c.registration_as_of", "s.as_of"),
        ]
        before = " || ".join(b for b, _a in parts)
        after = " || ".join(a for _b, a in parts)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO eligibility_cardfactschange (person_id, changed_at, changed_by_id, source, "before", "after")
                    SELECT s.person_id, %s, %s, 'national_file', {before}, {after}
                    FROM {STG} s JOIN eligibility_cardfacts c ON c.person_id = s.person_id
                    WHERE s.run_id = %s AND s.outcome = 'updated'""",
                [now, user_id, run_id],
            )
            written = cursor.rowcount
            cursor.execute(
                f"""INSERT INTO eligibility_cardfactschange (person_id, changed_at, changed_by_id, source, "before", "after")
                    SELECT s.person_id, %s, %s, 'national_file', '{{}}'::jsonb,
                           jsonb_build_object('has_card', s.registered, 'registered', s.registered,
                                              'registration_source', 'national_file', 'registration_as_of', s.as_of)
                    FROM {STG} s WHERE s.run_id = %s AND s.outcome = 'new_card'""",
                [now, user_id, run_id],
            )
            return written + cursor.rowcount
    # SQLite (the embedded default, a small society): the same rows built in Python.
    rows = fetch(
        f"""SELECT s.person_id, s.outcome, s.registered, s.as_of, c.has_card, c.registered, c.registration_source,
                   c.registration_as_of
            FROM {STG} s LEFT JOIN eligibility_cardfacts c ON c.person_id = s.person_id
            WHERE s.run_id = %s AND s.outcome IN ('updated', 'new_card') ORDER BY s.line""",
        [run_id],
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
