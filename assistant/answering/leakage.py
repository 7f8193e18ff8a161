"""Words of the source language left in an answer ("the Zentralkomitee of the Party",
"el Ständige Parteiausschuss").

A small model reading German passages to answer in English copies some German words as
they are. A word counts as leaked when the answer copied it from a passage in another
language than the answer's (it is written there, and not in the question) and the language
detector takes it, alone, for the passage's language: names the article shares with every
language ("Nguyen Anh Tuan", "Bac Ninh") are rarely taken for German, words such as
"Zentralkomitee" or "Genosse" are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answering.citations import PromptPassage, without_markers
from ingest.interfaces import LanguageDetector
from ingest.tokens import fold

WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def leaked_words(
    answer: str,
    question: str,
    passages: Sequence[PromptPassage],
    language: str,
    detector: LanguageDetector,
    min_letters: int,
) -> list[tuple[str, str]]:
    """(word, its language) for each source-language word of ``answer``, in order, once;
    shorter words than ``min_letters`` are as likely names, abbreviations or words of both
    languages ("Party")."""
    sources: dict[str, str] = {}  # folded word -> language of a passage writing it
    for passage in passages:
        if passage.passage.language == language:
            continue
        for span in passage.sentences:
            for word in WORD.findall(span.text):
                sources.setdefault(fold(word), passage.passage.language)
    asked = {fold(word) for word in WORD.findall(question)}
    leaked: dict[str, str] = {}
    for word in WORD.findall(without_markers(answer)):
        folded = fold(word)
        source = sources.get(folded)
        if source is None or folded in asked or len(word) < min_letters:
            continue
        if word not in leaked and detector.detect(word) == source:
            leaked[word] = source
    return list(leaked.items())


def replace_words(answer: str, translations: dict[str, str]) -> str:
    """``answer`` with each whole word of ``translations`` replaced."""
    if not translations:
        return answer
    pattern = re.compile(
        r"(?<![\w-])("
        + "|".join(map(re.escape, sorted(translations, key=len, reverse=True)))
        + r")(?![\w-])"
    )
    return pattern.sub(lambda match: translations[match[1]], answer)
