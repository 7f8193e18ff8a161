"""Data that flows through ingestion and out of the index."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np


@dataclass
class DocumentRecord:
    """What an article is about, built once at ingest (``ingest.records``)."""

    title: str
    date: str | None = None
    name_keys: dict[str, list[str]] = field(default_factory=dict)  # key -> scripts

    def header(self) -> str:
        """One line naming the article: its title (a news lead's first sentence usually
        says where and when) and its date when known."""
        return " — ".join(part for part in (self.title.strip(), self.date or "") if part)

    def keys(self) -> dict[str, set[str]]:
        return {key: set(scripts) for key, scripts in self.name_keys.items()}

    def to_json(self) -> str:
        # Its fields are JSON values already: no deep copy (dataclasses.asdict) needed.
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return json.dumps(values, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> DocumentRecord:
        return cls(**json.loads(text))


@dataclass
class Document:
    """One cleaned article. ``doc_id`` is its file name relative to the ingested folder
    (with ``#n`` appended for the n-th record of a JSON Lines file without ``id``)."""

    doc_id: str
    text: str
    title: str = ""
    url: str | None = None
    date: str | None = None
    language: str = "und"
    source_path: str = ""
    aliases: list[str] = field(default_factory=list)  # other names holding identical text
    record: DocumentRecord | None = None  # built at ingest


@dataclass(frozen=True)
class DocumentSummary:
    """A stored document as a list of documents shows it (``VectorStore.summaries``):
    its metadata and how many chunks it was cut into, without its text."""

    doc_id: str
    title: str
    language: str
    date: str | None
    url: str | None
    chunks: int


@dataclass
class ReadProblem:
    """A problem reading input that leaves the rest usable: a bad record inside a file whose
    other records still come through, or a path that cannot be read at all."""

    where: str  # the file, or "file:line" / "file#n" for one record
    message: str  # for a person to act on


@dataclass
class ManifestEntry:
    """What the index holds about one document, enough to decide whether to redo it."""

    content_hash: str
    aliases: list[str] = field(default_factory=list)
    chunk_count: int = 0


@dataclass
class Chunk:
    """A span of a document's cleaned text: ``document.text[start:end] == text``."""

    chunk_id: str
    doc_id: str
    index: int
    text: str
    start: int
    end: int
    language: str
    title: str = ""
    prev_id: str | None = None
    next_id: str | None = None


@dataclass
class DocumentWrite:
    """One document to store (``VectorStore.replace_documents``): its chunks, their
    vectors (one row each) and its content hash."""

    document: Document
    chunks: Sequence[Chunk]
    embeddings: np.ndarray
    content_hash: str
