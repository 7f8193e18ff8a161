"""What a short answer can be: figures, dates and names found in a sentence, in any
language, with the keys they are compared on."""

from __future__ import annotations

import pytest

from assistant.answering.candidates import (
    DateParts,
    candidates_in,
    common_words,
    dates_in,
    folded_with_offsets,
    mixed_script_words,
    names,
    part_regions,
)
from assistant.settings import bundled_prompts

NUMBER_WORDS = bundled_prompts() / "number_words"
BREAKDOWN_WORDS = bundled_prompts() / "breakdown_words"


def found(sentence: str, language: str = "en", kinds=("figure", "date", "name")) -> list:
    return [
        (c.kind, c.role, c.text, sorted(c.keys))
        for c in candidates_in(sentence, language, kinds, NUMBER_WORDS)
    ]


@pytest.mark.parametrize(
    ("sentence", "language", "expected"),
    [
        ("Ha Tinh received 18.087 proposals.", "de", ("count", "18.087", "18087")),
        ("تلقت المقاطعة بأكملها 18087 اقتراحًا", "ar", ("count", "18087", "18087")),
        ("其中经济模式有13个。", "zh", ("count", "13", "13")),  # right after a Han character
        ("住民から18087件の意見", "ja", ("count", "18087", "18087")),
        ("Decision 657-QD/TU was issued.", "en", ("code", "657", "657")),
        ("die Resolution Nr. 25 des Zentralkomitees", "de", ("code", "25", "25")),
        ("Es sind 12,5 % mehr.", "de", ("percent", "12,5", "12.5")),
        ("Seit 2015 wurden Dialoge geführt.", "de", ("year", "2015", "2015")),
        ("und drei Modelle für die Sicherheit", "de", ("count", "drei", "3")),
    ],
)
def test_figures_are_found_with_their_role_and_digit_key(sentence, language, expected):
    figures = [
        (role, text, keys) for kind, role, text, keys in found(sentence, language, ["figure"])
    ]
    role, text, key = expected
    assert (role, text, [key]) in figures


def test_a_figure_inside_a_date_is_the_date_not_a_figure():
    assert found("am 15. August 2023 in Hanoi", "de", ["figure"]) == []


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Heute Morgen (15. August) hielt", DateParts(15, 8, None)),
        ("من يوم 25 أغسطس، عقدت اللجنة", DateParts(25, 8, None)),
        ("Július 4-én a Tartományi", DateParts(4, 7, None)),
        ("vào ngày 15 tháng 8 năm 2013 có", DateParts(15, 8, 2013)),
        ("2013年6月3日颁布", DateParts(3, 6, 2013)),
        ("8월 15일 온라인 회의", DateParts(15, 8, None)),
        ("dated 3.6.2013, the resolution", DateParts(3, 6, 2013)),
        ("on August 15, 2023 the committee", DateParts(15, 8, 2023)),
        ("المؤرخ 3 يونيو 2013 للجنة", DateParts(3, 6, 2013)),
    ],
)
def test_dates_are_read_with_the_month_named_in_any_language(text, parts):
    [(start, end, read)] = dates_in(text)
    assert read == parts
    assert text[start:end].strip()[0].isalnum()  # offsets in the original text


def test_folding_keeps_offsets_of_the_original_text():
    text = "اقتراحًا 5"  # a tanween mark folds away
    folded, offsets = folded_with_offsets(text)
    assert len(folded) < len(text) and text[offsets[folded.index("5")]] == "5"


def test_names_are_runs_of_capitalised_words_or_uncommon_uncased_words():
    assert [c.text for c in names("Genosse Nguyen Anh Tuan, Mitglied des Zentralkomitees")] == [
        "Genosse Nguyen Anh Tuan"
    ]
    # Japanese writes a particle straight after a Latin name.
    assert [c.text for c in names("主宰したのは Nguyen Hoai Anhです。")] == ["Nguyen Hoai Anh"]
    # A capitalised phrase followed by a number is a title, not a name.
    assert names("Umsetzung der Resolution Nr. 25 des Zentralkomitees") == []
    arabic = "ورئيس اللجنة الشعبية الإقليمية فو ترونج هاي؛ نائب رئيس"
    common = common_words(["نائب رئيس اللجنة", "رئيس اللجنة", "نائب رئيس", arabic], 0.2)
    assert "فو ترونج هاي" in [c.text for c in names(arabic, common)]


def test_name_keys_match_across_scripts():
    [latin] = names("the secretary Hoang Trung Dung said")
    [arabic] = names("قال السكرتير هوانج ترونج دونج")
    assert latin.keys & arabic.keys


def test_words_mixing_two_alphabets_are_garbled():
    text = "하باط성은 Tuan입니다 стellvertretенный Anhです 東京タワー Hà Tĩnh"
    assert mixed_script_words(text) == ["하باط성은", "стellvertretенный"]


def test_a_breakdown_makes_the_figures_after_it_parts_of_the_one_before():
    sentence = "Bis 2024 wurden 29 Modelle angemeldet, darunter 13 Wirtschaftsmodelle und drei."
    [(start, end)] = part_regions(sentence, "de", BREAKDOWN_WORDS)
    assert sentence[start:].startswith("darunter") and end == len(sentence)
    assert part_regions("Darunter sind 13 Modelle.", "de", BREAKDOWN_WORDS) == []
