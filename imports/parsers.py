"""Reading the CSV files staff upload: encodings, headers and each cell.

Pure functions over bytes and strings (no database): every problem becomes a
``RowError`` with a reason in Japanese, which the services collect with the line
number so that staff see every bad row at once.

Layouts (documented on the import page and in ``imports/samples/``):

加入者名簿 (roster)
    記号, 番号, 枝番, 氏, 名, 氏カナ, 名カナ, 性別, 生年月日, 続柄, 事業所番号,
    資格取得日, 資格喪失日, 資格確認書発行要否, 任意継続
    and, optional (absent: the stored value is left as it is), 任意継続終了日,
    郵便番号, 住所 (the household's direct-mail address), 個人番号登録 (済/未)
利用登録状況 (registration status, the monthly national file)
    記号, 番号, 枝番, 利用登録状況, 基準日
"""

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any, Literal, overload

from core import wareki
from core.formguard import EARLIEST, LATEST
from core.mynumber import contains_my_number
from eligibility import rules
from eligibility.models import Person, normalise_digits

BOM = b"\xef\xbb\xbf"
# C0 control characters other than tab and line breaks (NUL first): never stored, never echoed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MESSAGE = "使えない制御文字（NULなど）が含まれています。"


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header)."""


class RowError(Exception):
    """One cell or row is wrong; the message is shown to staff as is."""


def decode(data: bytes) -> tuple[str, str]:
    """The text of an uploaded file and the encoding found: UTF-8 (with or without BOM) or CP932.

    UTF-8 is tried first because a CP932 file with Japanese text is almost never
    valid UTF-8, while the reverse can happen by accident.
    """
    if data.startswith(BOM):
        try:
            return data[len(BOM):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise ImportFileError("ファイルの文字コードがUTF-8として読めません。") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            "ファイルの文字コードを判別できません（UTF-8 または Shift_JIS（CP932）で保存してください）。"
        ) from exc


CHUNK = 1 << 20


@dataclass(frozen=True)
class Sniffed:
    encoding: str
    lines: int
    # False when no control character appears anywhere: rows then skip that check.
    has_control: bool


def sniff(stream: IO[bytes]) -> Sniffed:
    """The encoding of a stored upload, its number of lines, and whether it holds a control
    character, read in chunks (flat memory). Same order as ``decode``: UTF-8 (with or
    without BOM) first, else CP932.
    """
    start = stream.read(len(BOM))
    candidates = ["utf-8-sig"] if start == BOM else ["utf-8", "cp932"]
    stream.seek(0)
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        lines = 0
        has_control = False
        try:
            while chunk := stream.read(CHUNK):
                text = decoder.decode(chunk)
                has_control = has_control or _CONTROL.search(text) is not None
                lines += chunk.count(b"\n")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            stream.seek(0)
            continue
        stream.seek(0)
        return Sniffed(encoding, lines, has_control)
    if candidates == ["utf-8-sig"]:
        raise ImportFileError("ファイルの文字コードがUTF-8として読めません。")
    raise ImportFileError(
        "ファイルの文字コードを判別できません（UTF-8 または Shift_JIS（CP932）で保存してください）。"
    )


def _header_key(name: str) -> str:
    # 全角/半角, spaces and brackets do not matter in a header: 「氏（カナ）」 is 「氏カナ」.
    name = unicodedata.normalize("NFKC", name or "")
    return re.sub(r"[\s()（）・\-_]", "", name)




def read_rows(
    text: str | IO[str], columns: dict[str, tuple[str, ...]], *, optional: frozenset[str] = frozenset()
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line number, {column: cell})`` for each non-blank data row (see ``open_rows``)."""
    _present, rows = open_rows(text, columns, optional=optional)
    yield from rows


