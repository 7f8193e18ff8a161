"""The in-memory BM25 engine (bm25s) over a fixed list of texts, with the project's tokeniser
(``ingest.tokens``, re-exported here). Retrieval searches the store's lexical index
(``ingest.lexical``, Tantivy) instead; this engine serves small, throwaway texts and tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from ingest.tokens import fold, tokenize

__all__ = ["BM25Index", "fold", "tokenize"]


class BM25Index:
    """bm25s over a fixed list of texts; rows are positions in that list."""

    def __init__(self, model: bm25s.BM25):
        self.model = model

    @classmethod
    def build(cls, texts: Sequence[str]) -> BM25Index:
        model = bm25s.BM25()
        model.index([tokenize(text) for text in texts], show_progress=False)
        return cls(model)

    def save(self, directory: Path) -> None:
        self.model.save(str(directory))

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        return cls(bm25s.BM25.load(str(directory), mmap=False))

    @property
    def size(self) -> int:
        return int(self.model.scores["num_docs"])

    def search(self, query: str, n: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The ``n`` best rows with a positive score, best first. ``mask`` (0/1 per row)
        restricts the search to some rows."""
        token_ids = self.model.get_tokens_ids(tokenize(query))
        if not token_ids:
            return []
        scores = self.model.get_scores_from_ids(token_ids, weight_mask=mask)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(row), float(scores[row])) for row in top if scores[row] > 0]
