"""The swappable parts of ingestion. Backends are chosen by a factory from the settings;
nothing outside a backend's module knows which one runs."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

import numpy as np

from ingest.types import Chunk, Document, DocumentRecord, ManifestEntry, ReadProblem


class Embedder(Protocol):
    """Turns text into L2-normalised vectors. Prefixes (e5's ``query: ``/``passage: ``)
    are the embedder's business, not the caller's."""

    name: str
    dimension: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


class LanguageDetector(Protocol):
    def detect(self, text: str) -> str:
        """ISO 639-1 code, or ``"und"`` when undecidable."""
        ...


class VectorStore(Protocol):
    """Chunks, their vectors, and the cleaned documents they came from. A document's
    chunks are written in one call, and its record last, so a crash leaves nothing that
    looks complete but is not."""

    def replace_document(
        self,
        document: Document,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        content_hash: str,
    ) -> None: ...

    def get_document(self, doc_id: str) -> Document | None: ...

    def delete_document(self, doc_id: str) -> None: ...

    def query(
        self, embedding: np.ndarray, n: int, where: dict | None = None
    ) -> list[tuple[Chunk, float]]: ...

    def nearest_ids(
        self, embedding: np.ndarray, n: int, where: dict | None = None
    ) -> list[tuple[str, float]]:
        """``query``'s (chunk_id, similarity) pairs alone: cheaper for a caller holding
        the chunks (retrieval keeps them all for BM25)."""
        ...

    def all_chunks(self) -> list[Chunk]: ...

    def embeddings(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``chunk_ids``, one row each, in that order."""
        ...

    def document_ids(self) -> set[str]: ...

    def count(self) -> int: ...

    # What incremental, crash-safe ingestion needs on top of reading and writing.
    def manifest(self) -> dict[str, ManifestEntry]:
        """Every complete document record by doc_id."""
        ...

    def records(self) -> dict[str, DocumentRecord]:
        """Every complete document's record (``ingest.records``) by doc_id."""
        ...

    def set_aliases(self, doc_id: str, aliases: Sequence[str]) -> None: ...

    def drop_incomplete(self) -> list[str]:
        """Delete chunks that lack a complete document record (an interrupted write);
        return the doc_ids affected."""
        ...

    def clear(self) -> None: ...


class Reader(Protocol):
    """Turns one file's bytes into raw (uncleaned) documents. Registered under the
    ``news_assistant.readers`` entry-point group (``ingest.readers``), chosen by the file's
    suffix, or by its MIME type when one is given (an upload's content type).

    ``read`` raises ``ingest.errors.ReadError`` when the whole file is unusable, with a
    message for a person to act on; a bad record among good ones is a ``ReadProblem``
    returned beside the documents. Decoding is the reader's own job: text readers use
    ``ingest.readers.decode``."""

    suffixes: Collection[str]  # lower-case, with the dot: ".txt"
    mime_types: Collection[str]  # lower-case, without parameters: "text/plain"

    def read(
        self, data: bytes, *, doc_id: str, source: str
    ) -> tuple[list[Document], list[ReadProblem]]:
        """The documents in ``data``: ``doc_id`` names the file's document (a reader of
        several records per file derives theirs from it), ``source`` is where it came from
        (a path), to be kept as each document's ``source_path``."""
        ...