def open_rows(
    text: str | IO[str], columns: dict[str, tuple[str, ...]], *, optional: frozenset[str] = frozenset(), control: bool = True
) -> tuple[frozenset[str], Iterator[tuple[int, dict[str, str]]]]:
    """The columns the header has, and an iterator of ``(line number, {column: cell})``
    for each non-blank data row.

    ``text`` is the file's text or a text stream; ``control=False`` skips the per-row
    check for control characters (``sniff`` found none). ``columns`` maps each column's name
    to the header names accepted for it; those in ``optional`` may be absent (and are
    then absent from each row). Raises ``ImportFileError`` when the header lacks a
    column or has an unknown one (an unknown column might carry data the portal must
    not hold), or holds a control character (a NUL is also what a UTF-16 file looks like).
    """
    reader = csv.reader(io.StringIO(text, newline="") if isinstance(text, str) else text)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("ファイルが空です。") from None
    except csv.Error as exc:
        raise ImportFileError(f"1行目（見出し）をCSVとして読めません: {exc}") from None
    if any(_CONTROL.search(title) for title in header):
        raise ImportFileError(
            "1行目（見出し）に" + CONTROL_MESSAGE
            + "CSVファイルを UTF-8 または Shift_JIS（CP932）で保存し直してください（UTF-16 は読めません）。"
        )
    lookup = {_header_key(alias): name for name, aliases in columns.items() for alias in (name, *aliases)}
    index: dict[str, int] = {}
    unknown = []
    for position, title in enumerate(header):
        name = lookup.get(_header_key(title))
        if name is None:
            if title.strip():
                # Never repeat a My Number-like title back (R9).
                unknown.append("（12桁の数字）" if contains_my_number(title) else title.strip())
            continue
        if name in index:
            raise ImportFileError(f"1行目（見出し）に「{name}」の列が2つあります。")
        index[name] = position
    missing = [name for name in columns if name not in index and name not in optional]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("足りない列: " + "、".join(missing))
        if unknown:
            parts.append("不明な列: " + "、".join(unknown))
        raise ImportFileError(
            "1行目（見出し）が決められた形式と違います（" + " / ".join(parts) + "）。"
            "見出しは " + ", ".join(columns) + " としてください。"
        )
    return frozenset(index), _data_rows(reader, index, control=control)


MY_NUMBER_MESSAGE = "個人番号（マイナンバー）のような12桁の数字が含まれています。個人番号は取り込めません。"
_DIGIT = re.compile(r"\d")


def _may_hold_my_number(text: str) -> bool:
    """A quick necessary condition of every R9 pattern: 12 digits or more after NFKC. Text with
    fewer (most cells: keys, dates, names) never reaches the full check."""
    if text.isascii() and len(text) < 12:
        return False  # NFKC leaves ASCII as it is: fewer than 12 characters, fewer than 12 digits
    return len(_DIGIT.findall(unicodedata.normalize("NFKC", text))) >= 12


def _data_rows(reader: Any, index: dict[str, int], *, control: bool) -> Iterator[tuple[int, dict[str, str]]]:
    names = list(index)
    positions = list(index.values())
    width = max(positions, default=-1) + 1
    in_order = positions == list(range(len(positions)))
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, {"__error__": f"CSVとして読めません: {exc}"}
            continue
        joined = ",".join(cells)
        if not (cells and cells[0].strip()) and not joined.replace(",", "").strip():
            continue  # a blank line (the first test is the quick answer for most rows)
        # Cells are read as written; each cell's parser strips its own spaces.
        if in_order and len(cells) >= width:
            row = dict(zip(names, cells, strict=False))
        else:
            row = {name: (cells[i] if i < len(cells) else "") for name, i in index.items()}
        if control and _CONTROL.search(joined):
            row = {"__error__": CONTROL_MESSAGE}
        # R9: no cell of any column may carry a 12-digit My Number (the project's one check).
        # An ASCII row whose cells are all shorter than 12 characters cannot (most rows: keys,
        # dates, flags); the others have each cell checked.
        elif not (joined.isascii() and max(map(len, cells)) < 12) and any(
            _may_hold_my_number(cell) and contains_my_number(cell) for cell in cells
        ):
            row["__error__"] = MY_NUMBER_MESSAGE
        yield reader.line_num, row


# --- Cells -------------------------------------------------------------------------

