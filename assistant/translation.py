"""A cited sentence translated on demand, for the asker to read: the chat's "Show in
<language>" and ``GET /api/documents/{doc_id}/translation``.

The sentence is named by its document and offsets and read from the stored document, so
that a page can never make the model translate text of its own choosing. The translation
is shown labelled as a machine translation and is never evidence: no answer, check or
citation reads it. A translation that leaves out a figure of the sentence (small models
do) is refused rather than shown: the asker would read a sentence without the figure the
answer cites. Translations are kept in one SQLite file, ``<data_dir>/translations.sqlite3``,
one per sentence and language, so that asking again costs no model call; a sentence whose
document has changed since is translated again.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.answering.citations import number_keys, number_keys_with_parts
from assistant.languages import LANGUAGE_NAMES, language_code
from assistant.llms import LLM, LLMError
from ingest.tokens import fold

if TYPE_CHECKING:
    from assistant.prompts import Prompts
    from ingest.interfaces import LanguageDetector
    from ingest.types import Document

logger = logging.getLogger(__name__)

TRANSLATIONS_FILE = "translations.sqlite3"
# A cited sentence is one sentence; a longer span would be the model translating an article.
MAX_SENTENCE_CHARS = 1500
# What the model may write: about a token per character of the sentence, whatever the two
# scripts, and a little more for a short one.
EXTRA_TOKENS = 64
# A label or quotes a small model puts around its translation.
REPLY_LABEL = re.compile(r"^\s*(?:translation|translated)\s*:\s*", re.IGNORECASE)
QUOTES = "\"'“”„«»「」"

SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    doc_id TEXT NOT NULL,           -- the document's own id, not an alias
    start_offset INTEGER NOT NULL,  -- the sentence's offsets in the document's text
    end_offset INTEGER NOT NULL,
    language TEXT NOT NULL,         -- translated into, ISO 639-1
    sentence TEXT NOT NULL,         -- what was translated: a changed document misses
    source_language TEXT NOT NULL,
    text TEXT NOT NULL,             -- the translation
    model TEXT NOT NULL,            -- the model that translated it: another one misses
    time TEXT NOT NULL,             -- UTC, ISO 8601
    PRIMARY KEY (doc_id, start_offset, end_offset, language)
);
"""
LOOKUP = """
SELECT source_language, text FROM translations
WHERE doc_id = ? AND start_offset = ? AND end_offset = ? AND language = ?
  AND sentence = ? AND model = ?
"""
STORE = """
INSERT OR REPLACE INTO translations
VALUES (:doc_id, :start, :end, :language, :sentence, :source_language, :text, :model, :time)
"""


class NoSuchSentence(Exception):
    """No indexed document has that id, or the offsets lie outside its text."""


class UnknownLanguage(ValueError):
    """A language to translate into that is not an ISO 639-1 code the product knows."""


@dataclass(frozen=True)
class SourceSentence:
    """A sentence of a stored document: its own id (not an alias), offsets and text, and
    the article's language (ISO 639-1; "und" when it is not known)."""

    doc_id: str
    start: int
    end: int
    text: str
    language: str


@dataclass(frozen=True)
class Translation:
    """A sentence in ``language``: machine translated from ``source_language``, or, when
    ``machine_translation`` is false, the sentence's own words (it is in that language)."""

    text: str
    language: str
    source_language: str
    machine_translation: bool = True


def target_language(code: str) -> str:
    """``code`` ("vi", "pt-BR") as the ISO 639-1 code to translate into; UnknownLanguage when
    the product knows no such language (a translation into English by default would be a
    wrong answer, not a fallback)."""
    normalized = language_code(code)
    if normalized not in LANGUAGE_NAMES:
        raise UnknownLanguage(
            f"Unknown language {code!r}: send an ISO 639-1 code such as "
            f"{', '.join(sorted(LANGUAGE_NAMES)[:4])}, …"
        )
    return normalized


def cleaned_reply(reply: str) -> str:
    """The model's translation on one line, without a "Translation:" label or the quotes
    it may wrap it in."""
    text = REPLY_LABEL.sub("", " ".join(reply.split()))
    if len(text) > 1 and text[0] in QUOTES and text[-1] in QUOTES:
        text = text[1:-1].strip()
    return text


