"""Finding the passages that answer a query: dense (the store's vectors), lexical (BM25 over
the same chunks), or both fused by reciprocal rank fusion (the default).

The hybrid fuses four ranked lists:

* dense: the store's nearest chunks to the query vector;
* BM25: exact names, numbers and rare words, in any script (see ``assistant.bm25``);
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
  matched on the phonetic keys of ``ingest.names`` kept in each document's record; the
  documents sharing the most names first (setting ``retrieval.names_across_scripts_weight``).

With the setting ``retrieval.language_mean_share`` above 0 (off by default: see there), the
dense candidates are re-scored before fusion with part of the language bias removed:
each passage vector, less ``language_mean_share`` times the mean vector of its language's
passages and re-normalised, against the query. What the passages of a language share is
mostly their language, so taking it off lets the topic decide more. Only candidates Chroma
returned (``BALANCED_POOL``) are re-scored, so a large index keeps its ANN search, and no
vector is fetched per query: with unit vectors, ``cos(q, p - a*m) = (q.p - a*q.m) /
sqrt(1 - 2a*p.m + a^2*|m|^2)`` needs only the candidate's cosine, its language mean's dot
product with the query and one number per chunk (``p.m``) computed when the snapshot is built.
Every share is measured on the gold set's dev and held-out splits (benchmarks/run.py).

The BM25 index and the language means are built from the store and kept on disk under
``<index_dir>/bm25/<key>``, where the key digests the store's manifest (every document's
content hash): a changed corpus gets a new index, an unchanged one loads in milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.bm25 import BM25Index
from assistant.settings import RetrievalSettings, Settings
from assistant.types import Passage
from ingest import plugins
from ingest.interfaces import Embedder, VectorStore
from ingest.names import cross_script_matches, keyed_names
from ingest.types import Chunk

# Dense candidates searched for each language's best chunk, and re-scored without the bias.
BALANCED_POOL = 200
# How often, at most, a query checks the store's manifest for re-ingested documents.
FRESHNESS_CHECK_S = 2.0
MEANS_FILE = "language_means.npz"

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
    """The retriever ``retrieval.mode`` names (``ingest.plugins``); ``lexical``, the
    store's snapshot, may be shared with other readers of it (the answer check reads its
    documents' names). A retriever factory takes the settings and these three parts."""
    lexical = lexical or LexicalIndex(store, settings.index_dir / "bm25")
    return plugins.create(
        "retriever", settings.retrieval.mode, settings,
        embedder=embedder, store=store, lexical=lexical,
    )  # fmt: skip


def make_hybrid(settings: Settings, *, embedder, store, lexical) -> HybridRetriever:
    return HybridRetriever(embedder, store, lexical, settings.retrieval)


def make_dense(settings: Settings, *, embedder, store, lexical) -> DenseRetriever:
    return DenseRetriever(embedder, store, lexical)