@overload
def parse_date(value: str, label: str, *, required: Literal[True] = ...) -> date: ...
@overload
def parse_date(value: str, label: str, *, required: bool) -> date | None: ...
def parse_date(value: str, label: str, *, required: bool = True) -> date | None:
    """A date written 2025-12-02, 2025/12/2, 20251202, 2025年12月2日 or in 和暦 (令和7年12月2日, R7.12.2),
    between 1900-01-01 and 2100-12-31 like every date a form accepts (``core.formguard``)."""
    value = unicodedata.normalize("NFKC", value).strip()
    if not value:
        if required:
            raise RowError(f"{label}が空です。")
        return None
    found = wareki.parse_date(value)
    if found is None:
        raise RowError(f"{label}「{value}」は日付として読めません（例: 2025-12-02、令和7年12月2日）。")
    if not EARLIEST <= found <= LATEST:
        raise RowError(f"{label}「{value}」は {EARLIEST:%Y-%m-%d} から {LATEST:%Y-%m-%d} までの日付にしてください。")
    return found


def parse_digits(value: str, label: str, *, max_length: int) -> str:
    """記号・番号: digits (全角も可), stored without leading zeros."""
    value = unicodedata.normalize("NFKC", value).strip()
    if not value:
        raise RowError(f"{label}が空です。")
    if not value.isdigit():
        raise RowError(f"{label}「{value}」は数字ではありません。")
    value = normalise_digits(value)
    if len(value) > max_length:
        raise RowError(f"{label}「{value}」が{max_length}桁を超えています。")
    return value


def parse_branch(value: str) -> str:
    """枝番: 2 digits; ``1`` is ``01`` (spreadsheets drop the leading zero)."""
    value = unicodedata.normalize("NFKC", value).strip()
    if not value:
        raise RowError("枝番が空です。")
    if not value.isdigit() or len(value) > 2:
        raise RowError(f"枝番「{value}」は2桁までの数字にしてください。")
    return value.zfill(2)


_TRUE = {"1", "要", "有", "あり", "はい", "該当", "○", "〇", "true", "yes", "y"}
_FALSE = {"", "0", "否", "不要", "無", "なし", "いいえ", "非該当", "×", "false", "no", "n"}


def parse_flag(value: str, label: str) -> bool:
    key = unicodedata.normalize("NFKC", value).strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise RowError(f"{label}「{value}」は 1 か 0（要/否）で入力してください。")


_REGISTERED = {"1": True, "登録済": True, "登録済み": True, "済": True, "0": False, "未登録": False, "未": False}


def parse_registered(value: str) -> bool:
    key = unicodedata.normalize("NFKC", value).strip()
    if key not in _REGISTERED:
        raise RowError(f"利用登録状況「{value}」は 1（登録済）か 0（未登録）で入力してください。")
    return _REGISTERED[key]


_SEX = {"1": "M", "男": "M", "男性": "M", "m": "M", "2": "F", "女": "F", "女性": "F", "f": "F"}


def parse_sex(value: str) -> str:
    key = unicodedata.normalize("NFKC", value).strip().lower()
    if key not in _SEX:
        raise RowError(f"性別「{value}」は 男/女（1/2）で入力してください。")
    return _SEX[key]


_RELATIONSHIP: dict[str, str] = {str(label): code for code, label in Person.Relationship.choices} | {
    code: code for code in Person.Relationship.values
} | {"妻": "spouse", "夫": "spouse", "父": "parent", "母": "parent"}


def parse_relationship(value: str) -> str:
    key = unicodedata.normalize("NFKC", value).strip()
    if key not in _RELATIONSHIP:
        labels = "、".join(str(label) for _, label in Person.Relationship.choices)
        raise RowError(f"続柄「{value}」は {labels} のいずれかにしてください。")
    return _RELATIONSHIP[key]


def parse_name(value: str, label: str, *, max_length: int) -> str:
    # Names are not NFKC-normalised: that would turn 﨑 into 崎.
    value = value.strip()
    if not value:
        raise RowError(f"{label}が空です。")
    if len(value) > max_length:
        raise RowError(f"{label}が{max_length}文字を超えています。")
    return value


_MY_NUMBER_REGISTERED = {"1": True, "済": True, "登録済": True, "登録済み": True, "0": False, "未": False,
                         "未登録": False}


