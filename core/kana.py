"""Folding names for search: one form for the ways a clerk may type a name.

``fold_for_search`` makes a name and what a clerk types into the search box
compare equal when they differ only by:

- width and compatibility forms (NFKC): half-width ｶﾄｳ is カトウ, ＡＢＣ is abc, and
  CJK compatibility ideographs become the unified ones (塚 U+FA10 → 塚);
- hiragana or katakana: かとう is カトウ;
- case: Yamada is yamada;
- spaces (half- and full-width) and invisible characters (zero-width spaces,
  variation selectors of 異体字 such as 邉󠄄, soft hyphens);
- the common 異体字 of names (髙橋 is 高橋, 山﨑 is 山崎, 渡邊/渡邉 are 渡辺,
  齋藤/齊藤/斉藤 are 斎藤, …), each folded to its everyday form (``VARIANTS``).

Pure: no Django, no database. The stored search column of a person
(``Person.search_text``) and the search terms are folded by this one function.
"""

import re
import unicodedata

# 異体字 seen in names → the everyday form. Searching either finds both.
VARIANTS: dict[str, str] = {
    "髙": "高",
    "﨑": "崎", "嵜": "崎", "碕": "崎",
    "邊": "辺", "邉": "辺",
    "齋": "斎", "齊": "斎", "斉": "斎",
    "德": "徳",
    "濱": "浜", "濵": "浜",
    "澤": "沢",
    "櫻": "桜",
    "廣": "広",
    "國": "国",
    "嶋": "島", "嶌": "島",
    "冨": "富",
    "眞": "真",
    "𠮷": "吉",
    "龍": "竜",
    "瀧": "滝",
    "實": "実",
    "惠": "恵",
    "榮": "栄",
    "舘": "館",
    "淵": "渕",
    "峯": "峰",
    "曾": "曽",
    "桒": "桑",
    "埜": "野",
    "關": "関",
    "檜": "桧",
    "萬": "万",
    "龜": "亀",
    "鐵": "鉄",
    "禮": "礼",
    "黑": "黒",
    "條": "条",
    "圓": "円",
    "會": "会",
    "藏": "蔵",
    "壽": "寿",
    "彌": "弥",
    "兒": "児",
    "乘": "乗",
    "晉": "晋",
    "髮": "髪",
}
_VARIANTS = str.maketrans(VARIANTS)
# Hiragana ぁ..ゖ and the iteration marks ゝゞ → their katakana (a fixed offset).
_HIRAGANA = str.maketrans({c: chr(c + 0x60) for c in (*range(0x3041, 0x3097), 0x309D, 0x309E)})
# Whitespace, zero-width and format characters, and variation selectors (IVS included).
_IGNORED = re.compile(r"[\s\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff\ufe00-\ufe0f\U000e0100-\U000e01ef]+")


def fold_for_search(text: str | None) -> str:
    """``text`` in its search form (see the module's docstring): ``fold_for_search("ｶﾄｳ")
    == fold_for_search("かとう") == "カトウ"``; ``fold_for_search("髙橋") == "高橋"``."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = _IGNORED.sub("", text)
    return text.translate(_HIRAGANA).translate(_VARIANTS).casefold()


def fold_all(*parts: str | None) -> str:
    """Several fields folded into one search text, a space between them (search terms
    never hold a space, so no term matches across two fields)."""
    return " ".join(folded for part in parts if (folded := fold_for_search(part)))
