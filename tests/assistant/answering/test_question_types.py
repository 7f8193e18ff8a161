"""What kind of answer a question asks for, told from its question words in any of the
product's languages, with the embedder's nearest example as the fallback."""

from __future__ import annotations

import pytest

from assistant.answering.question_types import (
    ANSWER_KINDS,
    QuestionTyper,
    focus,
    kind_from_words,
    question_words,
)
from assistant.settings import bundled_prompts
from tests.fakes import HashEmbedder

QUESTION_WORDS = bundled_prompts() / "question_words"
LANGUAGES = sorted(path.stem for path in QUESTION_WORDS.glob("*.txt"))


@pytest.mark.parametrize(
    ("question", "language", "kind"),
    [
        ("How many proposals did Ha Tinh receive?", "en", "count"),
        ("Since when have dialogues been held?", "en", "period"),  # not "when"
        ("Wer leitete die Sitzung?", "de", "person"),
        ("Hà Tĩnh đã tiếp nhận bao nhiêu ý kiến?", "vi", "count"),
        ("Ban Thường vụ ban hành chương trình số mấy?", "vi", "number"),
        ("广宁省委书记是谁？", "zh", "person"),
        ("第25号决议是哪一天颁布的？", "zh", "date"),
        ("كم عدد المقترحات التي تلقتها المقاطعة؟", "ar", "count"),
        ("سكرتير اللجنة الحزبية لأي بلدية تحدث؟", "ar", "place"),  # "أي" with a clitic
        ("На скольких опорах строится развитие?", "ru", "count"),
        ("Ki elnökölt az ülésen?", "hu", "person"),
        ("ハティン省は何件の提案を受け取りましたか？", "ja", "count"),
        ("박닌성 당위원회 서기는 누구입니까?", "ko", "person"),
        ("En quelle année la résolution a-t-elle été adoptée ?", "fr", "year"),
    ],
)
def test_question_words_tell_the_kind_the_longest_phrase_winning(question, language, kind):
    assert kind_from_words(question, language, QUESTION_WORDS) == kind


def test_every_language_of_the_product_has_a_valid_list():
    assert len(LANGUAGES) == len(list((bundled_prompts() / "no_answer").glob("*.txt")))
    for language in LANGUAGES:
        words = question_words(language, QUESTION_WORDS)
        assert {word.kind for word in words} >= {"count", "person", "date"}, language
        assert all(word.kind in ANSWER_KINDS for word in words)


def test_the_focus_is_what_follows_the_question_words():
    assert focus("How many proposals did Ha Tinh receive?", "en", QUESTION_WORDS) == (
        "proposals did Ha"
    )
    assert focus("Hány javaslatot kapott?", "hu", QUESTION_WORDS, words=1) == "javaslatot"
    assert focus("Tell me about it.", "en", QUESTION_WORDS) == "Tell me about it."


def test_without_question_words_the_nearest_example_decides_or_other():
    typer = QuestionTyper(QUESTION_WORDS, HashEmbedder(), margin=0.05)
    # Words of the "count" example, in a language without a list.
    assert typer.kind("people took part how many", "xx") == "count"
    # Not clearly nearer one example than the next: no kind.
    undecided = QuestionTyper(QUESTION_WORDS, HashEmbedder(), margin=1.0)
    assert undecided.kind("people took part how many", "xx") == "other"
    assert QuestionTyper(QUESTION_WORDS, None, margin=0.05).kind("zzz", "xx") == "other"