def make_bm25(settings: Settings, *, embedder, store, lexical) -> BM25Retriever:
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
class Snapshot:
    """The store's chunks as of one manifest, with their BM25 index and filter lookups."""

    key: str
    chunks: list[Chunk]
    bm25: BM25Index | None  # None for an empty store
    aliases: dict[str, str]  # alias -> primary doc_id
    means: LanguageMeans | None  # None for an empty store
    name_keys: dict[str, dict[str, set[str]]]  # doc_id -> its record's name keys

    def __post_init__(self) -> None:
        languages = np.array([chunk.language for chunk in self.chunks])
        doc_ids = np.array([chunk.doc_id for chunk in self.chunks])
        self.languages = sorted(set(languages.tolist()))
        self._language_rows = {lang: np.flatnonzero(languages == lang) for lang in self.languages}
        self._doc_rows = {doc: np.flatnonzero(doc_ids == doc) for doc in set(doc_ids.tolist())}
        self.by_id = {chunk.chunk_id: chunk for chunk in self.chunks}
        self.row_of = {chunk.chunk_id: row for row, chunk in enumerate(self.chunks)}

    def without_language_bias(self, vector: np.ndarray, ranked: Ranked, share: float) -> Ranked:
        """``ranked`` (cosines to ``vector``) re-scored as if each passage vector had
        ``share`` of its language's mean taken off (see the module docstring), best first."""
        # A chunk ingested since this snapshot has no mean yet; it joins at the next one.
        ranked = [(chunk, score) for chunk, score in ranked if chunk.chunk_id in self.row_of]
        if self.means is None or not ranked:
            return ranked
        rows = np.array([self.row_of[chunk.chunk_id] for chunk, _ in ranked])
        cosines = np.array([score for _, score in ranked])
        means = self.means.vectors[self.means.language_of_row[rows]]
        query = vector / max(float(np.linalg.norm(vector)), 1e-12)
        norms = np.sqrt(np.maximum(
            1 - 2 * share * self.means.dot_own_mean[rows]
            + share**2 * np.einsum("ij,ij->i", means, means), 1e-12,
        ))  # fmt: skip
        scores = (cosines - share * (means @ query)) / norms
        order = np.argsort(-scores, kind="stable")
        return [(ranked[i][0], float(scores[i])) for i in order]

    def documents_naming(self, query: str) -> list[str]:
        """Documents writing a name of ``query`` in another script, most shared names first
        (ties: the order of ``name_keys``)."""
        asked = keyed_names(query)
        if not asked:
            return []
        shared = {
            doc: len(cross_script_matches(asked, keys)) for doc, keys in self.name_keys.items()
        }
        return sorted((doc for doc, count in shared.items() if count), key=lambda d: -shared[d])

    def primary_ids(self, doc_ids: Sequence[str]) -> list[str]:
        return sorted({self.aliases.get(doc_id, doc_id) for doc_id in doc_ids})

    def mask(self, language: str | None, doc_ids: Sequence[str] | None) -> np.ndarray | None:
        """1.0 for rows passing the filters, else 0.0; None when nothing is filtered."""
        if language is None and doc_ids is None:
            return None
        allowed = np.ones(len(self.chunks), dtype=bool)
        if language is not None:
            allowed &= self._rows_mask(self._language_rows.get(language))
        if doc_ids is not None:
            rows = [self._doc_rows[d] for d in self.primary_ids(doc_ids) if d in self._doc_rows]
            allowed &= self._rows_mask(np.concatenate(rows) if rows else None)
        return allowed.astype(np.float32)

    def _rows_mask(self, rows: np.ndarray | None) -> np.ndarray:
        mask = np.zeros(len(self.chunks), dtype=bool)
        if rows is not None:
            mask[rows] = True
        return mask


@dataclass
class LanguageMeans:
    """Each language's mean passage vector, by row of ``Snapshot.chunks``."""

    vectors: np.ndarray  # one mean (of unit vectors) per language, in sorted language order
    language_of_row: np.ndarray  # each chunk's row in ``vectors``
    dot_own_mean: np.ndarray  # each chunk's unit vector . its language's mean

    @classmethod
    def of(cls, chunks: Sequence[Chunk], vectors: np.ndarray) -> LanguageMeans:
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        languages, language_of_row = np.unique([c.language for c in chunks], return_inverse=True)
        sums = np.zeros((len(languages), vectors.shape[1]), dtype=np.float64)
        np.add.at(sums, language_of_row, vectors)
        means = (sums / np.bincount(language_of_row)[:, None]).astype(np.float32)
        dot_own_mean = np.einsum("ij,ij->i", vectors, means[language_of_row])
        return cls(means, language_of_row, dot_own_mean)

    def save(self, file: Path) -> None:
        np.savez(file, **vars(self))

    @classmethod
    def load(cls, file: Path) -> LanguageMeans:
        with np.load(file) as saved:
            return cls(**{name: saved[name] for name in saved.files})


class LexicalIndex:
    """The current ``Snapshot`` of a store, rebuilt when a document is added, changed or
    removed (checked at most every ``FRESHNESS_CHECK_S`` seconds)."""

    def __init__(self, store: VectorStore, cache_dir: Path):
        self.store = store
        self.cache_dir = cache_dir
        self._snapshot: Snapshot | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()  # the API serves queries from several threads

    def current(self) -> Snapshot:
        with self._lock:
            return self._current()

    def _current(self) -> Snapshot:
        now = time.monotonic()
        if self._snapshot is None or now - self._checked_at >= FRESHNESS_CHECK_S:
            manifest = self.store.manifest()
            key = manifest_key(manifest)
            if self._snapshot is None or self._snapshot.key != key:
                aliases = {a: doc for doc, entry in manifest.items() for a in entry.aliases}
                self._snapshot = self._load_or_build(key, aliases)
            self._checked_at = now
        return self._snapshot

    def _load_or_build(self, key: str, aliases: dict[str, str]) -> Snapshot:
        chunks = self.store.all_chunks()
        name_keys = {doc: record.keys() for doc, record in self.store.records().items()}
        if not chunks:
            return Snapshot(key, [], None, aliases, None, name_keys)
        directory = self.cache_dir / key
        row_ids = [chunk.chunk_id for chunk in chunks]
        rows_file = directory / "rows.json"
        cached = rows_file.is_file() and (directory / MEANS_FILE).is_file()
        if cached and json.loads(rows_file.read_text()) == row_ids:
            means = LanguageMeans.load(directory / MEANS_FILE)
            return Snapshot(key, chunks, BM25Index.load(directory), aliases, means, name_keys)
        index = BM25Index.build([chunk.text for chunk in chunks])
        means = LanguageMeans.of(chunks, self.store.embeddings(row_ids))
        self._save(directory, index, means, row_ids)
        return Snapshot(key, chunks, index, aliases, means, name_keys)

    def _save(
        self, directory: Path, index: BM25Index, means: LanguageMeans, row_ids: list[str]
    ) -> None:
        # Written beside and renamed into place, so a reader never sees half an index;
        # indexes of earlier corpora are removed. rows.json goes last: it marks a whole one.
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = self.cache_dir / f".{directory.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        index.save(partial)
        means.save(partial / MEANS_FILE)
        (partial / "rows.json").write_text(json.dumps(row_ids))
        for old in self.cache_dir.iterdir():
            if old != partial:
                shutil.rmtree(old, ignore_errors=True)
        partial.rename(directory)


