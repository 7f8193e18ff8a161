"""What the model reads: the sentences of the retrieved passages most relevant to the
question, from as few documents as the question needs, each document named by its record.

A 1.5B reader handed sentences of several articles takes one province's figure for
another's, so by default (``answer.evidence_scope = "document"``) the sentences come from
the best document alone. A question that names places or people of two documents (a
comparison) gets both; so does a question whose best sentence lies in another document
than the best-ranked one by more than ``answer.second_document_margin``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.answering.citations import (
    PromptPassage,
    Span,
    is_number,
    number_keys,
    number_keys_with_parts,
    passage_sentences,
)
from assistant.settings import AnswerSettings, CheckSettings
from assistant.types import Passage
from ingest.interfaces import Embedder
from ingest.names import keyed_names
from ingest.tokens import tokenize
from ingest.types import DocumentRecord

# Passage vectors kept between questions: a few hundred articles' sentences or candidate
# contexts (memory, not quality: 4096 vectors of 384 floats are 6 MB).
PASSAGE_VECTOR_CACHE = 4096
DIGIT = re.compile(r"\d")

RecordLookup = Callable[[str], DocumentRecord | None]


class PassageVectors:
    """The passage embeddings of texts, each text embedded once while it stays in the cache
    (``PASSAGE_VECTOR_CACHE``): an article's sentences, windows and clauses come back with
    every question about it."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """(texts × dimensions), in the order of ``texts``."""
        # A local copy keeps a request safe from another thread clearing the cache meanwhile.
        known = {t: v for t in set(texts) if (v := self._cache.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, self.embedder.embed_passages(missing), strict=True))
            if len(self._cache) + len(missing) > PASSAGE_VECTOR_CACHE:
                self._cache.clear()
            self._cache.update((t, known[t]) for t in missing)
        return np.stack([known[t] for t in texts])


class EvidenceScorer:
    """Scores how well each text (a question, an answer sentence) is backed by each
    passage sentence, in 0..1: the best of BM25-like token overlap (names, diacritics
    folded) and embedding similarity, averaged with the share of the text's numbers the
    sentence holds. Without an embedder only the lexical evidence counts. ``config``
    (default: the settings' defaults) holds the mapping's numbers."""

    def __init__(self, embedder: Embedder | None = None, config: CheckSettings | None = None):
        self.embedder = embedder
        self.config = config or CheckSettings()
        self._sentence_vectors = PassageVectors(embedder) if embedder is not None else None

    def scores(self, texts: Sequence[str], sentences: Sequence[str]) -> np.ndarray:
        """(texts × sentences) evidence: similarity weighed by the numbers found."""
        return self.weigh_numbers(self.similarity(texts, sentences), texts, sentences)

    def similarity(
        self, texts: Sequence[str], sentences: Sequence[str], cosine: np.ndarray | None = None
    ) -> np.ndarray:
        """(texts × sentences), the better of lexical and embedding similarity; ``cosine``:
        the texts' raw embedding cosines to the sentences (``relatedness``) when at hand."""
        if not texts or not sentences:
            return np.zeros((len(texts), len(sentences)))
        similarity = self.lexical(texts, sentences)
        if self.embedder is not None:
            cosine = self._cosine(texts, sentences) if cosine is None else cosine
            floor, ceil = self.config.dense_floor, self.config.dense_ceil
            dense = np.clip((cosine - floor) / (ceil - floor), 0.0, 1.0)
            similarity = np.maximum(similarity, dense)
        return similarity

    def weigh_numbers(
        self, similarity: np.ndarray, texts: Sequence[str], sentences: Sequence[str]
    ) -> np.ndarray:
        """A text's numbers found in the sentence are evidence of their own, the strongest
        across languages ("18.087" reads the same in Arabic); none found cuts it down."""
        numbers = self.numbers(texts, sentences)
        numberless = similarity * self.config.numberless_weight
        weighed = np.where(numbers > 0, (similarity + numbers) / 2, numberless)
        return np.where(np.isnan(numbers), similarity, weighed)

    @staticmethod
    def lexical(texts: Sequence[str], sentences: Sequence[str]) -> np.ndarray:
        """IDF-weighted share of a text's words found in the sentence; the IDF comes from the
        sentences themselves, so words every sentence has count for little."""
        sentence_words = [{t for t in tokenize(s) if not is_number(t)} for s in sentences]
        frequency = Counter(word for words in sentence_words for word in words)
        count = len(sentences)

        def idf(word: str) -> float:
            return math.log(1 + (count - frequency[word] + 0.5) / (frequency[word] + 0.5))

        result = np.zeros((len(texts), count))
        for row, text in enumerate(texts):
            weights = {w: idf(w) for w in tokenize(text) if not is_number(w)}
            total = sum(weights.values())
            if total == 0:
                continue
            for column, words in enumerate(sentence_words):
                result[row, column] = sum(weights[w] for w in weights.keys() & words) / total
        return result

    @staticmethod
    def numbers(texts: Sequence[str], sentences: Sequence[str]) -> np.ndarray:
        """Share of the text's numbers found in the sentence; NaN for a text without any."""
        sentence_keys = [number_keys_with_parts(s) for s in sentences]
        result = np.full((len(texts), len(sentences)), np.nan)
        for row, text in enumerate(texts):
            keys = number_keys(text)
            if keys:
                result[row] = [len(keys & found) / len(keys) for found in sentence_keys]
        return result

    def relatedness(self, texts: Sequence[str], sentences: Sequence[str]) -> np.ndarray:
        """(texts × sentences) raw cosine of the embeddings, unclipped, which ranks
        sentences for a question better than the clipped evidence score (the lexical part
        of that rewards sentences echoing the question's wording in its own language);
        the lexical similarity when there is no embedder."""
        if self.embedder is None or not texts or not sentences:
            return self.lexical(texts, sentences)
        return self._cosine(texts, sentences)

    def _cosine(self, texts: Sequence[str], sentences: Sequence[str]) -> np.ndarray:
        assert self.embedder is not None and self._sentence_vectors is not None
        return self.embedder.embed_queries(list(texts)) @ self._sentence_vectors(sentences).T


@dataclass
class Evidence:
    """The passages as sent (numbered in prompt order, their sentences in document order),
    the documents they come from (best first) with their headers, and ``strength``: the
    best similarity of the question to any retrieved sentence (0..1), the evidence that
    the passages bear on the question at all."""

    passages: list[PromptPassage]
    documents: list[str]
    headers: dict[str, str]
    strength: float
    retrieved: list[str]  # every retrieved document, in rank order
    ranked: list[tuple[Passage, Span]]  # the sentences of ``documents``, most relevant first

    def closest(self, count: int) -> list[tuple[Passage, Span]]:
        """The ``count`` sentences most relevant to the question."""
        return self.ranked[:count]

    def with_sentences(self, extra: Sequence[tuple[Passage, Span]]) -> Evidence:
        """This evidence with ``extra`` sentences sent too: each joins its passage when that
        is sent already, else comes in a passage of its own after the others (nearest the
        question); the passages are numbered again in prompt order."""
        sentences = {p.passage.chunk_id: list(p.sentences) for p in self.passages}
        order = [p.passage for p in self.passages]
        for passage, span in extra:
            if passage.chunk_id not in sentences:
                sentences[passage.chunk_id] = []
                order.append(passage)
            if span not in sentences[passage.chunk_id]:
                sentences[passage.chunk_id].append(span)
        passages = [
            PromptPassage(number, p, sorted(sentences[p.chunk_id], key=lambda s: s.start))
            for number, p in enumerate(order, 1)
        ]
        return replace(self, passages=passages)


class EvidencePlanner:
    def __init__(self, config: AnswerSettings, scorer: EvidenceScorer, records: RecordLookup):
        self.config = config
        self.scorer = scorer
        self.records = records

    def plan(self, question: str, passages: Sequence[Passage]) -> Evidence:
        ranking = self.config.evidence
        spans = [
            (rank, span)
            for rank, p in enumerate(passages)
            for span in passage_sentences(p, ranking.sentence_max_chars)
        ]
        texts = [span.text for _, span in spans]
        cosine = self.scorer.relatedness([question], texts)
        relevance = (
            cosine[0]
            - ranking.passage_rank_penalty * np.array([rank for rank, _ in spans])
            + ranking.number_bonus * np.array([bool(DIGIT.search(text)) for text in texts])
        )
        documents = self.documents_for(question, passages, spans, relevance)
        chosen = self._choose(spans, relevance, passages, documents)
        ranked = [
            (passages[spans[index][0]], spans[index][1])
            for index in np.argsort(-relevance, kind="stable")
            if passages[spans[index][0]].doc_id in documents
        ]
        # A number the passages lack does not make them off-topic ("... in 2019?"): the model
        # judges that, so the strength is the similarity alone.
        strength = self.scorer.similarity([question], texts, cosine=cosine)
        return Evidence(
            passages=chosen,
            documents=documents,
            headers={doc: self.header(doc, passages) for doc in documents},
            strength=float(strength.max(initial=0.0)),
            retrieved=list(dict.fromkeys(passage.doc_id for passage in passages)),
            ranked=ranked,
        )

    def documents_for(
        self,
        question: str,
        passages: Sequence[Passage],
        spans: Sequence[tuple[int, Span]],
        relevance: np.ndarray,
    ) -> list[str]:
        """The documents to read, best first."""
        ranked = list(dict.fromkeys(passage.doc_id for passage in passages))
        if self.config.evidence_scope == "mixed" or len(ranked) < 2:
            return ranked
        named = self.documents_named(question, passages)
        if len(named) >= 2:
            return named
        best_of = {}
        for (rank, _), score in zip(spans, relevance, strict=True):
            doc = passages[rank].doc_id
            best_of[doc] = max(best_of.get(doc, -np.inf), float(score))
        chosen = [ranked[0]]
        runner_up = max(ranked[1:], key=lambda doc: best_of.get(doc, -np.inf))
        if best_of.get(runner_up, -np.inf) - best_of.get(ranked[0], -np.inf) > (
            self.config.second_document_margin
        ):
            chosen.append(runner_up)
        return chosen

    def documents_named(self, question: str, passages: Sequence[Passage]) -> list[str]:
        """The retrieved documents that write something of the question no other retrieved
        document writes: a name (by key, in any script) or a number of two digits or more
        (a day, a year), in rank order. Two or more mean the question asks across them."""
        asked_names = set(keyed_names(question))
        asked_numbers = {n for n in number_keys(question) if len(n) >= 2}
        written: dict[str, set[str]] = {}
        for passage in passages:
            found = written.setdefault(passage.doc_id, set())
            record = self.records(passage.doc_id)
            if record is not None:
                found |= asked_names & set(record.name_keys)
            found |= asked_numbers & number_keys_with_parts(passage.text)
        return [
            doc
            for doc, found in written.items()
            if found - set().union(*(other for d, other in written.items() if d != doc))
        ]

    def _choose(
        self,
        spans: Sequence[tuple[int, Span]],
        relevance: np.ndarray,
        passages: Sequence[Passage],
        documents: Sequence[str],
    ) -> list[PromptPassage]:
        """The ``max_sentences`` most relevant sentences of ``documents``, at most
        ``passage_max_sentences`` from one passage; passages numbered in prompt order."""
        config = self.config
        allowed = set(documents)
        chosen: dict[int, list[Span]] = {}
        best_rank: dict[int, int] = {}  # passage -> position of its best sentence
        # Stable sort: among equally relevant sentences the earlier, usually the lead, wins.
        for position, index in enumerate(np.argsort(-relevance, kind="stable")):
            rank, span = spans[index]
            if passages[rank].doc_id not in allowed:
                continue
            if len(chosen.get(rank, [])) < config.passage_max_sentences:
                chosen.setdefault(rank, []).append(span)
                best_rank.setdefault(rank, position)
            if sum(map(len, chosen.values())) == config.max_sentences:
                break

        # Passages of one document together, documents best first and passages in document
        # order; with ``best_last`` all reversed, so that the best document and, within each,
        # the passage holding the best sentence come last, nearest the question (a small
        # model reads the end of its prompt most closely).
        def document_of(rank: int) -> int:
            return documents.index(passages[rank].doc_id)

        if config.best_last:
            order = sorted(chosen, key=lambda rank: (-document_of(rank), -best_rank[rank]))
        else:
            order = sorted(chosen, key=lambda rank: (document_of(rank), rank))
        return [
            PromptPassage(number, passages[rank], sorted(chosen[rank], key=lambda s: s.start))
            for number, rank in enumerate(order, 1)
        ]

    def header(self, doc_id: str, passages: Sequence[Passage]) -> str:
        """The line naming a document in the prompt: its record's header (title and date)
        or its title, cut to ``answer.evidence.header_max_chars`` at a word: every token of
        a prompt costs time, and a title's first words say where and what."""
        record = self.records(doc_id)
        header = record.header() if record is not None else ""
        header = header or next((p.title for p in passages if p.doc_id == doc_id), "")
        limit = self.config.evidence.header_max_chars
        if len(header) <= limit:
            return header
        cut = header[:limit]
        return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + " …"
