"""The lexical index: BM25 over the store's chunks on Tantivy, updated in place.

Chunks are indexed as the project's own terms (``ingest.tokens.tokenize``, joined by spaces
and split again by Tantivy's whitespace tokenizer), so numbers, folded diacritics, Arabic
stems and CJK bigrams match exactly as the tokeniser says. Tantivy scores them with BM25
(Lucene's formula, k1 = 1.2, b = 0.75) and finds the top hits without scoring every match
(block-max WAND), so a query costs little more at a million chunks than at a thousand.

The index lives in ``<data_dir>/lexical/<collection>`` as two Tantivy indexes:

* ``chunks``: one entry per chunk (its id, document, language and terms), so BM25's
  statistics are the chunks' alone;
* ``records``: one entry per stored document, with its content hash and aliases (what the
  index holds, compared with the store's manifest to catch up), its name keys
  (``ingest.names``: searchable, for the names-across-scripts list and the answer check),
  and one entry with the store state token (``ingest.store``) the index reflects.

Crash safety: an entry in ``chunks`` always has its document's entry in ``records``. A
write puts the added documents' records in first (one commit), then replaces the chunks
(one commit), then removes the removed documents' records and records the state token (one
commit); each Tantivy commit is atomic. So after a crash anywhere, the documents whose
record here differs from the store's manifest are exactly those to redo, and ``sync``
(``ChromaStore.drop_incomplete`` and ``ChromaStore.refresh_lexical``) redoes them from the
store, which is the source of truth: the lexical index can always be rebuilt from it.

One process writes at a time (Tantivy's writer lock, waited for up to ``LOCK_WAIT_S``);
any number read, and see each commit after ``refresh``.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import tantivy

from ingest.tokens import tokenize
from ingest.types import Chunk

LOCK_WAIT_S = 60.0
WRITER_HEAP_BYTES = 64_000_000
STATE = "state"  # the record entry holding the state token
# Documents a name lookup returns at most: a name written in more is no telling evidence.
MAX_NAMING_DOCUMENTS = 1000


@dataclass
class LexicalDocument:
    """What the lexical index keeps of one stored document."""

    doc_id: str
    content_hash: str
    aliases: list[str] = field(default_factory=list)
    name_keys: dict[str, list[str]] = field(default_factory=dict)  # key -> scripts
    chunks: list[Chunk] = field(default_factory=list)


@dataclass(frozen=True)
class LexicalEntry:
    """A document as the lexical index holds it: enough to compare with the manifest."""

    content_hash: str
    aliases: tuple[str, ...]


def chunk_terms(text: str) -> str:
    """The text Tantivy indexes for a chunk (or searches for a query): its terms by spaces."""
    return " ".join(tokenize(text))


def _chunks_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("doc_id", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("language", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("text", tokenizer_name="whitespace", index_option="freq")
    return builder.build()


def _records_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("kind", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("doc_id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("alias", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("name_key", tokenizer_name="raw", index_option="basic")
    builder.add_bytes_field("entry", stored=True, indexed=False)
    return builder.build()


class TantivyLexicalIndex:
    """The lexical index of one collection, in ``directory`` (see the module docstring)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._lock = threading.Lock()  # one writer per process; Tantivy's lock across them
        self._open()

    def _open(self) -> None:
        for name in ("chunks", "records"):
            (self.directory / name).mkdir(parents=True, exist_ok=True)
        self._chunks_schema = _chunks_schema()
        self._records_schema = _records_schema()
        self._chunks = tantivy.Index(self._chunks_schema, str(self.directory / "chunks"))
        self._records = tantivy.Index(self._records_schema, str(self.directory / "records"))

    # Reading.

    def refresh(self) -> None:
        """See what other processes (or writers of this one) committed since."""
        self._chunks.reload()
        self._records.reload()

    def chunk_count(self) -> int:
        """Chunks indexed."""
        return self._chunks.searcher().num_docs

    def search(
        self,
        text: str,
        n: int,
        language: str | None = None,
        doc_ids: Collection[str] | None = None,
    ) -> list[tuple[str, float]]:
        """The ``n`` best chunks for ``text`` by BM25, as (chunk_id, score), best first;
        ``language`` and ``doc_ids`` (primary ids) restrict them."""
        terms = tokenize(text)
        if not terms or n <= 0 or (doc_ids is not None and not doc_ids):
            return []
        schema = self._chunks_schema
        query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "text", t)) for t in terms]
        )
        filters = []
        if language is not None:
            filters.append(tantivy.Query.term_query(schema, "language", language))
        if doc_ids is not None:
            filters.append(tantivy.Query.term_set_query(schema, "doc_id", sorted(doc_ids)))
        if filters:
            query = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, query)]
                + [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters]
            )
        searcher = self._chunks.searcher()
        # count=False: counting every match would defeat the top-k pruning.
        hits = searcher.search(query, limit=n, count=False).hits
        return [
            (searcher.doc(address)["chunk_id"][0], float(score))
            for score, address in hits
            if score > 0
        ]

    def languages(self) -> dict[str, int]:
        """Chunks indexed per language."""
        searcher = self._chunks.searcher()
        return dict(searcher.terms_with_prefix("language", ""))

    def resolve(self, doc_ids: Iterable[str]) -> list[str]:
        """The primary ids of ``doc_ids`` (a stored document's own id, or the document an
        alias names), sorted; ids the index does not know are left out."""
        wanted = set(doc_ids)
        if not wanted:
            return []
        schema = self._records_schema
        query = tantivy.Query.boolean_query(
            [
                (
                    tantivy.Occur.Should,
                    tantivy.Query.term_set_query(schema, "doc_id", sorted(wanted)),
                ),
                (
                    tantivy.Occur.Should,
                    tantivy.Query.term_set_query(schema, "alias", sorted(wanted)),
                ),
            ]
        )
        return sorted(doc_id for doc_id, _ in self._records_matching(query, len(wanted) * 2))

    def naming(
        self, keys: Collection[str], among: Collection[str] | None = None
    ) -> dict[str, dict[str, set[str]]]:
        """The documents writing one of the name ``keys`` (``ingest.names``), each with those
        of its keys and their scripts; ``among`` restricts them to some doc_ids. At most
        ``MAX_NAMING_DOCUMENTS``."""
        if not keys or (among is not None and not among):
            return {}
        schema = self._records_schema
        query = tantivy.Query.term_set_query(schema, "name_key", sorted(keys))
        if among is not None:
            query = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, query),
                    (
                        tantivy.Occur.Must,
                        tantivy.Query.term_set_query(schema, "doc_id", sorted(among)),
                    ),
                ]
            )
        found = {}
        for doc_id, entry in self._records_matching(query, MAX_NAMING_DOCUMENTS):
            names = entry["names"]
            found[doc_id] = {key: set(names[key]) for key in keys if key in names}
        return found

    def documents_containing(self, text: str, limit: int) -> set[str]:
        """The documents with a chunk holding every term of ``text`` (folded as
        ``ingest.tokens`` folds them: case, diacritics, digit grouping), found among at most
        ``limit`` such chunks; empty when ``text`` has no terms."""
        terms = tokenize(text)
        if not terms:
            return set()
        query = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, tantivy.Query.term_query(self._chunks_schema, "text", term))
                for term in dict.fromkeys(terms)
            ]
        )
        searcher = self._chunks.searcher()
        hits = searcher.search(query, limit=limit, count=False).hits
        # A chunk's id is "<doc_id>#<index>" (ingest.chunking); only the id is stored.
        return {searcher.doc(address)["chunk_id"][0].rpartition("#")[0] for _, address in hits}

    def record(self, doc_id: str) -> LexicalDocument | None:
        """The record of one document (without its chunks)."""
        query = tantivy.Query.term_query(self._records_schema, "doc_id", doc_id)
        for found_id, entry in self._records_matching(query, 1):
            return LexicalDocument(found_id, entry["hash"], entry["aliases"], entry["names"])
        return None

    def entries(self) -> dict[str, LexicalEntry]:
        """Every document the index holds, by doc_id."""
        query = tantivy.Query.term_query(self._records_schema, "kind", "doc")
        searcher = self._records.searcher()
        return {
            doc_id: LexicalEntry(entry["hash"], tuple(entry["aliases"]))
            for doc_id, entry in self._records_matching(query, max(searcher.num_docs, 1))
        }

    def state_token(self) -> str | None:
        """The store state token the index reflects (``ingest.store``); None when it was
        never brought up to a store (or was cleared)."""
        query = tantivy.Query.term_query(self._records_schema, "kind", STATE)
        for _, entry in self._records_matching(query, 1):
            return entry["token"]
        return None

    def _records_matching(self, query, limit: int) -> Iterator[tuple[str, dict]]:
        searcher = self._records.searcher()
        for _, address in searcher.search(query, limit=limit, count=False).hits:
            document = searcher.doc(address)
            doc_ids = document.get_all("doc_id")
            yield (doc_ids[0] if doc_ids else ""), json.loads(document["entry"][0])

    # Writing.

    def write(
        self,
        documents: Sequence[LexicalDocument] = (),
        removed: Collection[str] = (),
        token: str | None = None,
    ) -> None:
        """Add or replace ``documents`` (with their chunks), remove the documents
        ``removed``, and record the state ``token`` (when given), in the crash-safe order of
        the module docstring."""
        replaced = {document.doc_id for document in documents}
        with self._lock:
            if documents:
                with self._writer(self._records) as writer:
                    for doc_id in replaced:
                        writer.delete_documents_by_term("doc_id", doc_id)
                    for document in documents:
                        writer.add_document(self._record_document(document))
            if replaced or removed:
                with self._writer(self._chunks) as writer:
                    for doc_id in replaced | set(removed):
                        writer.delete_documents_by_term("doc_id", doc_id)
                    for document in documents:
                        for chunk in document.chunks:
                            writer.add_document(
                                tantivy.Document(
                                    chunk_id=chunk.chunk_id,
                                    doc_id=chunk.doc_id,
                                    language=chunk.language,
                                    text=chunk_terms(chunk.text),
                                )
                            )
            if removed or token is not None:
                with self._writer(self._records) as writer:
                    for doc_id in removed:
                        writer.delete_documents_by_term("doc_id", doc_id)
                    self._write_token(writer, token)
        self.refresh()

    def set_aliases(self, doc_id: str, aliases: Sequence[str], token: str | None = None) -> None:
        """Change the aliases of a stored document."""
        record = self.record(doc_id)
        with self._lock, self._writer(self._records) as writer:
            if record is not None:
                record.aliases = list(aliases)
                writer.delete_documents_by_term("doc_id", doc_id)
                writer.add_document(self._record_document(record))
            self._write_token(writer, token)
        self.refresh()

    def set_token(self, token: str | None) -> None:
        """Record that the index reflects the store state ``token`` (None: unknown)."""
        with self._lock, self._writer(self._records) as writer:
            self._write_token(writer, token, always=True)
        self.refresh()

    def clear(self) -> None:
        """Remove everything, the state token too."""
        with self._lock:
            for index in (self._chunks, self._records):
                with self._writer(index) as writer:
                    writer.delete_all_documents()
        self.refresh()

    def destroy(self) -> None:
        """Remove the index's files (a reader still open keeps its view)."""
        shutil.rmtree(self.directory, ignore_errors=True)
        self._open()

    def _record_document(self, document: LexicalDocument) -> tantivy.Document:
        entry = {
            "hash": document.content_hash,
            "aliases": list(document.aliases),
            "names": document.name_keys,
        }
        record = tantivy.Document(kind="doc", doc_id=document.doc_id)
        for alias in document.aliases:
            record.add_text("alias", alias)
        for key in document.name_keys:
            record.add_text("name_key", key)
        record.add_bytes("entry", json.dumps(entry, ensure_ascii=False).encode())
        return record

    @staticmethod
    def _write_token(writer, token: str | None, always: bool = False) -> None:
        if token is None and not always:
            return
        writer.delete_documents_by_term("kind", STATE)
        state = tantivy.Document(kind=STATE)
        state.add_bytes("entry", json.dumps({"token": token}).encode())
        writer.add_document(state)

    @contextmanager
    def _writer(self, index: tantivy.Index) -> Iterator[tantivy.IndexWriter]:
        """A writer, committed when the block ends (rolled back if it raises); waits for
        another process's writer lock for up to ``LOCK_WAIT_S``."""
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                writer = index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
                break
            except ValueError as error:
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        try:
            yield writer
        except BaseException:
            writer.rollback()
            writer.wait_merging_threads()
            raise
        writer.commit()
        writer.wait_merging_threads()


def sync(
    lexical: TantivyLexicalIndex,
    manifest: dict,
    fetch: callable,
    token: str | None,
    batch_documents: int = 500,
) -> tuple[list[str], list[str]]:
    """Make ``lexical`` hold exactly the documents of ``manifest`` (the store's: doc_id ->
    ManifestEntry): those it lacks or holds in another version are fetched with
    ``fetch(doc_ids) -> list[LexicalDocument]`` and indexed, those the store does not hold
    are removed, and changed aliases are set; then ``token`` is recorded. Returns the
    doc_ids (re)indexed and removed."""
    held = lexical.entries()
    removed = sorted(held.keys() - manifest.keys())
    stale = sorted(
        doc_id
        for doc_id, entry in manifest.items()
        if doc_id not in held or held[doc_id].content_hash != entry.content_hash
    )
    for doc_id, entry in manifest.items():
        if doc_id in held and doc_id not in stale and held[doc_id].aliases != tuple(entry.aliases):
            lexical.set_aliases(doc_id, entry.aliases)
    if removed:
        lexical.write(removed=removed)
    for first in range(0, len(stale), batch_documents):
        lexical.write(fetch(stale[first : first + batch_documents]))
    lexical.set_token(token)
    return stale, removed
