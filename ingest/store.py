"""The vector store: Chroma, embedded on disk or a `chroma run` server.

Three collections: the chunks with their vectors, one record per cleaned document (its
text and metadata under a 1-dimensional placeholder vector), and one state item. Keeping
the documents in Chroma too means a server holds all the state, so several app servers can
share one index, and the records double as the manifest of content hashes that makes
ingestion incremental.

Beside Chroma the store keeps its lexical index (``ingest.lexical``, under ``data_dir``),
which it updates in the same crash-safe order: a batch of documents has its old records and
chunks deleted, its chunks added (thousands per Chroma call, across documents), the lexical
index updated, and its records written last, in one call. The state item holds a token
that changes with every write and says whether the last write finished ("clean"): a
lexical index that recorded the current token and a clean state need no check at all, so
``drop_incomplete`` costs one read when nothing was interrupted; otherwise it finds the
incomplete documents by reading every chunk's metadata, deletes them, and brings the
lexical index back to the store's complete documents (``ingest.lexical.sync``).

With a Chroma server, each app server keeps its own lexical index in its own data_dir and
catches up from Chroma when the token changes (``refresh_lexical``): the one that ingests
updates its own in place; the others re-index only the documents whose content hash
differs from what they hold (one read of the manifest each)."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from ingest import plugins, sparse
from ingest.interfaces import VectorStore
from ingest.lexical import LexicalDocument, TantivyLexicalIndex, sync
from ingest.settings import IngestSettings
from ingest.types import (
    Chunk,
    Document,
    DocumentRecord,
    DocumentSummary,
    DocumentWrite,
    ManifestEntry,
)

# Chroma must never embed anything itself: its default embedder downloads a model.
# Every collection is opened with embedding_function=None and every write carries vectors.
COSINE = {"hnsw": {"space": "cosine"}}
PLACEHOLDER_VECTOR = [1.0]
PAGE = 1000
STATE_ID = "state"


class ChromaStore:
    """Chunks, vectors and document records in Chroma, with the lexical index beside
    them (see the module docstring); ``lexical`` None: no lexical index."""

    def __init__(
        self,
        client: chromadb.ClientAPI,
        collection: str,
        lexical: TantivyLexicalIndex | None = None,
        sparse_key: str | None = None,
    ):
        self._client = client
        self.sparse_key = sparse_key
        self._chunk_name = collection
        self._document_name = f"{collection}-documents"
        self._state_name = f"{collection}-state"
        self.lexical = lexical
        self._open()

    def _open(self) -> None:
        schema = {}
        if self.sparse_key:  # distributed Chroma: a BM25 sparse index (ingest.sparse)
            schema["schema"] = chromadb.Schema().create_index(
                chromadb.SparseVectorIndexConfig(bm25=True), key=self.sparse_key
            )
        self._chunks = self._client.get_or_create_collection(
            self._chunk_name, embedding_function=None, configuration=COSINE, **schema
        )
        self._documents = self._client.get_or_create_collection(
            self._document_name, embedding_function=None, configuration=COSINE
        )
        self._state = self._client.get_or_create_collection(
            self._state_name, embedding_function=None, configuration=COSINE
        )

    # The state token (see the module docstring).

    def state(self) -> tuple[str | None, bool]:
        """The store's state token and whether its last write finished; (None, False) for
        a store written before tokens existed, which is checked in full once."""
        found = self._state.get(ids=[STATE_ID], include=["metadatas"])
        if not found["ids"]:
            return None, False
        metadata = found["metadatas"][0]
        return metadata["token"], bool(metadata["clean"])

    def _set_state(self, token: str, clean: bool) -> None:
        self._state.upsert(
            ids=[STATE_ID],
            embeddings=[PLACEHOLDER_VECTOR],
            metadatas=[{"token": token, "clean": clean}],
        )

    def _begin(self) -> str:
        token = uuid.uuid4().hex
        self._set_state(token, clean=False)
        return token

    # Writing.

    def replace_document(
        self,
        document: Document,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        content_hash: str,
    ) -> None:
        """Store one document (``replace_documents`` of one)."""
        self.replace_documents([DocumentWrite(document, chunks, embeddings, content_hash)])

    def replace_documents(self, writes: Sequence[DocumentWrite]) -> None:
        """Store several documents at once, replacing any stored under their ids: records
        out first and back in last, so between the two the documents look incomplete and an
        interruption anywhere is found and redone by ``drop_incomplete``."""
        if not writes:
            return
        token = self._begin()
        doc_ids = [write.document.doc_id for write in writes]
        self._documents.delete(ids=doc_ids)
        self._chunks.delete(where=_where({"doc_id": doc_ids}))
        chunks = [chunk for write in writes for chunk in write.chunks]
        vectors = [np.asarray(write.embeddings, dtype=np.float32) for write in writes]
        vectors = np.concatenate(
            [v.reshape(len(w.chunks), -1) for v, w in zip(vectors, writes, strict=True)]
        )
        batch = self._client.get_max_batch_size()
        for first in range(0, len(chunks), batch):
            part = chunks[first : first + batch]
            self._chunks.add(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[first : first + batch],
                documents=[c.text for c in part],
                metadatas=[self._chunk_metadata(c) for c in part],
            )
        if self.lexical is not None:
            self.lexical.write([_lexical_document(w) for w in writes], token=token)
        self._write_records(writes)
        self._set_state(token, clean=True)

    def _chunk_metadata(self, chunk: Chunk) -> dict:
        metadata = _chunk_metadata(chunk)
        if self.sparse_key:
            metadata[self.sparse_key] = sparse.document_vector(chunk.text)
        return metadata

    def search(self, payload):
        """Chroma's Search API (``chromadb.Search``) on the chunks: distributed or hosted
        Chroma only."""
        return self._chunks.search(payload)

    def _write_records(self, writes: Sequence[DocumentWrite]) -> None:
        self._documents.upsert(
            ids=[write.document.doc_id for write in writes],
            embeddings=[PLACEHOLDER_VECTOR] * len(writes),
            documents=[write.document.text for write in writes],
            metadatas=[_record_metadata(write) for write in writes],
        )

    def get_document(self, doc_id: str) -> Document | None:
        found = self._documents.get(ids=[doc_id], include=["documents", "metadatas"])
        if found["ids"]:
            return _document(doc_id, found["documents"][0], found["metadatas"][0])
        if self.lexical is not None:
            primary = next(iter(self.lexical.resolve([doc_id])), None)
        else:
            primary = next((p for p, e in self.manifest().items() if doc_id in e.aliases), None)
        return self.get_document(primary) if primary and primary != doc_id else None

    def delete_document(self, doc_id: str) -> None:
        self.delete_documents([doc_id])

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        """Remove documents, their chunks and their lexical entries."""
        if not doc_ids:
            return
        token = self._begin()
        self._documents.delete(ids=list(doc_ids))
        self._chunks.delete(where=_where({"doc_id": list(doc_ids)}))
        if self.lexical is not None:
            self.lexical.write(removed=list(doc_ids), token=token)
        self._set_state(token, clean=True)

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

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, Chunk]:
        """The stored chunks of ``chunk_ids`` by id (unknown ids left out)."""
        ids = list(dict.fromkeys(chunk_ids))
        found: dict[str, Chunk] = {}
        for first in range(0, len(ids), PAGE):
            page = self._chunks.get(
                ids=ids[first : first + PAGE], include=["documents", "metadatas"]
            )
            for chunk_id, text, metadata in zip(
                page["ids"], page["documents"], page["metadatas"], strict=True
            ):
                found[chunk_id] = _chunk(chunk_id, text, metadata)
        return found

    def embeddings(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``chunk_ids``, one row each, in that order."""
        rows = []
        for first in range(0, len(chunk_ids), PAGE):
            ids = list(chunk_ids[first : first + PAGE])
            found = self._chunks.get(ids=ids, include=["embeddings"])
            by_id = dict(zip(found["ids"], found["embeddings"], strict=True))
            rows.extend(by_id[chunk_id] for chunk_id in ids)
        return np.asarray(rows, dtype=np.float32)

    def sample_embeddings(self, where: dict, n: int) -> np.ndarray:
        """Up to ``n`` stored vectors of the chunks matching ``where`` (as in ``query``)."""
        found = self._chunks.get(where=_where(where), limit=n, include=["embeddings"])
        return np.asarray(found["embeddings"], dtype=np.float32).reshape(len(found["ids"]), -1)

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

    def summaries(self) -> list[DocumentSummary]:
        return [
            DocumentSummary(
                doc_id=doc_id,
                title=metadata["title"],
                language=metadata["language"],
                date=metadata["date"] or None,
                url=metadata["url"] or None,
                chunks=metadata["chunk_count"],
            )
            for doc_id, _, metadata in self._pages(self._documents, ["metadatas"])
        ]

    def set_aliases(self, doc_id: str, aliases: Sequence[str]) -> None:
        token = self._begin()
        self._documents.update(
            ids=[doc_id], metadatas=[{"aliases": json.dumps(list(aliases), ensure_ascii=False)}]
        )
        if self.lexical is not None:
            self.lexical.set_aliases(doc_id, aliases, token=token)
        self._set_state(token, clean=True)

    def drop_incomplete(self) -> list[str]:
        """Delete the documents an interrupted write left incomplete (chunks without a
        record, or not as many as it says) and bring the lexical index back to the
        store's complete documents; return the doc_ids deleted. One read of the state
        when the last write finished and the lexical index reflects it."""
        token, clean = self.state()
        lexical_fresh = self.lexical is None or self.lexical.state_token() == _token(token)
        if token is not None and clean and lexical_fresh:
            return []
        counts = Counter(m["doc_id"] for _, _, m in self._pages(self._chunks, ["metadatas"]))
        manifest = self.manifest()
        broken = sorted(
            doc_id
            for doc_id in set(counts) | set(manifest)
            if doc_id not in manifest or manifest[doc_id].chunk_count != counts[doc_id]
        )
        self.delete_documents(broken)
        token = self._begin()
        if self.lexical is not None:
            sync(self.lexical, self.manifest(), self._lexical_documents, token)
        self._set_state(token, clean=True)
        return broken

    def refresh_lexical(self) -> bool:
        """Bring the lexical index up to the store when another process changed the store
        (a Chroma server shared by several app servers): when the state token differs from
        the one the lexical index recorded and the last write finished, the documents it
        lacks or holds in another version are re-indexed from the store. While a write is
        under way (or was interrupted: the next ingest repairs it) nothing is done. Returns
        whether the lexical index reflects the store."""
        if self.lexical is None:
            return True
        self.lexical.refresh()
        token, clean = self.state()
        if self.lexical.state_token() == _token(token):
            return True
        if not clean and token is not None:
            return False
        sync(self.lexical, self.manifest(), self._lexical_documents, _token(token))
        return self.state() == (token, clean)

    def _lexical_documents(self, doc_ids: Sequence[str]) -> list[LexicalDocument]:
        """What the lexical index keeps of stored documents, read back from the store."""
        found = self._documents.get(ids=list(doc_ids), include=["metadatas"])
        documents = {
            doc_id: LexicalDocument(
                doc_id,
                metadata["content_hash"],
                json.loads(metadata["aliases"]),
                DocumentRecord.from_json(metadata["record"]).name_keys
                if metadata.get("record")
                else {},
            )
            for doc_id, metadata in zip(found["ids"], found["metadatas"], strict=True)
        }
        offset = 0
        while True:
            page = self._chunks.get(
                where=_where({"doc_id": list(documents)}),
                include=["documents", "metadatas"],
                limit=PAGE * 10,
                offset=offset,
            )
            for chunk_id, text, metadata in zip(
                page["ids"], page["documents"], page["metadatas"], strict=True
            ):
                documents[metadata["doc_id"]].chunks.append(_chunk(chunk_id, text, metadata))
            if len(page["ids"]) < PAGE * 10:
                break
            offset += PAGE * 10
        for document in documents.values():
            document.chunks.sort(key=lambda chunk: chunk.index)
        return [documents[doc_id] for doc_id in doc_ids if doc_id in documents]

    def clear(self) -> None:
        for name in (self._chunk_name, self._document_name, self._state_name):
            self._client.delete_collection(name)
        self._open()
        if self.lexical is not None:
            self.lexical.clear()

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
    """The ``chroma`` store: embedded under ``data_dir``, or the server at ``chroma_url``;
    its lexical index under ``<data_dir>/lexical/<collection>`` (``index.lexical``)."""
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
    return ChromaStore(
        client, settings.index.collection, make_lexical(settings), settings.index.sparse_key
    )


