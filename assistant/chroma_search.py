"""Hybrid retrieval done by Chroma itself: the ``chroma-search`` retriever (setting
``retrieval.mode``), for distributed or hosted Chroma, whose Search API ranks dense and
sparse (BM25) lists and fuses them by reciprocal rank fusion on the server.

One request per query: a dense k-nearest-neighbours list over the chunk vectors and a sparse
one over each chunk's BM25 vector (``ingest.sparse``, stored under ``index.sparse_key`` at
ingest), fused with the weights and constant of ``retrieval`` (``dense_weight``,
``bm25_weight``, ``rrf_k``), filtered by language and documents server-side. Nothing of the
corpus is needed in the app server, not even the lexical index, so app servers scale out
freely. What the local hybrid adds is not available there yet: the language-balanced list,
the names-and-numbers list and names across scripts (they need the dense pool and the
documents' name keys in the app server); on the bundled gold set those lists are what lift
recall@5 from dense's level to the hybrid's (benchmarks/results/retrieval.json).

Local Chroma (embedded or ``chroma run``) implements neither sparse indexes nor the Search
API, so only the request's shape is tested here (tests/assistant/test_chroma_search.py);
running it needs a distributed Chroma cluster or Chroma Cloud.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from chromadb import K, Knn, Rrf, Search

from assistant.retrieval import LexicalIndex
from assistant.settings import RetrievalSettings, Settings
from assistant.types import Passage
from ingest.errors import PluginError
from ingest.interfaces import Embedder, VectorStore
from ingest.sparse import query_vector

SELECTED = (K.DOCUMENT, K.SCORE, "doc_id", "index", "start", "end", "language", "title")


def search_request(
    vector: np.ndarray,
    query: str,
    k: int,
    config: RetrievalSettings,
    sparse_key: str,
    language: str | None = None,
    doc_ids: Sequence[str] | None = None,
) -> Search:
    """The Search API request for ``query`` (``vector``: its dense embedding): dense and
    BM25 lists of ``retrieval.candidates`` each, fused by RRF, the best ``k`` returned."""
    n = max(k, config.candidates)
    dense = Knn(query=np.asarray(vector, dtype=np.float32).tolist(), limit=n, return_rank=True)
    lexical = Knn(query=query_vector(query), key=sparse_key, limit=n, return_rank=True)
    rank = Rrf([dense, lexical], k=config.rrf_k, weights=[config.dense_weight, config.bm25_weight])
    search = Search().rank(rank).limit(k).select(*SELECTED)
    filters = []
    if language is not None:
        filters.append(K("language") == language)
    if doc_ids is not None:
        filters.append(K("doc_id").is_in(list(doc_ids)))
    if filters:
        where = filters[0]
        for clause in filters[1:]:
            where = where & clause
        search = search.where(where)
    return search


class ChromaSearchRetriever:
    """Retrieval by Chroma's Search API (see the module docstring)."""

    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        lexical: LexicalIndex,
        config: RetrievalSettings,
        sparse_key: str,
    ):
        self.embedder = embedder
        self.store = store
        self.lexical = lexical
        self.config = config
        self.sparse_key = sparse_key

    def retrieve(self, query, k, language=None, doc_ids=None) -> list[Passage]:
        if doc_ids is not None:
            doc_ids = self.lexical.primary_ids(doc_ids)
            if not doc_ids:
                return []
        vector = self.embedder.embed_queries([query])[0]
        request = search_request(vector, query, k, self.config, self.sparse_key, language, doc_ids)
        result = self.store.search(request)
        rows = zip(
            result["ids"][0], result["documents"][0], result["metadatas"][0],
            result["scores"][0], strict=True,
        )  # fmt: skip
        return [
            Passage(
                doc_id=metadata["doc_id"],
                chunk_id=chunk_id,
                title=metadata["title"],
                language=metadata["language"],
                score=round(-float(score), 6),  # Chroma ranks ascending: RRF comes negated
                start=metadata["start"],
                end=metadata["end"],
                text=text,
            )
            for chunk_id, text, metadata, score in rows
        ]


def make_chroma_search(settings: Settings, *, embedder, store, lexical) -> ChromaSearchRetriever:
    """The ``chroma-search`` retriever; needs ``index.sparse_key`` and a distributed or
    hosted Chroma at ``index.chroma_url``."""
    if not settings.index.sparse_key:
        raise PluginError(
            "retrieval.mode chroma-search needs index.sparse_key (the chunks' BM25 sparse "
            "vectors, written at ingest) and a distributed or hosted Chroma"
        )
    return ChromaSearchRetriever(
        embedder, store, lexical, settings.retrieval, settings.index.sparse_key
    )
