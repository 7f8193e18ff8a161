"""Real vectors for the scale benchmark's archive (``benchmarks.archive``): its generated
chunks embedded by the product's embedder, cached on disk between runs.

Random unit vectors are all nearly orthogonal to a question's vector, so they never
compete with the gold passages: with them, recall at scale measures BM25 and the fusion,
not dense retrieval. Embedded text of the same topics, languages and names does compete.
Embedding costs what ingest costs (about 14 chunks/s on 2 cores: 2 hours for 100,000
chunks), so the vectors are kept, one file per block of ``BLOCK_ARTICLES`` articles, named
by the embedder and the block, holding a digest of the block's texts: a block whose
generated text changed, or another embedder, is embedded again; any other run reads it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks.archive import article, paragraph_chunks
from ingest.interfaces import Embedder
from ingest.types import Chunk, Document

BLOCK_ARTICLES = 100  # about 750 chunks, 1.2 MB of vectors, a minute of e5 on 2 cores


class VectorCache:
    """The archive's chunk vectors by ``embedder``, under ``directory``."""

    def __init__(self, directory: Path, embedder: Embedder, corpus_dir: Path, seed: int = 0):
        self.embedder, self.corpus_dir, self.seed = embedder, corpus_dir, seed
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", embedder.name)[-60:]
        identity = f"{embedder.name}/{embedder.dimension}/seed {seed}"
        digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
        self.directory = Path(directory) / f"{name}-{digest}"
        self.embedded_chunks = 0  # embedded by this run (the rest came from disk)
        self.embed_s = 0.0

    def articles(self, first: int = 0) -> Iterator[tuple[Document, list[Chunk], np.ndarray]]:
        """The archive's articles from ``first`` on, each with its chunks and their vectors;
        a block is embedded (and kept) when it is first reached."""
        number = first
        while True:
            block = number // BLOCK_ARTICLES
            documents, chunks, vectors = self._block(block)
            offsets = np.cumsum([0, *(len(c) for c in chunks)])
            for index in range(number - BLOCK_ARTICLES * block, BLOCK_ARTICLES):
                yield documents[index], chunks[index], vectors[offsets[index] : offsets[index + 1]]
            number = BLOCK_ARTICLES * (block + 1)

    def _block(self, block: int) -> tuple[list[Document], list[list[Chunk]], np.ndarray]:
        first = BLOCK_ARTICLES * block
        documents = [
            article(number, self.corpus_dir, self.seed)
            for number in range(first, first + BLOCK_ARTICLES)
        ]
        chunks = [paragraph_chunks(document) for document in documents]
        texts = [t for d, c in zip(documents, chunks, strict=True) for t in _embedding_texts(d, c)]
        digest = hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode()).hexdigest()
        path = self.directory / f"block-{block:05d}.npz"
        if path.is_file():
            stored = np.load(path)
            if str(stored["digest"]) == digest:
                return documents, chunks, stored["vectors"]
        began = time.perf_counter()
        vectors = self.embedder.embed_passages(texts)
        self.embed_s += time.perf_counter() - began
        self.embedded_chunks += len(texts)
        _save(path, vectors, digest)
        return documents, chunks, vectors


def _embedding_texts(document: Document, chunks: list[Chunk]) -> list[str]:
    """What ingest embeds for these chunks (``ingest.chunking.embedding_texts``); a branch
    point's tree without that function embedded each chunk's own text."""
    try:
        from ingest.chunking import embedding_texts
    except ImportError:
        return [chunk.text for chunk in chunks]
    return embedding_texts(document, chunks)


def _save(path: Path, vectors: np.ndarray, digest: str) -> None:
    """Written to a temporary file, then renamed: a run killed mid-write leaves no block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".npz", dir=path.parent)
    os.close(handle)
    try:
        np.savez(partial, vectors=np.asarray(vectors, np.float32), digest=np.array(digest))
        os.chmod(partial, 0o644)  # mkstemp's 0600 would hide a shared cache from other users
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)
