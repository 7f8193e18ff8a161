"""Source-language words copied into an answer."""

from __future__ import annotations

from assistant.answering.citations import PromptPassage, Span
from assistant.answering.leakage import leaked_words, replace_words
from assistant.types import Passage

SOURCE = (
    "Genosse Nguyen Anh Tuan, Mitglied des Zentralkomitees der Partei und Sekretär des "
    "Provinzparteikomitees von Bac Ninh, empfing die Delegation."
)
GERMAN_WORDS = {"Genosse", "Zentralkomitees", "Sekretär", "Mitglied", "Delegation"}


class WordDetector:
    """German for the words of the German sentence above, English for everything else."""

    def detect(self, text: str) -> str:
        return "de" if text in GERMAN_WORDS else "en"


def passages(language: str = "de") -> list[PromptPassage]:
    passage = Passage("x.txt", "x.txt#0", "", language, 1.0, 0, len(SOURCE), SOURCE)
    return [PromptPassage(1, passage, [Span(SOURCE, 0, len(SOURCE))])]


def test_copied_source_words_are_found_once_in_order_and_names_are_not():
    answer = "Genosse Nguyen Anh Tuan of Bac Ninh, a Zentralkomitees member (Genosse) [1]."
    found = leaked_words(answer, "Who received it?", passages(), "en", WordDetector(), 5)
    assert found == [("Genosse", "de"), ("Zentralkomitees", "de")]


def test_words_of_the_question_or_of_a_same_language_passage_are_not_leaks():
    answer = "Der Genosse Nguyen Anh Tuan empfing die Delegation [1]."
    assert leaked_words(answer, "Wer empfing?", passages(), "de", WordDetector(), 5) == []
    answer = "The Delegation was received by Nguyen Anh Tuan [1]."
    assert (
        leaked_words(answer, "Who received the Delegation?", passages(), "en", WordDetector(), 5)
        == []
    )


def test_replacement_is_by_whole_word():
    text = "Genosse Tuan, Genossenschaft [1]."
    assert replace_words(text, {"Genosse": "Comrade"}) == "Comrade Tuan, Genossenschaft [1]."
