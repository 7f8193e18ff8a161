"""What kind of answer a question asks for: a count, a document's number, a person, a
date, a year, a period, a place, or something else.

Told from the question words of the asker's language (``prompts/question_words``, a small
bundled lexicon: "how many", "bao nhiêu", "كم", "何件"), the longest phrase found winning
("since when" over "when"); none of them found, it asks for something else ("why", "what
model"). A question in a language without a list is compared with one example question
of each kind by embedding (the multilingual embedder aligns "Wer leitete die Sitzung?"
with "Who chaired the meeting?"); the nearest kind is taken when it is clearly nearer
than the others, else "other".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np

from assistant.answering.candidates import folded_with_offsets
from ingest.interfaces import Embedder
from ingest.tokens import fold

AnswerKind = Literal["count", "number", "person", "date", "year", "period", "place", "other"]
ANSWER_KINDS: tuple[AnswerKind, ...] = (
    "count", "number", "person", "date", "year", "period", "place", "other",
)  # fmt: skip
# One question of each kind, for the embedding fallback (English: e5 aligns languages).
EXAMPLES: dict[AnswerKind, str] = {
    "count": "How many people took part?",
    "number": "What is the number of the decision?",
    "person": "Who chaired the meeting?",
    "date": "On what date was the conference held?",
    "year": "In which year was it founded?",
    "period": "Over what period did it take place?",
    "place": "In which province did it happen?",
}
ARABIC = re.compile("[\u0600-\u06ff]")
# Scripts written without spaces between words, where a phrase is found anywhere.
UNSPACED = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class QuestionWord:
    kind: AnswerKind
    phrase: str  # folded


@cache
def question_words(language: str, directory: Path) -> tuple[QuestionWord, ...]:
    """The lexicon of ``language``, longest phrases first; empty without one."""
    path = directory / f"{language}.txt"
    if not path.is_file():
        return ()
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, _, phrase = line.partition(":")
        if kind.strip() not in ANSWER_KINDS:
            raise ValueError(f"{path}: unknown kind {kind.strip()!r} in {line!r}")
        words.append(QuestionWord(kind.strip(), fold(phrase.strip())))  # type: ignore[arg-type]
    return tuple(sorted(words, key=lambda word: len(word.phrase), reverse=True))


def kind_from_words(question: str, language: str, directory: Path) -> AnswerKind | None:
    """The kind of the longest question phrase of ``language`` in ``question``, if any."""
    found = question_phrase(question, language, directory)
    return found[0] if found else None


def question_phrase(
    question: str, language: str, directory: Path
) -> tuple[AnswerKind, int, int] | None:
    """(kind, start, end) of the longest question phrase of ``language`` in ``question``
    (matched folded, offsets in ``question``), if any."""
    folded, offsets = folded_with_offsets(question)
    for word in question_words(language, directory):
        pattern = re.escape(word.phrase)
        if ARABIC.match(word.phrase):
            # Arabic writes "and", "for", "in", "with" onto the next word: "لأي", "وكم".
            pattern = rf"(?<!\w)[وفبلك]?{pattern}(?!\w)"
        elif not UNSPACED.search(word.phrase):
            pattern = rf"(?<!\w){pattern}(?!\w)"
        match = re.search(pattern, folded)
        if match:
            return word.kind, offsets[match.start()], offsets[match.end() - 1] + 1
    return None


def focus(question: str, language: str, directory: Path, words: int = 3) -> str:
    """The words right after the question phrase, which name what is asked ("how many
    *proposals* did ..."): ``words`` words, or as many characters times two in scripts
    written without spaces. The whole question when no phrase is found."""
    found = question_phrase(question, language, directory)
    if found is None:
        return question
    rest = question[found[2] :].strip()
    if UNSPACED.search(rest[:1] or " "):
        return rest[: words * 2]
    return " ".join(rest.split()[:words])


class QuestionTyper:
    """The answer kind of a question: its language's question words, else the nearest
    example question by embedding when it is nearer by ``margin`` (cosine) than the next."""

    def __init__(self, directory: Path, embedder: Embedder | None, margin: float):
        self.directory = directory
        self.embedder = embedder
        self.margin = margin
        self._examples: np.ndarray | None = None

    def kind(self, question: str, language: str) -> AnswerKind:
        found = kind_from_words(question, language, self.directory)
        if found is not None:
            return found
        # A language with a list whose words none match asks something else ("why").
        if question_words(language, self.directory) or self.embedder is None:
            return "other"
        if self._examples is None:
            self._examples = self.embedder.embed_queries(list(EXAMPLES.values()))
        similarity = self._examples @ self.embedder.embed_queries([question])[0]
        best, second = np.sort(similarity)[::-1][:2]
        if best - second < self.margin:
            return "other"
        return list(EXAMPLES)[int(np.argmax(similarity))]