def manifest_key(manifest: dict) -> str:
    entries = sorted((doc_id, entry.content_hash) for doc_id, entry in manifest.items())
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()[:24]


class BM25Retriever:
    def __init__(self, lexical: LexicalIndex):
        self.lexical = lexical

    def ranked(self, query: str, n: int, language: str | None, doc_ids) -> Ranked:
        snapshot = self.lexical.current()
        if snapshot.bm25 is None:
            return []
        hits = snapshot.bm25.search(query, n, snapshot.mask(language, doc_ids))
        return [(snapshot.chunks[row], score) for row, score in hits]

    def retrieve(self, query, k, language=None, doc_ids=None) -> list[Passage]:
        return [to_passage(c, s) for c, s in self.ranked(query, k, language, doc_ids)]


class DenseRetriever:
    def __init__(self, embedder: Embedder, store: VectorStore, lexical: LexicalIndex):
        self.embedder = embedder
        self.store = store
        self.lexical = lexical  # the chunks by id, and aliases for the document filter

    def query_vector(self, query: str) -> np.ndarray:
        return self.embedder.embed_queries([query])[0]

    def ranked(
        self, vector: np.ndarray, n: int, language: str | None, doc_ids: Sequence[str] | None
    ) -> Ranked:
        snapshot = self.lexical.current()
        where: dict = {}
        if language is not None:
            where["language"] = language
        if doc_ids is not None:
            where["doc_id"] = snapshot.primary_ids(doc_ids)
            if not where["doc_id"]:
                return []
        # Only ids from the store: the snapshot holds every chunk already. An id it lacks
        # was ingested since the last freshness check and joins at the next one.
        hits = self.store.nearest_ids(vector, n, where or None)
        return [(snapshot.by_id[i], score) for i, score in hits if i in snapshot.by_id]

    def retrieve(self, query, k, language=None, doc_ids=None) -> list[Passage]:
        return [
            to_passage(c, s) for c, s in self.ranked(self.query_vector(query), k, language, doc_ids)
        ]


class HybridRetriever:
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
            snapshot = self.lexical.current()
            pool = snapshot.without_language_bias(vector, pool, self.config.language_mean_share)
        lists = [pool[:n], self.bm25.ranked(query, n, language, doc_ids)]
        weights = [self.config.dense_weight, self.config.bm25_weight]
        if self.language_balanced and language is None:  # a filter leaves nothing to balance
            lists.append(best_per_language(pool))
            weights.append(self.config.dense_weight)
        terms = names_and_numbers(query) if self.names_and_numbers else ""
        if terms:
            lists.append(self.bm25.ranked(terms, n, language, doc_ids))
            weights.append(self.config.names_numbers_weight)
        if self.config.names_across_scripts_weight:
            naming = self.lexical.current().documents_naming(query)
            lists.append(best_of_documents(pool, naming))
            weights.append(self.config.names_across_scripts_weight)
        chunks = {chunk.chunk_id: chunk for ranked in lists for chunk, _ in ranked}
        fused = rrf_fuse(
            [[chunk.chunk_id for chunk, _ in ranked] for ranked in lists], weights,
            self.config.rrf_k,
        )  # fmt: skip
        return [to_passage(chunks[chunk_id], score) for chunk_id, score in fused[:k]]
