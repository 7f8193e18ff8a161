"""The extractive reader: the answer's key fact read off the evidence without the language
model, a second reader whose errors are its own.

The question's answer kind (``question_types``) says what to look for; every figure, date
or name of that kind in the sentences of the evidence's documents (``candidates``) is a
candidate, except the question's own ("Resolution 25" does not answer "how many"). Each
is scored by how close the words around it are to the question in the multilingual
embedder's space ("how many proposals did Ha Tinh receive" is near "... تلقت المقاطعة
بأكملها 18087 اقتراحًا"); for a count, the words right after the figure (its unit) are
also compared with the words right after the question's "how many". The best candidate
is the reader's answer, with a confidence from how far it leads the best candidate of
another value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from assistant.answering.candidates import (
    MIN_NAME_WORDS,
    Candidate,
    Kind,
    breakdown_starts,
    candidates_in,
    common_words,
    part_regions,
)
from assistant.answering.citations import Span, cite, passage_sentences
from assistant.answering.evidence import Evidence, PassageVectors
from assistant.answering.question_types import AnswerKind, QuestionTyper, focus
from assistant.settings import EvidenceSettings, ReaderSettings
from assistant.types import Citation, KeyFact, Passage
from ingest.chunking import split_sentences
from ingest.interfaces import Embedder, LanguageDetector
from ingest.names import CASED_SCRIPTS, name_key, name_spans, script_of, span_keys, word_key

# Which candidate roles answer which kind of question; the second set is admitted with
# ``off_role_penalty``: a four-digit number may be a year or a count ("2015 dialogues"), a
# "when" may be answered by a year alone.
ROLES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "count": (frozenset({"count", "percent"}), frozenset({"year"})),
    "number": (frozenset({"code"}), frozenset({"count"})),
    "date": (frozenset({"date"}), frozenset({"year"})),
    "year": (frozenset({"year"}), frozenset({"date"})),
    "period": (frozenset({"date", "year"}), frozenset({"count"})),
    "person": (frozenset({"name"}), frozenset()),
    "place": (frozenset({"name"}), frozenset()),
}
KIND_OF_ROLE: dict[str, Kind] = {
    "count": "figure", "percent": "figure", "code": "figure",
    "year": "date", "date": "date", "name": "name",
}  # fmt: skip
WORD = re.compile(r"\S+")

# Every passage of a document, in document order (``Assistant.document_passages``).
PassageLookup = Callable[[str], list[Passage]]


@dataclass
class ScoredCandidate:
    candidate: Candidate
    score: float
    passage: Passage
    span: Span  # the sentence (or clause) it stands in, with document offsets


@dataclass
class Reading:
    """What the extractive reader found: the question's answer kind, the candidates best
    first, and the confidence (0..1) that the first is the answer. No candidates for a
    kind it does not read ("other"), or when the evidence holds none."""

    kind: AnswerKind
    ranked: list[ScoredCandidate] = field(default_factory=list)
    confidence: float = 0.0

    @property
    def best(self) -> ScoredCandidate | None:
        return self.ranked[0] if self.ranked else None

    def rival(self) -> ScoredCandidate | None:
        """The best candidate of another value than the best one."""
        best = self.best
        if best is None:
            return None
        return next(
            (r for r in self.ranked[1:] if not r.candidate.keys & best.candidate.keys), None
        )

    def key_fact(self) -> KeyFact | None:
        """The best candidate as a key fact, its sentence as an unchecked citation."""
        best = self.best
        if best is None:
            return None
        return KeyFact(
            text=best.candidate.text,
            kind=self.kind,
            confidence=round(self.confidence, 3),
            citation=citation_of(best, marker=0),
        )


def citation_of(scored: ScoredCandidate, marker: int) -> Citation:
    """The sentence a candidate stands in, as a citation that claims nothing yet."""
    return cite(marker, scored.passage, scored.span, supported=False)


# Where a sentence's clauses part: punctuation (commas inside numbers excepted), dashes,
# and "and" in the languages of the product ("و" written onto the next word in Arabic).
CLAUSE_BREAK = re.compile(
    r"(?<!\d)[,，、](?!\d)|[;；،؛:：()（）]|\s[–—-]\s"
    r"|\s(?:and|und|và|et|и|és|y|e|i|ve|en|та|і|oraz|ja|och|og)\s"
    r"|\sو(?=\w{3})|和|及|与|以及|および|그리고|및"
)


def clause(sentence: str, start: int, end: int, min_words: int) -> str:
    """The clause of ``sentence`` holding ``sentence[start:end]``; when it has fewer than
    ``min_words`` words, the neighbouring clauses join it."""
    breaks = [(m.start(), m.end()) for m in CLAUSE_BREAK.finditer(sentence)]
    before = [b for b in breaks if b[1] <= start]
    after = [b for b in breaks if b[0] >= end]
    first = before[-1][1] if before else 0
    last = after[0][0] if after else len(sentence)
    text = sentence[first:last]
    if len(text.split()) < min_words:
        first = before[-2][1] if len(before) > 1 else 0
        last = after[1][0] if len(after) > 1 else len(sentence)
        text = sentence[first:last]
    return text.strip()


def window(sentence: str, start: int, end: int, before: int, after: int) -> str:
    """``before`` words before ``sentence[start:end]``, it, and ``after`` words after."""
    spans = [(m.start(), m.end()) for m in WORD.finditer(sentence)]
    inside = [i for i, (s, e) in enumerate(spans) if s < end and e > start] or [0]
    first = spans[max(0, inside[0] - before)][0]
    last = spans[min(len(spans) - 1, inside[-1] + after)][1]
    return sentence[first:last]


class ExtractiveReader:
    """Reads the key fact off the evidence (see the module docstring). ``passages`` gives
    every passage of a document, for ``scope = "document"``; without it, or with
    ``scope = "evidence"``, only the retrieved passages' sentences are read."""

    def __init__(
        self,
        config: ReaderSettings,
        embedder: Embedder,
        question_words_dir: Path,
        number_words_dir: Path,
        passages: PassageLookup | None = None,
        detector: LanguageDetector | None = None,
        breakdown_words_dir: Path | None = None,
        sentence_max_chars: int = EvidenceSettings().sentence_max_chars,
    ):
        self.config = config
        self.embedder = embedder
        self.detector = detector
        self.typer = QuestionTyper(question_words_dir, embedder, config.kind_margin)
        self.question_words_dir = question_words_dir
        self.number_words_dir = number_words_dir
        self.breakdown_words_dir = breakdown_words_dir
        self.sentence_max_chars = sentence_max_chars  # as the evidence is cut
        self.vectors = PassageVectors(embedder)
        self.passages = passages

    def run(
        self,
        question: str,
        language: str,
        evidence: Evidence,
        kind_question: str | None = None,
        known: str | None = None,
        earlier: str = "",
    ) -> Reading:
        """The reading of ``question`` in the evidence's documents. The answer kind is
        told from ``kind_question`` when given (a follow-up joined to its earlier question
        asks what the follow-up asks), else, for a follow-up without question words ("And
        the models?"), from the ``earlier`` question; figures, dates and names ``known``
        writes (default: the question) are not candidates."""
        kind = self.typer.kind(kind_question or question, language)
        if kind == "other" and earlier:
            kind = self.typer.kind(earlier, language)
        if kind not in ROLES:
            return Reading(kind)
        wanted, admitted = ROLES[kind]
        sentences = self.sentences(evidence)
        found = self.candidates(known or question, sentences, wanted | admitted)
        if not found:
            return Reading(kind)
        scores = self.scores(question, language, kind, found)
        scores -= np.array(
            [self.config.off_role_penalty if c.role in admitted else 0.0 for c, _, _ in found]
        )
        if kind == "count" and not self.asks_for_a_part(kind_question or question, language):
            scores -= np.array([self.config.part_penalty if c.part else 0.0 for c, _, _ in found])
        scores -= np.array(
            [
                self.config.own_language_name_penalty
                if c.kind == "name" and self.own_language(c.text, p.language)
                else 0.0
                for c, p, _ in found
            ]
        )
        order = np.argsort(-scores, kind="stable")
        ranked = [
            ScoredCandidate(found[i][0], float(scores[i]), found[i][1], found[i][2]) for i in order
        ]
        reading = Reading(kind, ranked)
        reading.confidence = self.confidence(reading)
        return reading

    def sentences(self, evidence: Evidence) -> list[tuple[Passage, Span]]:
        """The sentences read, most relevant first: the retrieved passages' (ranked by the
        evidence), then, with ``scope = "document"``, the rest of their documents' in order."""
        ranked = list(evidence.ranked)
        if self.config.scope == "evidence" or self.passages is None:
            return ranked
        seen = {span for _, span in ranked}
        return ranked + [
            (passage, span)
            for doc_id in evidence.documents
            for passage in self.passages(doc_id)
            for span in passage_sentences(passage, self.sentence_max_chars)
            if span not in seen
        ]

    def candidates(
        self, question: str, sentences: Sequence[tuple[Passage, Span]], roles: frozenset[str]
    ) -> list[tuple[Candidate, Passage, Span]]:
        """The candidates of ``roles`` in ``sentences``, less what the question writes
        itself: its figures and dates in the same role, its names (and names holding them)."""
        kinds = sorted({KIND_OF_ROLE[role] for role in roles})
        directory = self.number_words_dir
        asked = {
            (c.role, key) for c in candidates_in(question, "", kinds, directory) for key in c.keys
        }
        asked_names = {key for span in name_spans(question) for key in span_keys(span.text)}
        common = common_words((span.text for _, span in sentences), self.config.uncased_name_share)
        found = []
        for passage, span in sentences:
            regions = self.part_regions(passage)
            for candidate in candidates_in(span.text, passage.language, kinds, directory, common):
                at = span.start + candidate.start
                if any(start <= at < end for start, end in regions):
                    candidate = replace(candidate, part=True)
                if candidate.role not in roles:
                    continue
                if candidate.kind == "name":
                    candidate = self.trimmed(candidate, passage.language)
                if all((candidate.role, key) in asked for key in candidate.keys):
                    continue
                if candidate.kind == "name" and any(
                    key in asked_names
                    for part in name_spans(candidate.text)
                    for key in span_keys(part.text)
                ):
                    continue
                found.append((candidate, passage, span))
        return found[: self.config.max_candidates]

    def asks_for_a_part(self, question: str, language: str) -> bool:
        """Whether the question itself breaks something down ("among them, how many...")."""
        return self.breakdown_words_dir is not None and bool(
            breakdown_starts(question, language, self.breakdown_words_dir)
        )

    def part_regions(self, passage: Passage) -> list[tuple[int, int]]:
        """Document offsets of the passage's breakdowns (``candidates.part_regions``),
        read over whole sentences: a long sentence is read in clauses."""
        if self.breakdown_words_dir is None:
            return []
        return [
            (passage.start + start + part_start, passage.start + start + part_end)
            for start, end in split_sentences(passage.text, passage.language)
            for part_start, part_end in part_regions(
                passage.text[start:end], passage.language, self.breakdown_words_dir
            )
        ]

    def own_language(self, text: str, language: str) -> bool:
        """Whether the detector takes ``text`` for words of ``language``."""
        return self.detector is not None and self.detector.detect(text) == language

    def trimmed(self, name: Candidate, language: str) -> Candidate:
        """``name`` without the words before and after it that are words of its article's
        language ("Genosse Nguyen Anh Tuan", "Nguyen Xuan Ky elvtárs"), keeping two. Only
        in cased scripts: alone, any word of an Arabic name reads as Arabic."""
        if script_of(name.text) not in CASED_SCRIPTS:
            return name
        words = list(WORD.finditer(name.text))
        first, last = 0, len(words)
        while last - first > MIN_NAME_WORDS and self.own_language(words[first][0], language):
            first += 1
        while last - first > MIN_NAME_WORDS and self.own_language(words[last - 1][0], language):
            last -= 1
        if (first, last) == (0, len(words)):
            return name
        start = name.start + words[first].start()
        end = name.start + words[last - 1].end()
        text = name.sentence[start:end]
        keys = frozenset(key for key in (name_key(text), word_key(text)) if key)
        return replace(name, text=text, keys=keys, start=start, end=end)

    def scores(
        self,
        question: str,
        language: str,
        kind: AnswerKind,
        found: Sequence[tuple[Candidate, Passage, Span]],
    ) -> np.ndarray:
        """Each candidate's closeness to the question (cosine): its words around it and,
        for a count, its unit against the asked one."""
        config = self.config
        contexts = [
            (
                clause(c.sentence, c.start, c.end, config.min_clause_words)
                if config.name_context == "clause"
                else window(c.sentence, c.start, c.end, config.name_words, config.name_words)
            )
            if c.kind == "name"
            else (
                clause(c.sentence, c.start, c.end, config.min_clause_words)
                if config.figure_context == "clause"
                else window(
                    c.sentence,
                    c.start,
                    c.end,
                    config.figure_words_before,
                    config.figure_words_after,
                )
            )
            for c, _, _ in found
        ]
        query = self.embedder.embed_queries([question])[0]
        similarity = self.vectors(contexts) @ query
        asked = focus(question, language, self.question_words_dir, config.unit_words)
        if kind == "count" and config.unit_weight and asked != question:
            units = [window(c.sentence, c.start, c.end, 0, config.unit_words) for c, _, _ in found]
            unit = self.vectors(units) @ self.embedder.embed_queries([asked])[0]
            similarity = (1 - config.unit_weight) * similarity + config.unit_weight * unit
        return np.asarray(similarity, dtype=float)

    def confidence(self, reading: Reading) -> float:
        """The probability that the best candidate is the answer, from how far it leads the
        best one of another value, on the curve fitted on the gold set's dev half
        (``answer.reader.calibration_*``)."""
        best, rival = reading.best, reading.rival()
        if best is None:
            return 0.0
        config = self.config
        lead = config.lone_candidate_lead if rival is None else best.score - rival.score
        return 1 / (1 + math.exp(-(config.calibration_slope * lead + config.calibration_intercept)))
