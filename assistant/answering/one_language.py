"""An answer in one language, before it is checked: source-language words the model
copied into it (``leakage``: "the Zentralkomitee of the Party") are translated by the
model, term by term, and the checks then read the translated answer, so nothing changes
an answer after it is checked. Names stay as written; a word the model cannot translate
is reported, and the answer is not verified: a quoted "“Ringstraße”" inside a Vietnamese
answer is a patchwork, not an answer in Vietnamese."""

from __future__ import annotations

import re
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field

from assistant.answering.citations import PromptPassage
from assistant.answering.leakage import leaked_words, replace_words
from assistant.answering.llm_reader import LLMReader
from assistant.llms import LLMError
from assistant.prompts import Prompts
from assistant.types import ProgressEvent
from ingest.interfaces import LanguageDetector
from ingest.tokens import fold

# A translated term is a few words.
TRANSLATION_TOKENS = 12
# List numbering, bullets and quotes a model puts around a translation.
TRANSLATION_LINE_NOISE = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s*|[\"'“”„«»]")


@dataclass
class InOneLanguage:
    text: str
    translated: dict[str, str] = field(default_factory=dict)
    untranslated: list[str] = field(default_factory=list)  # source words left in ``text``


class OneLanguage:
    def __init__(
        self, reader: LLMReader, prompts: Prompts, detector: LanguageDetector, min_letters: int
    ):
        self.reader = reader
        self.prompts = prompts
        self.detector = detector
        self.min_letters = min_letters

    def run(
        self, text: str, question: str, passages: Sequence[PromptPassage], language: str
    ) -> Generator[ProgressEvent, None, InOneLanguage]:
        leaks = leaked_words(text, question, passages, language, self.detector, self.min_letters)
        if not leaks:
            return InOneLanguage(text)
        translations: dict[str, str] = {}
        for source in dict.fromkeys(source for _, source in leaks):
            terms = [word for word, word_language in leaks if word_language == source]
            translations |= yield from self.translate(terms, source, language)
        untranslated = [word for word, _ in leaks if word not in translations]
        return InOneLanguage(replace_words(text, translations), translations, untranslated)

    def translate(
        self, terms: list[str], source: str, language: str
    ) -> Generator[ProgressEvent, None, dict[str, str]]:
        """The model's translations of ``terms``, each kept only if it is one line, not the
        term itself, and holds no other source-language term."""
        messages = self.prompts.translation_messages(terms, source, language)
        try:
            reply = yield from self.reader.read(
                messages, "checking", max_tokens=TRANSLATION_TOKENS * len(terms)
            )
        except LLMError:
            return {}
        lines = [TRANSLATION_LINE_NOISE.sub("", line).strip() for line in reply.splitlines()]
        lines = [line for line in lines if line]
        if len(lines) != len(terms):
            return {}
        return {
            term: line
            for term, line in zip(terms, lines, strict=True)
            if fold(line) != fold(term) and fold(term) not in fold(line)
        }