def parse_my_number_registered(value: str) -> bool | None:
    """個人番号登録 (R6.4): 済 / 未 (1 / 0); blank leaves the stored value (None)."""
    key = unicodedata.normalize("NFKC", value).strip()
    if not key:
        return None
    if key not in _MY_NUMBER_REGISTERED:
        raise RowError(f"個人番号登録「{value}」は 済 か 未（1 / 0）で入力してください。")
    return _MY_NUMBER_REGISTERED[key]


_POSTAL = re.compile(r"^(\d{3})-?(\d{4})$")


def parse_postal_code(value: str) -> str:
    """郵便番号: 7 digits, stored as 123-4567 (〒 and 全角 accepted); blank clears it."""
    key = unicodedata.normalize("NFKC", value).strip().lstrip("〒").strip().replace("ー", "-").replace("−", "-")
    if not key:
        return ""
    match = _POSTAL.match(key)
    if not match:
        raise RowError(f"郵便番号「{value}」は7桁の数字（例: 100-0001）にしてください。")
    return f"{match[1]}-{match[2]}"


def parse_address(value: str) -> str:
    # Not NFKC-normalised, like names: it is printed on an envelope as written.
    value = " ".join(value.split())
    if len(value) > 200:
        raise RowError("住所が200文字を超えています。")
    return value


_KANA = re.compile(r"^[ァ-ヶー・　 ]+$")


def parse_kana(value: str, label: str, *, max_length: int) -> str:
    """カナ: half-width katakana becomes full-width."""
    value = unicodedata.normalize("NFKC", value).strip()
    if not value:
        raise RowError(f"{label}が空です。")
    if not _KANA.match(value):
        raise RowError(f"{label}「{value}」はカタカナで入力してください。")
    if len(value) > max_length:
        raise RowError(f"{label}が{max_length}文字を超えています。")
    return value


# --- Rows --------------------------------------------------------------------------

ROSTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "記号": ("被保険者証記号", "被保険者記号"),
    "番号": ("被保険者証番号", "被保険者番号"),
    "枝番": (),
    "氏": ("姓",),
    "名": (),
    "氏カナ": ("姓カナ", "セイ"),
    "名カナ": ("メイ",),
    "性別": (),
    "生年月日": (),
    "続柄": (),
    "事業所番号": ("事業所コード",),
    "資格取得日": ("扶養認定日", "資格取得日扶養認定日"),
    "資格喪失日": (),
    "資格確認書発行要否": ("資格確認書", "資格確認書の発行希望"),
    "任意継続": ("任意継続被保険者",),
    "任意継続終了日": ("任意継続の終了日", "任意継続満了日"),
    "郵便番号": ("送付先郵便番号",),
    "住所": ("送付先住所",),
    "個人番号登録": ("個人番号登録状況", "マイナンバー登録"),
}
# Columns a roster may leave out (files made before they existed): absent, nothing changes.
ROSTER_OPTIONAL = frozenset({"任意継続終了日", "郵便番号", "住所", "個人番号登録"})

REGISTRATION_COLUMNS: dict[str, tuple[str, ...]] = {
    "記号": ("被保険者証記号", "被保険者記号"),
    "番号": ("被保険者証番号", "被保険者番号"),
    "枝番": (),
    "利用登録状況": ("利用登録", "登録状況"),
    "基準日": ("基準年月日",),
}


@dataclass(frozen=True, slots=True)
class RosterRow:
    line: int
    symbol: str
    number: str
    branch_number: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    sex: str
    birth_date: date
    relationship: str
    employer_code: str
    eligible_from: date
    eligible_until: date | None
    certificate_wanted: bool
    voluntary_continuation: bool
    # None: the column is absent (or 個人番号登録 blank), the stored value is kept.
    voluntary_continuation_ends_on: date | None = None
    postal_code: str | None = None
    address: str | None = None
    my_number_registered: bool | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.symbol, self.number, self.branch_number)

    def person_fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PERSON_FIELDS}

    def warnings(self, *, today: date) -> list[str]:
        """What the preview points out without refusing the row."""
        found = []
        turns_75_on = rules.turns_75_on(self.birth_date)
        if self.eligible_until is None and turns_75_on <= today:
            # R11: eligibility ends on the 75th birthday whatever the roster says.
            found.append(
                f"75歳の誕生日（{turns_75_on.isoformat()}）を過ぎていますが資格喪失日が空です。"
                "75歳の誕生日で資格は終わります（後期高齢者医療）。名簿を確認してください。"
            )
        return found


