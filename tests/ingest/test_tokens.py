"""The lexical tokeniser (``ingest.tokens``) the lexical index, retrieval and the answer
checks share."""

import pytest

from ingest.tokens import tokenize


@pytest.mark.parametrize("written", ["18.087", "18,087", "18 087", "18\u202f087", "18087", "١٨٠٨٧"])
def test_numbers_keep_one_form_across_formats(written):
    assert tokenize(f"received {written} proposals") == ["received", "18087", "proposals"]


def test_numbers_stay_whole():
    assert tokenize("in 2029, 29 models; 1.000.000 people; 3,5 or 3.5 percent") == [
        "in", "2029", "29", "models", "1000000", "people", "3.5", "or", "3.5", "percent",
    ]  # fmt: skip
    # A year next to a number is not one grouped number.
    assert tokenize("2024 350") == ["2024", "350"]


def test_diacritics_and_case_fold():
    assert tokenize("Hà Tĩnh") == tokenize("Ha Tinh") == ["ha", "tinh"]
    assert tokenize("ĐÀ NẴNG Straße") == ["da", "nang", "strasse"]


def test_cjk_becomes_character_bigrams():
    assert tokenize("河静省") == ["河静", "静省"]
    assert tokenize("北宁") == ["北宁"]
    assert tokenize("박닌성 서기") == ["박닌", "닌성", "서기"]


def test_arabic_normalised_and_lightly_stemmed():
    # Short vowels, hamza forms and the article/plural do not separate a word from itself.
    assert tokenize("المُؤْتَمَرات") == tokenize("مؤتمر") == tokenize("بالمؤتمر") == ["موتمر"]
    assert tokenize("أحمد") == tokenize("احمد")


def test_indic_marks_stay_inside_the_word():
    assert tokenize("हिंदी भाषा") == ["हिंदी", "भाषा"]
