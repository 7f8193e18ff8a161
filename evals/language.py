"""Whether an answer is in the asker's language, strictly: besides the detected language
matching, it holds no word copied untranslated from a cited passage written in another
language ("the Genosse of the province", "the “Ringstraße”"). Names stay as written, so
they do not count.

This is the evaluator's own check, independent of the product's (its source-word check in
``assistant.answering``), so that a bug in one cannot hide in the other. A word counts as
copied when it is written in a cited passage of another language, not in the question nor
in a cited passage of the asker's language (names are written the same in every language:
"Bac Ninh", "Nguyen Anh Tuan"), and the run's language detector takes it alone for that
passage's language (it rarely takes a name for German; it takes "Genosse" for German). A
bare word needs ``MIN_COPIED_LETTERS`` letters; a quoted span ("“gazdaság”") needs none,
as quoting it shows it was copied as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from evals.normalize import normalize, strip_markers, tokens
from ingest.interfaces import LanguageDetector

# Shorter bare words are as likely names, abbreviations or words of both languages ("Party").
MIN_COPIED_LETTERS = 5
WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
# Double quotation marks of the scripts the gold set holds; single ones are left out, as
# their closing mark is the apostrophe ("don’t").
QUOTED = re.compile(r"[“„\"«»「『]\s*([^“”„\"«»「」『』\n]+?)\s*[”“\"»«」』]")

Cited = Sequence[tuple[str, str]]  # (passage text, its language) for each cited passage


def untranslated_words(
    answer: str, question: str, cited: Cited, language: str, detector: LanguageDetector
) -> list[tuple[str, str]]:
    """(word or quoted span, the language of the passage it was copied from) for each word
    of ``answer`` copied untranslated from a cited passage of another language than
    ``language``, in order, once each."""
    sources = _words_by_language(cited, language)
    if not sources:
        return []
    # Words the asker wrote, or a passage in the asker's language writes, are the asker's.
    own = {*_folded_words(question), *_folded_words(*(t for t, lang in cited if lang == language))}
    text = strip_markers(answer)
    found: dict[str, str] = {}
    for word in WORD.findall(text):
        folded = normalize(word)
        source = sources.get(folded)
        if source is None or folded in own or _letters(word) < MIN_COPIED_LETTERS:
            continue
        if word not in found and detector.detect(word) == source:
            found[word] = source
    for span in QUOTED.findall(text):
        source = _quoted_from(span, cited, language, own)
        if source is not None and span not in found and detector.detect(span) == source:
            found[span] = source
    return list(found.items())


def _words_by_language(cited: Cited, language: str) -> dict[str, str]:
    """Folded word -> the language of the first cited passage of another language writing it."""
    sources: dict[str, str] = {}
    for text, passage_language in cited:
        if passage_language != language:
            for word in _folded_words(text):
                sources.setdefault(word, passage_language)
    return sources


def _folded_words(*texts: str) -> Iterator[str]:
    for text in texts:
        yield from (normalize(word) for word in WORD.findall(text))


def _letters(word: str) -> int:
    return sum(char.isalpha() for char in word)


def _quoted_from(span: str, cited: Cited, language: str, own: set[str]) -> str | None:
    """The language of a cited passage of another language holding ``span`` word for word;
    None when none does, when the span holds no letter (a quoted figure), or when all its
    words are the asker's own."""
    words = tokens(span)
    if not any(char.isalpha() for char in span) or all(word in own for word in words):
        return None
    needle = f" {' '.join(words)} "
    for text, passage_language in cited:
        if passage_language != language and needle in f" {' '.join(tokens(text))} ":
            return passage_language
    return None