class TranslationCache:
    """The translations in a SQLite file whose schema is created on first write; a
    connection per call, as the chat and the API translate from several threads. A cache
    that cannot be read or written is logged and skipped: the translation still comes."""

    def __init__(self, path: Path):
        self.path = path

    def _connect(self, create: bool = False) -> sqlite3.Connection:
        """A connection; ``create``: the file and its schema made first (a reader finds
        them made by the writer that made the file)."""
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10)
        if create:
            db.executescript(SCHEMA)
        return db

    def get(self, sentence: SourceSentence, language: str, model: str) -> Translation | None:
        """The stored translation of ``sentence`` into ``language`` by ``model``, if any."""
        if not self.path.exists():
            return None
        key = (sentence.doc_id, sentence.start, sentence.end, language, sentence.text, model)
        try:
            with closing(self._connect()) as db:
                row = db.execute(LOOKUP, key).fetchone()
        except (sqlite3.Error, OSError) as error:
            logger.warning("The translation cache %s could not be read: %s", self.path, error)
            return None
        return Translation(row[1], language, row[0]) if row else None

    def put(self, sentence: SourceSentence, translation: Translation, model: str) -> None:
        """Keeps ``translation`` of ``sentence``, replacing an earlier one."""
        row = {
            "doc_id": sentence.doc_id,
            "start": sentence.start,
            "end": sentence.end,
            "language": translation.language,
            "sentence": sentence.text,
            "source_language": translation.source_language,
            "text": translation.text,
            "model": model,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        try:
            with closing(self._connect(create=True)) as db, db:
                db.execute(STORE, row)
        except (sqlite3.Error, OSError) as error:
            logger.warning("The translation cache %s could not be written: %s", self.path, error)


class Translator:
    """Translates the sentences of the stored documents (``documents``: a document by its
    id or alias) with ``llm``, keeping what it translated in ``cache``. ``detector`` names
    the language of a sentence whose article's language is not known."""

    def __init__(
        self,
        llm: LLM,
        prompts: Prompts,
        documents: Callable[[str], Document | None],
        cache: TranslationCache,
        detector: LanguageDetector | None = None,
    ):
        self.llm = llm
        self.prompts = prompts
        self.documents = documents
        self.cache = cache
        self.detector = detector

    def sentence(self, doc_id: str, start: int, end: int) -> SourceSentence:
        """The sentence at ``start``..``end`` of the document ``doc_id`` names. Raises
        NoSuchSentence for an unknown document, offsets outside its text or an empty or
        too long span (MAX_SENTENCE_CHARS)."""
        document = self.documents(doc_id)
        if document is None:
            raise NoSuchSentence(f"No document {doc_id!r}.")
        if not 0 <= start < end <= len(document.text):
            raise NoSuchSentence(
                f"No sentence at {start}..{end} of {doc_id!r}: its text has "
                f"{len(document.text)} characters."
            )
        if end - start > MAX_SENTENCE_CHARS:
            raise NoSuchSentence(
                f"{start}..{end} is {end - start} characters long: a cited sentence has at "
                f"most {MAX_SENTENCE_CHARS}."
            )
        text = document.text[start:end]
        language = document.language if document.language in LANGUAGE_NAMES else "und"
        if language == "und" and self.detector is not None:
            language = self.detector.detect(text)
        return SourceSentence(document.doc_id, start, end, text, language)

    def cached(self, sentence: SourceSentence, language: str) -> Translation | None:
        """``sentence`` in ``language`` when that needs no model call: the sentence itself
        when it is in that language, else a translation made before; None otherwise."""
        if sentence.language == language:
            return Translation(sentence.text, language, sentence.language, False)
        return self.cache.get(sentence, language, self.llm.model)

    def translate(self, doc_id: str, start: int, end: int, language: str) -> Translation:
        """The sentence at ``start``..``end`` of document ``doc_id`` in ``language`` (an ISO
        639-1 code): from the cache, or asked of the model once and kept. Raises
        UnknownLanguage, NoSuchSentence, and LLMError when the model fails or gives back
        no translation, or one without a figure of the sentence."""
        language = target_language(language)
        sentence = self.sentence(doc_id, start, end)
        found = self.cached(sentence, language)
        if found is not None:
            return found
        messages = self.prompts.sentence_translation_messages(
            sentence.text, sentence.language, language
        )
        reply = self.llm.complete_chat(messages, max_tokens=len(sentence.text) + EXTRA_TOKENS)
        text = cleaned_reply(reply)
        if not text or fold(text) == fold(" ".join(sentence.text.split())):
            raise LLMError("bad_output", "The language model gave back no translation.")
        # Parts too: a date may come back written another way ("3 June 2013": 3.6.2013).
        left_out = number_keys(sentence.text) - number_keys_with_parts(text)
        if left_out:
            raise LLMError(
                "bad_output",
                f"The language model's translation left out {', '.join(sorted(left_out))}.",
            )
        translation = Translation(text, language, sentence.language)
        self.cache.put(sentence, translation, self.llm.model)
        return translation
