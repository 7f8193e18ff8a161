"""What the model reads: the sentences of the retrieved passages most relevant to the
question, from as few documents as the question needs, each document named by its record.

A 1.5B reader handed sentences of several articles takes one province's figure for
another's, so by default (``answer.evidence_scope = "document"``) the sentences come from
the best document alone. A question that names places or people of two documents (a
comparison) gets both; so does a question whose best sentence lies in another document
than the best-ranked one by more than ``answer.second_document_margin``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.answering.citations import (
    EvidenceScorer,
    PromptPassage,
    Span,
    number_keys,
    number_keys_with_parts,
    passage_sentences,
)
from assistant.settings import AnswerSettings
from assistant.types import Passage
from ingest.names import keyed_names
from ingest.types import DocumentRecord

DIGIT = re.compile(r"\d")

RecordLookup = Callable[[str], DocumentRecord | None]


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
