import pytest

from core.kana import VARIANTS, fold_all, fold_for_search


@pytest.mark.parametrize("typed, stored", [
    ("かとう", "カトウ"),
    ("ｶﾄｳ", "カトウ"),
    ("ｶﾞｯｺｳ", "ガッコウ"),  # half-width voiced marks combine
    ("ﾊﾟﾝ", "パン"),
    ("ぢゃゔぁ", "ヂャヴァ"),
    ("さゝき", "サヽキ"),  # iteration marks: ゝ is ヽ
    ("Yamada", "ＹＡＭＡＤＡ"),
    ("山田 太郎", "山田　太郎"),  # spaces, half- or full-width, do not count
    ("高橋", "髙橋"),
    ("山崎", "山﨑"),
    ("山崎", "山嵜"),
    ("渡辺", "渡邊"),
    ("渡辺", "渡邉"),
    ("渡辺", "渡邉\U000e0104"),  # an IVS-selected glyph of 邉
    ("斎藤", "齋藤"),
    ("斎藤", "齊藤"),
    ("斉藤", "斎藤"),
    ("徳川", "德川"),
    ("浜田", "濱田"),
    ("沢口", "澤口"),
    ("桜井", "櫻井"),
    ("広瀬", "廣瀬"),
    ("国分", "國分"),
    ("島田", "嶋田"),
    ("富田", "冨田"),
    ("真田", "眞田"),
    ("吉田", "𠮷田"),
    ("塚本", "塚本"),  # a CJK compatibility ideograph (U+FA10), by NFKC
    ("ヤマダ", "ヤ\u200bマダ"),  # a zero-width space pasted from somewhere
])
def test_what_a_clerk_types_folds_like_the_name(typed, stored):
    assert fold_for_search(typed) == fold_for_search(stored)


@pytest.mark.parametrize("a, b", [
    ("カトウ", "カトオ"),
    ("高橋", "高槁"),
    ("ハシ", "バシ"),  # voiced marks are part of the name
    ("ツ", "ッ"),  # so is a small kana
    ("佐藤", "佐籐"),
])
def test_different_names_stay_different(a, b):
    assert fold_for_search(a) != fold_for_search(b)


def test_every_variant_folds_to_its_everyday_form_which_is_stable():
    for variant, everyday in VARIANTS.items():
        assert fold_for_search(variant) == everyday
        assert fold_for_search(everyday) == everyday


def test_it_is_idempotent_and_takes_nothing():
    for text in ("ｶﾄｳ ｶｽﾞｵ", "髙橋　はなこ", "Ｓｍｉｔｈ", "渡邉󠄄"):
        assert fold_for_search(fold_for_search(text)) == fold_for_search(text)
    assert fold_for_search(None) == fold_for_search("") == ""


def test_fields_are_joined_so_no_term_spans_two():
    assert fold_all("髙橋", "花子", "ﾀｶﾊｼ", "はなこ", "") == "高橋 花子 タカハシ ハナコ"