# The Person fields a roster row sets (and the order an update compares them in).
PERSON_FIELDS = (
    "relationship", "family_name", "given_name", "family_name_kana", "given_name_kana", "sex",
    "birth_date", "eligible_from", "eligible_until", "certificate_wanted",
)


def roster_row(line: int, cells: dict[str, str], *, today: date) -> RosterRow:
    if "__error__" in cells:
        raise RowError(cells["__error__"])
    birth_date = parse_date(cells["生年月日"], "生年月日")
    if birth_date > today:
        raise RowError(f"生年月日「{cells['生年月日']}」が未来の日付です。")
    eligible_from = parse_date(cells["資格取得日"], "資格取得日")
    eligible_until = parse_date(cells["資格喪失日"], "資格喪失日", required=False)
    if eligible_until is not None and eligible_until <= eligible_from:
        raise RowError("資格喪失日は資格取得日より後の日付にしてください。")
    if eligible_from < birth_date:
        raise RowError("資格取得日が生年月日より前です。")
    employer_code = unicodedata.normalize("NFKC", cells["事業所番号"]).strip()
    if len(employer_code) > 16:
        raise RowError("事業所番号が16文字を超えています。")
    voluntary_continuation = parse_flag(cells["任意継続"], "任意継続")
    ends_on = parse_date(cells.get("任意継続終了日", ""), "任意継続終了日", required=False)
    if ends_on is not None and not voluntary_continuation:
        raise RowError("任意継続終了日は任意継続の人の行にだけ入れてください。")
    if ends_on is not None and ends_on < eligible_from:
        raise RowError("任意継続終了日が資格取得日より前です。")
    return RosterRow(
        line=line,
        symbol=parse_digits(cells["記号"], "記号", max_length=8),
        number=parse_digits(cells["番号"], "番号", max_length=8),
        branch_number=parse_branch(cells["枝番"]),
        family_name=parse_name(cells["氏"], "氏", max_length=40),
        given_name=parse_name(cells["名"], "名", max_length=40),
        family_name_kana=parse_kana(cells["氏カナ"], "氏カナ", max_length=60),
        given_name_kana=parse_kana(cells["名カナ"], "名カナ", max_length=60),
        sex=parse_sex(cells["性別"]),
        birth_date=birth_date,
        relationship=parse_relationship(cells["続柄"]),
        employer_code=employer_code,
        eligible_from=eligible_from,
        eligible_until=eligible_until,
        certificate_wanted=parse_flag(cells["資格確認書発行要否"], "資格確認書発行要否"),
        voluntary_continuation=voluntary_continuation,
        voluntary_continuation_ends_on=ends_on,
        postal_code=parse_postal_code(cells["郵便番号"]) if "郵便番号" in cells else None,
        address=parse_address(cells["住所"]) if "住所" in cells else None,
        my_number_registered=parse_my_number_registered(cells.get("個人番号登録", "")),
    )


@dataclass(frozen=True, slots=True)
class RegistrationRow:
    line: int
    symbol: str
    number: str
    branch_number: str
    registered: bool
    as_of: date

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.symbol, self.number, self.branch_number)


def registration_row(line: int, cells: dict[str, str], *, today: date) -> RegistrationRow:
    if "__error__" in cells:
        raise RowError(cells["__error__"])
    as_of = parse_date(cells["基準日"], "基準日")
    if as_of > today:
        raise RowError(f"基準日「{cells['基準日']}」が未来の日付です。")
    return RegistrationRow(
        line=line,
        symbol=parse_digits(cells["記号"], "記号", max_length=8),
        number=parse_digits(cells["番号"], "番号", max_length=8),
        branch_number=parse_branch(cells["枝番"]),
        registered=parse_registered(cells["利用登録状況"]),
        as_of=as_of,
    )