def make_lexical(settings: IngestSettings) -> TantivyLexicalIndex | None:
    """The lexical index ``index.lexical`` names (``ingest.plugins``); None for "none"."""
    if settings.index.lexical == "none":
        return None
    return plugins.create("lexical", settings.index.lexical, settings)


def make_tantivy(settings: IngestSettings) -> TantivyLexicalIndex:
    """The ``tantivy`` lexical index of ``index.collection``, under ``data_dir``."""
    return TantivyLexicalIndex(settings.data_dir / "lexical" / settings.index.collection)


def _token(token: str | None) -> str:
    """The token a lexical index records for a store state (a store written before state
    tokens existed has none)."""
    return token or "none"


def _where(filters: dict | None) -> dict | None:
    if not filters or any(field.startswith("$") for field in filters):
        return filters or None
    clauses = [
        {field: {"$in": list(value)}} if isinstance(value, list | tuple | set) else {field: value}
        for field, value in filters.items()
    ]
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _record_metadata(write: DocumentWrite) -> dict:
    document = write.document
    return {
        "title": document.title,
        "url": document.url or "",
        "date": document.date or "",
        "language": document.language,
        "source_path": document.source_path,
        "aliases": json.dumps(document.aliases, ensure_ascii=False),
        "record": document.record.to_json() if document.record else "",
        "content_hash": write.content_hash,
        "chunk_count": len(write.chunks),
    }


def _lexical_document(write: DocumentWrite) -> LexicalDocument:
    document = write.document
    return LexicalDocument(
        document.doc_id,
        write.content_hash,
        list(document.aliases),
        document.record.name_keys if document.record else {},
        list(write.chunks),
    )


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
