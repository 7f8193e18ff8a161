"""Finding the passages that answer a query: dense (the store's vectors), lexical (BM25 over
the same chunks), or both fused by reciprocal rank fusion (the default).

The hybrid fuses four ranked lists:

* dense: the store's nearest chunks to the query vector;
* BM25: exact names, numbers and rare words, in any script (the store's lexical index,
  ``ingest.lexical``, with the tokeniser of ``ingest.tokens``);
* language-balanced dense: the nearest chunk of *each* language of the corpus. A small
  multilingual model rates passages in (or in the script of) the query's language above
  better ones in another, so without this list the Arabic paragraph that answers an English
  question ranks below a dozen German ones; with it, each language's best passage gets one
  vote. (Deeper per-language lists, tried while prototyping, let second-best German
  passages outvote the best Arabic one again.)
* names and numbers: BM25 on the query's capitalised words and numbers alone (setting
  ``retrieval.names_numbers_weight``; 1.0 like every list, untuned). They are what a question
  shares with a passage in another language ("Ha Tinh", "2024"), while the rest of the query
  only matches its own language.
* names across scripts: the best dense chunk of each document that writes a name of the
  query in another script ("Хатинь" in a Russian question, "ها تينه" in an Arabic article),
  matched on the phonetic keys of ``ingest.names`` kept in each document's record (and
  searchable in the lexical index); the documents sharing the most names first (setting
  ``retrieval.names_across_scripts_weight``).

With the setting ``retrieval.language_mean_share`` above 0 (off by default: see there), the
dense candidates are re-scored before fusion with part of the language bias removed:
each passage vector, less ``language_mean_share`` times the mean vector of its language's
passages and re-normalised, against the query. What the passages of a language share is
mostly their language, so taking it off lets the topic decide more. Only candidates Chroma
returned (``BALANCED_POOL``) are re-scored, so a large index keeps its ANN search; with unit
vectors, ``cos(q, p - a*m) = (q.p - a*q.m) / sqrt(1 - 2a*p.m + a^2*|m|^2)``. A language's
mean is that of up to ``MEANS_SAMPLE`` of its stored vectors (all of them in a smaller
corpus), computed when first needed and again when the corpus's languages change size.
Every share is measured on the gold set's dev and held-out splits (benchmarks/run.py).

Nothing of the corpus is held in memory: BM25 hits come from the store's lexical index
(Tantivy, updated in place by ingestion), the language and document filters are applied by
Chroma and by the lexical index, and a passage's text is read from the store when it is
returned. A process therefore starts searching at once, whatever the corpus's size; every
``FRESHNESS_CHECK_S`` at most, it asks the store whether another process changed it
(``ChromaStore.refresh_lexical``), and searches see what ingestion committed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from assistant.settings import RetrievalSettings, Settings
from assistant.types import Passage
from ingest import plugins
from ingest.interfaces import Embedder, VectorStore
from ingest.names import cross_script_matches, keyed_names
from ingest.types import Chunk

# Dense candidates searched for each language's best chunk, and re-scored without the bias.
BALANCED_POOL = 200
# How often, at most, a query checks whether another process changed the store.
FRESHNESS_CHECK_S = 2.0
# Stored vectors a language's mean is taken over, at most.
MEANS_SAMPLE = 5000

Ranked = list[tuple[Chunk, float]]


class Retriever(Protocol):
    def retrieve(
        self,
        query: str,
        k: int,
        language: str | None = None,
        doc_ids: Sequence[str] | None = None,
    ) -> list[Passage]: ...


def make_retriever(
    settings: Settings,
    *,
    embedder: Embedder,
    store: VectorStore,
    lexical: LexicalIndex | None = None,
) -> Retriever:
    """The retriever ``retrieval.mode`` names (``ingest.plugins``); ``lexical``, retrieval's
    reader of the store, may be shared with other readers of it (the answer check reads its
    documents' names). A retriever factory takes the settings and these three parts."""
    lexical = lexical or LexicalIndex(store)
    return plugins.create(
        "retriever", settings.retrieval.mode, settings,
        embedder=embedder, store=store, lexical=lexical,
    )  # fmt: skip


def make_hybrid(settings: Settings, *, embedder, store, lexical) -> HybridRetriever:
    """The ``hybrid`` retriever (the default)."""
    return HybridRetriever(embedder, store, lexical, settings.retrieval)


def make_dense(settings: Settings, *, embedder, store, lexical) -> DenseRetriever:
    """The ``dense`` retriever."""
    return DenseRetriever(embedder, store, lexical)


def make_bm25(settings: Settings, *, embedder, store, lexical) -> BM25Retriever:
    """The ``bm25`` retriever."""
    return BM25Retriever(lexical)


def rrf_fuse(
    rankings: Sequence[Sequence[str]], weights: Sequence[float], rrf_k: int
) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: an item at rank r (from 1) of list i earns
    ``weights[i] / (rrf_k + r)``; items are returned by their summed score, best first
    (ties keep first-seen order)."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (rrf_k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def best_per_language(ranked: Ranked) -> Ranked:
    """The first (best) chunk of each language in ``ranked``, in ``ranked``'s order."""
    seen: set[str] = set()
    best = []
    for chunk, score in ranked:
        if chunk.language not in seen:
            seen.add(chunk.language)
            best.append((chunk, score))
    return best


def best_of_documents(ranked: Ranked, doc_ids: Sequence[str]) -> Ranked:
    """The first (best) chunk in ``ranked`` of each of ``doc_ids``, in ``doc_ids``' order."""
    best: dict[str, tuple[Chunk, float]] = {}
    for chunk, score in ranked:
        best.setdefault(chunk.doc_id, (chunk, score))
    return [best[doc] for doc in doc_ids if doc in best]


def names_and_numbers(query: str) -> str:
    """The words of ``query`` that start with a capital letter or a digit."""
    return " ".join(word for word in query.split() if word[:1].isupper() or word[:1].isdigit())


def to_passage(chunk: Chunk, score: float) -> Passage:
    """A retrieved chunk as the public ``Passage``."""
    return Passage(
        doc_id=chunk.doc_id,
        chunk_id=chunk.chunk_id,
        title=chunk.title,
        language=chunk.language,
        score=round(float(score), 6),
        start=chunk.start,
        end=chunk.end,
        text=chunk.text,
    )


@dataclass
class LanguageMeans:
    """Each language's mean passage vector (of unit vectors)."""

    languages: list[str]
    vectors: np.ndarray  # one mean per language, in ``languages``' order

    @classmethod
    def of(cls, languages: Sequence[str], vectors: np.ndarray) -> LanguageMeans:
        """The means of ``vectors`` (one row per passage) by the passages' ``languages``."""
        vectors = _unit(vectors)
        names, row_language = np.unique(np.asarray(languages), return_inverse=True)
        sums = np.zeros((len(names), vectors.shape[1]), dtype=np.float64)
        np.add.at(sums, row_language, vectors)
        means = (sums / np.bincount(row_language)[:, None]).astype(np.float32)
        return cls(names.tolist(), means)

    def without_language_bias(
        self, vector: np.ndarray, ranked: Ranked, passages: np.ndarray, share: float
    ) -> Ranked:
        """``ranked`` (cosines to ``vector``; ``passages`` their vectors, one row each)
        re-scored as if each passage vector had ``share`` of its language's mean taken off
        (see the module docstring), best first. Passages of a language without a mean
        yet are left out."""
        row_of = {language: row for row, language in enumerate(self.languages)}
        keep = [i for i, (chunk, _) in enumerate(ranked) if chunk.language in row_of]
        if not keep:
            return []
        ranked = [ranked[i] for i in keep]
        passages = _unit(np.asarray(passages, dtype=np.float32)[keep])
        means = self.vectors[[row_of[chunk.language] for chunk, _ in ranked]]
        cosines = np.array([score for _, score in ranked])
        query = vector / max(float(np.linalg.norm(vector)), 1e-12)
        dot_own_mean = np.einsum("ij,ij->i", passages, means)
        norms = np.sqrt(np.maximum(
            1 - 2 * share * dot_own_mean + share**2 * np.einsum("ij,ij->i", means, means),
            1e-12,
        ))  # fmt: skip
        scores = (cosines - share * (means @ query)) / norms
        order = np.argsort(-scores, kind="stable")
        return [(ranked[i][0], float(scores[i])) for i in order]


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class LexicalIndex:
    """Retrieval's reader of the store beyond the dense search, on demand (see the module
    docstring): BM25 hits from the store's lexical index, chunks by id, aliases, the
    documents' names, the languages' means. Safe to share between threads."""

    def __init__(self, store: VectorStore):
        self.store = store
        self._checked_at = float("-inf")
        self._lock = threading.Lock()  # the API serves queries from several threads
        self._means: tuple[tuple, LanguageMeans | None] | None = None

    @property
    def index(self):
        """The store's lexical index (``ingest.lexical``); None when it has none."""
        return getattr(self.store, "lexical", None)

    def fresh(self) -> None:
        """Catch up with other processes' changes to the store, at most every
        ``FRESHNESS_CHECK_S``."""
        with self._lock:
            now = time.monotonic()
            if now - self._checked_at >= FRESHNESS_CHECK_S:
                if self.index is not None:
                    self.store.refresh_lexical()
                self._checked_at = now

    def search(
        self,
        query: str,
        n: int,
        language: str | None = None,
        doc_ids: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """(chunk_id, BM25 score) of the ``n`` best chunks for ``query``, best first."""
        self.fresh()
        if self.index is None:
            return []
        primary = None if doc_ids is None else self.primary_ids(doc_ids)
        if primary is not None and not primary:
            return []
        return self.index.search(query, n, language, primary)

    def primary_ids(self, doc_ids: Iterable[str]) -> list[str]:
        """The stored documents ``doc_ids`` name (themselves, or the documents an alias
        names), sorted; unknown ids are left out."""
        if self.index is None:
            return sorted(set(doc_ids))
        return self.index.resolve(doc_ids)

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        """The stored chunks of ``chunk_ids`` by id."""
        ids = list(chunk_ids)
        return self.store.chunks(ids) if ids else {}

    def documents_naming(self, query: str, among: Collection[str] | None = None) -> list[str]:
        """Documents (of ``among``, when given) writing a name of ``query`` in another
        script, most shared names first (ties: by doc_id)."""
        asked = keyed_names(query)
        if not asked or self.index is None:
            return []
        shared = {
            doc: len(cross_script_matches(asked, keys))
            for doc, keys in self.index.naming(asked.keys(), among).items()
        }
        return sorted(
            (doc for doc, count in shared.items() if count), key=lambda d: (-shared[d], d)
        )

    def names(self, keys: Collection[str]) -> dict[str, dict[str, set[str]]]:
        """The documents writing one of the name ``keys``, each with those keys' scripts."""
        if not keys or self.index is None:
            return {}
        self.fresh()
        return self.index.naming(keys)

    def documents_containing(self, text: str, limit: int) -> set[str]:
        """The documents with a chunk holding every term of ``text`` (among at most
        ``limit`` such chunks); empty without a lexical index."""
        if self.index is None:
            return set()
        self.fresh()
        return self.index.documents_containing(text, limit)

    def language_means(self) -> LanguageMeans | None:
        """Each language's mean vector over up to ``MEANS_SAMPLE`` of its stored vectors;
        None for an empty store."""
        if self.index is None:
            return None
        sizes = tuple(sorted(self.index.languages().items()))
        if self._means is None or self._means[0] != sizes:
            languages, vectors = [], []
            for language, _ in sizes:
                sample = self.store.sample_embeddings({"language": language}, MEANS_SAMPLE)
                languages += [language] * len(sample)
                vectors.append(sample)
            means = LanguageMeans.of(languages, np.concatenate(vectors)) if languages else None
            self._means = (sizes, means)
        return self._means[1]


class BM25Retriever:
    """BM25 alone, from the store's lexical index."""

    def __init__(self, lexical: LexicalIndex):
        self.lexical = lexical

    def ranked_ids(
        self, query: str, n: int, language: str | None, doc_ids
    ) -> list[tuple[str, float]]:
        """(chunk_id, score) of the ``n`` best chunks, best first."""
        return self.lexical.search(query, n, language, doc_ids)

    def ranked(self, query: str, n: int, language: str | None, doc_ids) -> Ranked:
        """The ``n`` best chunks with their scores, best first."""
        hits = self.ranked_ids(query, n, language, doc_ids)
        chunks = self.lexical.chunks(chunk_id for chunk_id, _ in hits)
        return [(chunks[chunk_id], score) for chunk_id, score in hits if chunk_id in chunks]

    def retrieve(self, query, k, language=None, doc_ids=None) -> list[Passage]:
        return [to_passage(c, s) for c, s in self.ranked(query, k, language, doc_ids)]


class DenseRetriever:
    """The store's nearest chunks to the query's vector."""

    def __init__(self, embedder: Embedder, store: VectorStore, lexical: LexicalIndex):
        self.embedder = embedder
        self.store = store
        self.lexical = lexical  # aliases for the document filter, language means

    def query_vector(self, query: str) -> np.ndarray:
        return self.embedder.embed_queries([query])[0]

    def ranked(
        self, vector: np.ndarray, n: int, language: str | None, doc_ids: Sequence[str] | None
    ) -> Ranked:
        """The ``n`` nearest chunks passing the filters, with their cosines, best first."""
        where: dict = {}
        if language is not None:
            where["language"] = language
        if doc_ids is not None:
            where["doc_id"] = self.lexical.primary_ids(doc_ids)
            if not where["doc_id"]:
                return []
        return self.store.query(vector, n, where or None)

    def without_language_bias(self, vector: np.ndarray, ranked: Ranked, share: float) -> Ranked:
        """``ranked`` re-scored with ``share`` of each language's mean taken off."""
        means = self.lexical.language_means()
        if means is None or not ranked:
            return ranked
        passages = self.store.embeddings([chunk.chunk_id for chunk, _ in ranked])
        return means.without_language_bias(vector, ranked, passages, share)

    def retrieve(self, query, k, language=None, doc_ids=None) -> list[Passage]:
        return [
            to_passage(c, s) for c, s in self.ranked(self.query_vector(query), k, language, doc_ids)
        ]


class HybridRetriever:
    """Dense, BM25, per-language best, names and numbers, and names across scripts, fused
    by RRF (see the module docstring)."""

    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        lexical: LexicalIndex,
        config: RetrievalSettings,
        *,
        language_balanced: bool = True,  # off only to measure what it brings
        names_and_numbers: bool = True,  # likewise
    ):
        self.dense = DenseRetriever(embedder, store, lexical)
        self.bm25 = BM25Retriever(lexical)
        self.lexical = lexical
        self.config = config
        self.language_balanced = language_balanced
        self.names_and_numbers = names_and_numbers

    def retrieve(self, query, k, language=None, doc_ids=None) -> list[Passage]:
        n = max(k, self.config.candidates)
        vector = self.dense.query_vector(query)
        # One dense search serves both dense lists; the pool is deeper than ``n`` so that
        # each language's best chunk is in it (on the bundled corpus: every chunk).
        pool = self.dense.ranked(vector, max(n, BALANCED_POOL), language, doc_ids)
        if self.config.language_mean_share:
            pool = self.dense.without_language_bias(vector, pool, self.config.language_mean_share)
        lists = [_ids(pool[:n]), _ids(self.bm25.ranked_ids(query, n, language, doc_ids))]
        weights = [self.config.dense_weight, self.config.bm25_weight]
        if self.language_balanced and language is None:  # a filter leaves nothing to balance
            lists.append(_ids(best_per_language(pool)))
            weights.append(self.config.dense_weight)
        terms = names_and_numbers(query) if self.names_and_numbers else ""
        if terms:
            lists.append(_ids(self.bm25.ranked_ids(terms, n, language, doc_ids)))
            weights.append(self.config.names_numbers_weight)
        if self.config.names_across_scripts_weight:
            # Only documents with a chunk in the pool can contribute one.
            naming = self.lexical.documents_naming(query, {c.doc_id for c, _ in pool})
            lists.append(_ids(best_of_documents(pool, naming)))
            weights.append(self.config.names_across_scripts_weight)
        fused = rrf_fuse(lists, weights, self.config.rrf_k)
        chunks = {chunk.chunk_id: chunk for chunk, _ in pool}
        passages: list[Passage] = []
        # BM25's chunks are read from the store only when they are returned; one deleted
        # since the search is skipped.
        while fused and len(passages) < k:
            batch, fused = fused[: k - len(passages)], fused[k - len(passages) :]
            chunks.update(self.lexical.chunks(i for i, _ in batch if i not in chunks))
            passages += [to_passage(chunks[i], score) for i, score in batch if i in chunks]
        return passages


def _ids(ranked: Sequence[tuple]) -> list[str]:
    return [item.chunk_id if isinstance(item, Chunk) else item for item, _ in ranked]
