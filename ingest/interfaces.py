"""The swappable parts of ingestion. Backends are chosen by a factory from the settings;
nothing outside a backend's module knows which one runs."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Protocol

import numpy as np

from ingest.types import (
    Chunk,
    Document,
    DocumentRecord,
    DocumentSummary,
    DocumentWrite,
    ManifestEntry,
    ReadProblem,
)


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


class LexicalIndex(Protocol):
    """BM25 over a store's chunks, kept by the store in step with it (``ingest.lexical``),
    with each document's aliases and name keys."""

    def refresh(self) -> None:
        """See what was committed since (by this process or another)."""
        ...

    def search(
        self,
        text: str,
        n: int,
        language: str | None = None,
        doc_ids: Collection[str] | None = None,
    ) -> list[tuple[str, float]]:
        """(chunk_id, BM25 score) of the ``n`` best chunks, best first."""
        ...

    def languages(self) -> dict[str, int]:
        """Chunks per language."""
        ...

    def resolve(self, doc_ids: Iterable[str]) -> list[str]:
        """Primary ids of documents and aliases; unknown ones left out."""
        ...

    def naming(
        self, keys: Collection[str], among: Collection[str] | None = None
    ) -> dict[str, dict[str, set[str]]]:
        """Documents writing one of the name ``keys``, with those keys' scripts."""
        ...

    def documents_containing(self, text: str, limit: int) -> set[str]:
        """Documents with a chunk holding every term of ``text``, found among at most
        ``limit`` such chunks."""
        ...


class VectorStore(Protocol):
    """Chunks, their vectors, and the cleaned documents they came from. Documents are
    written in batches, chunks first and records last, so a crash leaves nothing that
    looks complete but is not. ``lexical`` is the store's lexical index (None: none)."""

    lexical: LexicalIndex | None

    def replace_document(
        self,
        document: Document,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        content_hash: str,
    ) -> None: ...

    def replace_documents(self, writes: Sequence[DocumentWrite]) -> None:
        """Several documents in as few calls as can be, records last."""
        ...

    def get_document(self, doc_id: str) -> Document | None: ...

    def delete_document(self, doc_id: str) -> None: ...

    def delete_documents(self, doc_ids: Sequence[str]) -> None: ...

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        """Stored chunks by id, read on demand."""
        ...

    def refresh_lexical(self) -> bool:
        """Catch the lexical index up with changes other processes made to the store."""
        ...

    def query(
        self, embedding: np.ndarray, n: int, where: dict | None = None
    ) -> list[tuple[Chunk, float]]: ...

    def nearest_ids(
        self, embedding: np.ndarray, n: int, where: dict | None = None
    ) -> list[tuple[str, float]]:
        """``query``'s (chunk_id, similarity) pairs alone."""
        ...

    def all_chunks(self) -> list[Chunk]: ...

    def embeddings(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``chunk_ids``, one row each, in that order."""
        ...

    def sample_embeddings(self, where: dict, n: int) -> np.ndarray:
        """Up to ``n`` stored vectors of the chunks matching ``where``."""
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

    def summaries(self) -> list[DocumentSummary]:
        """Every complete document's metadata and chunk count, without its text."""
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
