"""The strict answer-language check: a word copied untranslated from a cited passage of
another language makes an answer not in the asker's language; a name does not."""

from __future__ import annotations

from evals.gold import GoldItem
from evals.language import untranslated_words
from evals.metrics import answer_metrics

GERMAN = (
    "Genosse Nguyen Anh Tuan, Sekretär des Provinzparteikomitees von Bac Ninh, eröffnete die "
    "Ringstraße. Die Partei und das Volk",
    "de",
)
HUNGARIAN = ("A gazdaság nőtt Bac Ninh tartományban.", "hu")
ENGLISH = ("Nguyen Anh Tuan spoke in Bac Ninh.", "en")
QUESTION = "Who opened the road in Bac Ninh?"


# What the fake detector takes a word for: a name for the language of its people, as a
# real detector does; any word it does not know for English.
LANGUAGES = {
    "genosse": "de",
    "sekretär": "de",
    "ringstraße": "de",
    "volk": "de",
    "provinzparteikomitees": "de",
    "gazdaság": "hu",
    "nguyen anh tuan": "vi",
    "nguyen": "vi",
}


class WordDetector:
    def detect(self, text: str) -> str:
        return LANGUAGES.get(text.lower(), "en")


def words(answer: str, cited=(GERMAN,), language: str = "en", question: str = QUESTION):
    return untranslated_words(answer, question, cited, language, WordDetector())


def test_a_source_word_copied_bare_is_not_the_askers_language():
    found = words("Genosse Nguyen Anh Tuan, the Sekretär of the committee, opened it [1].")
    assert found == [("Genosse", "de"), ("Sekretär", "de")]


def test_a_source_word_quoted_counts_whatever_its_length():
    assert words("He opened the “Ringstraße” [1].") == [("Ringstraße", "de")]
    # Quoting shows it was copied as written: even a short word counts, which bare does not.
    assert words("The „Volk“ came [1].") == [("Volk", "de")]
    assert words("The Volk came [1].") == []
    assert words("The economy («gazdaság») grew [1].", cited=[HUNGARIAN]) == [("gazdaság", "hu")]


def test_names_stay_as_written():
    # In the German passage, but the detector takes them for Vietnamese, or they are asked.
    assert words("Nguyen Anh Tuan opened the road in Bac Ninh [1].") == []
    assert words("“Nguyen Anh Tuan” opened it [1].") == []


def test_a_word_the_asker_wrote_or_a_passage_in_the_askers_language_holds_is_not_copied():
    asked = "Was the Genosse in Bac Ninh?"
    assert words("Yes, the Genosse was there [1].", question=asked) == []
    detector_says_german = (("Nguyen spoke", "de"), ("Nguyen spoke", "en"))
    assert words("Nguyen spoke [1].", cited=detector_says_german) == []
    assert words("Genosse Tuan [1].", cited=[GERMAN, ENGLISH]) == [("Genosse", "de")]


def test_only_words_the_detector_takes_for_the_source_language_count():
    # "Partei" is in the German passage, but the detector does not take it for German.
    assert words("The Partei met [1].") == []


def test_no_passage_in_another_language_no_copied_word():
    assert words("Genosse [1].", cited=[("Der Genosse kam.", "en")]) == []
    assert words("Genosse [1].", cited=[]) == []
    # The answer's own German, copied from no cited passage, is the detector's to judge.
    assert words("The Kanzler came [1].") == []


def test_a_german_answer_to_a_german_question_copies_nothing():
    assert words("Genosse Tuan eröffnete die Ringstraße [1].", language="de") == []


def test_each_word_once_in_answer_order():
    found = words("Sekretär, Genosse, Sekretär, “Genosse” [1].")
    assert found == [("Sekretär", "de"), ("Genosse", "de")]


ITEM = GoldItem(
    id="q1",
    language="en",
    question=QUESTION,
    answer="Nguyen Anh Tuan.",
    must_include=[["Nguyen Anh Tuan"]],
    sources=["004"],
    answerable=True,
)


def test_language_match_is_strict_and_the_detected_match_is_kept():
    def figures(untranslated):
        return answer_metrics(
            ITEM,
            answer="Genosse Nguyen Anh Tuan opened it [1].",
            refused=False,
            verified=True,
            citations=[],
            passage_texts={},
            answer_language="en",
            untranslated=untranslated,
        )

    strict = figures([("Genosse", "de")])
    assert strict["language_match"] == 0.0
    assert strict["detected_language_match"] == 1.0
    assert figures([])["language_match"] == 1.0
