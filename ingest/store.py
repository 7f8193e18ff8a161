"""The vector store: Chroma, embedded on disk or a `chroma run` server.

Two collections: the chunks with their vectors, and one record per cleaned document (its
text and metadata under a 1-dimensional placeholder vector). Keeping the documents in Chroma
too means a server holds all the state, so several app servers can share one index, and the
records double as the manifest of content hashes that makes ingestion incremental."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from ingest import plugins
from ingest.interfaces import VectorStore
from ingest.settings import IngestSettings
from ingest.types import Chunk, Document, DocumentRecord, ManifestEntry

# Chroma must never embed anything itself: its default embedder downloads a model.
# Every collection is opened with embedding_function=None and every write carries vectors.
COSINE = {"hnsw": {"space": "cosine"}}
PLACEHOLDER_VECTOR = [1.0]
PAGE = 1000


class ChromaStore:
    def __init__(self, client: chromadb.ClientAPI, collection: str):
        self._client = client
        self._chunk_name = collection
        self._document_name = f"{collection}-documents"
        self._open()

    def _open(self) -> None:
        self._chunks = self._client.get_or_create_collection(
            self._chunk_name, embedding_function=None, configuration=COSINE
        )
        self._documents = self._client.get_or_create_collection(
            self._document_name, embedding_function=None, configuration=COSINE
        )

    def replace_document(
        self,
        document: Document,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        content_hash: str,
    ) -> None:
        # Record out first and back in last: between the two the document looks incomplete,
        # so an interruption anywhere is found and redone by drop_incomplete.
        self._documents.delete(ids=[document.doc_id])
        self._chunks.delete(where={"doc_id": document.doc_id})
        batch = self._client.get_max_batch_size()
        for first in range(0, len(chunks), batch):
            part = chunks[first : first + batch]
            self._chunks.add(
                ids=[c.chunk_id for c in part],
                embeddings=np.asarray(embeddings[first : first + batch], dtype=np.float32),
                documents=[c.text for c in part],
                metadatas=[_chunk_metadata(c) for c in part],
            )
        self._write_record(document, content_hash, len(chunks))

    def _write_record(self, document: Document, content_hash: str, chunk_count: int) -> None:
        self._documents.upsert(
            ids=[document.doc_id],
            embeddings=[PLACEHOLDER_VECTOR],
            documents=[document.text],
            metadatas=[
                {
                    "title": document.title,
                    "url": document.url or "",
                    "date": document.date or "",
                    "language": document.language,
                    "source_path": document.source_path,
                    "aliases": json.dumps(document.aliases, ensure_ascii=False),
                    "record": document.record.to_json() if document.record else "",
                    "content_hash": content_hash,
                    "chunk_count": chunk_count,
                }
            ],
        )

    def get_document(self, doc_id: str) -> Document | None:
        found = self._documents.get(ids=[doc_id], include=["documents", "metadatas"])
        if found["ids"]:
            return _document(doc_id, found["documents"][0], found["metadatas"][0])
        primary = next((p for p, e in self.manifest().items() if doc_id in e.aliases), None)
        return self.get_document(primary) if primary else None

    def delete_document(self, doc_id: str) -> None:
        self._documents.delete(ids=[doc_id])
        self._chunks.delete(where={"doc_id": doc_id})

    def query(
        self, embedding: np.ndarray, n: int, where: dict | None = None
    ) -> list[tuple[Chunk, float]]:
        """Nearest chunks with cosine similarity. ``where`` maps a chunk field (``language``,
        ``doc_id``, ...) to a value or a list of accepted values; Chroma operator
        expressions (``{"$and": [...]}``) pass through unchanged."""
        found = self._nearest(embedding, n, where, ["documents", "metadatas", "distances"])
        if found is None:
            return []
        return [
            (_chunk(chunk_id, text, metadata), 1.0 - distance)
            for chunk_id, text, metadata, distance in zip(
                found["ids"][0],
                found["documents"][0],
                found["metadatas"][0],
                found["distances"][0],
                strict=True,
            )
        ]

    def nearest_ids(
        self, embedding: np.ndarray, n: int, where: dict | None = None
    ) -> list[tuple[str, float]]:
        """``query`` without fetching the chunks' text and metadata."""
        found = self._nearest(embedding, n, where, ["distances"])
        if found is None:
            return []
        return [
            (chunk_id, 1.0 - distance)
            for chunk_id, distance in zip(found["ids"][0], found["distances"][0], strict=True)
        ]

    def _nearest(self, embedding: np.ndarray, n: int, where: dict | None, include: list[str]):
        n = min(n, self._chunks.count())
        if n <= 0:
            return None
        return self._chunks.query(
            query_embeddings=np.asarray(embedding, dtype=np.float32).reshape(1, -1),
            n_results=n,
            where=_where(where),
            include=include,
        )

    def all_chunks(self) -> list[Chunk]:
        chunks = [
            _chunk(chunk_id, text, metadata)
            for chunk_id, text, metadata in self._pages(self._chunks, ["documents", "metadatas"])
        ]
        return sorted(chunks, key=lambda c: (c.doc_id, c.index))

    def embeddings(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``chunk_ids``, one row each, in that order."""
        rows = []
        for first in range(0, len(chunk_ids), PAGE):
            ids = list(chunk_ids[first : first + PAGE])
            found = self._chunks.get(ids=ids, include=["embeddings"])
            by_id = dict(zip(found["ids"], found["embeddings"], strict=True))
            rows.extend(by_id[chunk_id] for chunk_id in ids)
        return np.asarray(rows, dtype=np.float32)

    def document_ids(self) -> set[str]:
        return {doc_id for doc_id, _, _ in self._pages(self._documents, [])}

    def count(self) -> int:
        return self._chunks.count()

    def manifest(self) -> dict[str, ManifestEntry]:
        return {
            doc_id: ManifestEntry(
                content_hash=metadata["content_hash"],
                aliases=json.loads(metadata["aliases"]),
                chunk_count=metadata["chunk_count"],
            )
            for doc_id, _, metadata in self._pages(self._documents, ["metadatas"])
        }

    def records(self) -> dict[str, DocumentRecord]:
        return {
            doc_id: DocumentRecord.from_json(metadata["record"])
            for doc_id, _, metadata in self._pages(self._documents, ["metadatas"])
            if metadata.get("record")
        }

    def set_aliases(self, doc_id: str, aliases: Sequence[str]) -> None:
        self._documents.update(
            ids=[doc_id], metadatas=[{"aliases": json.dumps(list(aliases), ensure_ascii=False)}]
        )

    def drop_incomplete(self) -> list[str]:
        counts = Counter(m["doc_id"] for _, _, m in self._pages(self._chunks, ["metadatas"]))
        manifest = self.manifest()
        broken = sorted(
            doc_id
            for doc_id in set(counts) | set(manifest)
            if doc_id not in manifest or manifest[doc_id].chunk_count != counts[doc_id]
        )
        for doc_id in broken:
            self.delete_document(doc_id)
        return broken

    def clear(self) -> None:
        for name in (self._chunk_name, self._document_name):
            self._client.delete_collection(name)
        self._open()

    def _pages(self, collection, include: list[str]) -> Iterator[tuple[str, str, dict]]:
        """(id, document, metadata) of every item, a page at a time."""
        offset = 0
        while True:
            page = collection.get(include=include, limit=PAGE, offset=offset)
            ids = page["ids"]
            documents = page["documents"] or [""] * len(ids)
            metadatas = page["metadatas"] or [{}] * len(ids)
            yield from zip(ids, documents, metadatas, strict=True)
            if len(ids) < PAGE:
                return
            offset += PAGE


def make_store(settings: IngestSettings) -> VectorStore:
    """The store ``index.backend`` names (``ingest.plugins``)."""
    return plugins.create("store", settings.index.backend, settings)


def make_chroma(settings: IngestSettings) -> ChromaStore:
    """The ``chroma`` store: embedded under ``data_dir``, or the server at ``chroma_url``."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.index.chroma_url:
        url = urlparse(settings.index.chroma_url)
        client = chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    else:
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)
    return ChromaStore(client, settings.index.collection)


