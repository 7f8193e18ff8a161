"""Names matched across scripts by their consonant keys."""

from __future__ import annotations

import pytest

from ingest.names import cross_script_matches, keyed_names, name_key, name_spans, word_key

HA_TINH = ["Ha Tinh", "Hà Tĩnh", "Хатинь", "ハティン", "하띤", "ها تينه"]
BAC_NINH = ["Bac Ninh", "Bắc Ninh", "Бакнинь", "バクニン", "박닌", "باك نينه"]


@pytest.mark.parametrize("spellings", [HA_TINH, BAC_NINH])
def test_one_name_keys_alike_in_every_script(spellings):
    assert len({name_key(spelling) for spelling in spellings}) == 1


def test_different_names_key_differently():
    assert name_key("Ha Tinh") != name_key("Bac Ninh") != name_key("Nguyen Xuan Ky")


def test_a_name_of_vowels_keys_word_by_word():
    # Whole, "Nguyen Hoai Anh" keys to one letter; word by word it is told apart.
    assert len(name_key("Nguyen Hoai Anh")) == 1
    spellings = ["Nguyen Hoai Anh", "نغوين هواي آنه", "Нгуен Хоай Ань", "응우옌 호아이 아인"]
    assert {word_key(spelling) for spelling in spellings} == {"n-h-n"}
    assert word_key("Nguyen Anh Tuan") != "n-h-n"


def test_a_latin_name_is_cut_from_the_particle_written_after_it():
    spans = {span.text for span in name_spans("主宰したのは、Nguyen Hoai Anhです。")}
    assert "Nguyen Hoai Anh" in spans


def test_names_are_capitalised_words_katakana_runs_and_uncased_words_but_not_han():
    spans = {(span.text, span.script) for span in name_spans("Sie trafen Nguyen Anh Tuan.")}
    assert ("Nguyen Anh Tuan", "LATIN") in spans
    assert ("Sie", "LATIN") not in spans  # capitalised for its place only
    assert ("trafen", "LATIN") not in spans
    katakana = {span.text for span in name_spans("グエン・アイン・トゥアン氏が来た")}
    assert {"グエン", "アイン", "トゥアン"} <= katakana
    assert name_spans("河静省收到了建议。") == []  # Han characters carry no sound of the name


def test_korean_suffixes_are_cut_from_the_name():
    assert name_key(name_spans("박닌성은 대화를 열었다")[0].text) == name_key("Bac Ninh")


def test_a_document_keeps_the_names_it_writes_twice():
    text = "Ha Tinh held a meeting. Later Ha Tinh reported. Once Bac Ninh was named."
    keys = keyed_names(text, document=True)
    assert name_key("Ha Tinh") in keys and name_key("Bac Ninh") not in keys
    assert name_key("Bac Ninh") in keyed_names(text)


def test_uncased_single_words_must_key_long_in_a_document():
    # Two Arabic words each written twice: the short-keyed one is any word, not a name.
    text = "في في ها تينه ها تينه"
    keys = keyed_names(text, document=True)
    assert name_key("ها تينه") in keys and name_key("في") not in keys


def test_matches_count_only_across_scripts():
    latin = keyed_names("Ha Tinh received proposals.")
    arabic = keyed_names("تلقت ها تينه ها تينه")
    assert cross_script_matches(latin, arabic) == {name_key("Ha Tinh"), word_key("Ha Tinh")}
    assert cross_script_matches(latin, keyed_names("Ha Tinh again")) == set()