def _where(filters: dict | None) -> dict | None:
    if not filters or any(field.startswith("$") for field in filters):
        return filters or None
    clauses = [
        {field: {"$in": list(value)}} if isinstance(value, list | tuple | set) else {field: value}
        for field, value in filters.items()
    ]
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _chunk_metadata(chunk: Chunk) -> dict:
    # Chroma metadata cannot hold None; "" stands for "no neighbour".
    return {
        "doc_id": chunk.doc_id,
        "index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "language": chunk.language,
        "title": chunk.title,
        "prev_id": chunk.prev_id or "",
        "next_id": chunk.next_id or "",
    }


def _chunk(chunk_id: str, text: str, metadata: dict) -> Chunk:
    return Chunk(
        chunk_id=chunk_id,
        doc_id=metadata["doc_id"],
        index=metadata["index"],
        text=text,
        start=metadata["start"],
        end=metadata["end"],
        language=metadata["language"],
        title=metadata["title"],
        prev_id=metadata["prev_id"] or None,
        next_id=metadata["next_id"] or None,
    )


def _document(doc_id: str, text: str, metadata: dict) -> Document:
    return Document(
        doc_id=doc_id,
        text=text,
        title=metadata["title"],
        url=metadata["url"] or None,
        date=metadata["date"] or None,
        language=metadata["language"],
        source_path=metadata["source_path"],
        aliases=json.loads(metadata["aliases"]),
        record=DocumentRecord.from_json(metadata["record"]) if metadata.get("record") else None,
    )
