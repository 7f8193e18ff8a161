"""The library: the indexed documents as a list, newest first, searched by title or text,
a page at a time (the library page and ``GET /api/documents``).

The list is read from the store's document records (``VectorStore.summaries``: metadata
without text) and kept for ``LISTING_MAX_AGE_S``, so paging through a large index reads
the store once; an ingest in this process (the library page's uploads) makes it read
again at once (``forget``), another process's shows within that time. A query matches a
document whose title or id holds it (case and diacritics folded, as ``ingest.tokens``
folds them) or one of whose passages holds every word of it (the lexical index)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.tokens import fold

if TYPE_CHECKING:
    from assistant.retrieval import LexicalIndex
    from ingest.interfaces import VectorStore
    from ingest.types import DocumentSummary

LISTING_MAX_AGE_S = 30.0  # another process's ingest shows within this; listing costs a scan
# Passages holding a query's words that are looked at: a word in more passages than this
# (a common one) finds the documents of these only; the titles are searched in full.
MAX_TEXT_MATCHES = 10_000


@dataclass(frozen=True)
class LibraryPage:
    """One page of the documents matching ``query`` (all of them when it is empty)."""

    documents: list[DocumentSummary]
    total: int  # documents matching the query, on every page
    offset: int
    limit: int
    query: str


@dataclass(frozen=True)
class _Listing:
    documents: list[DocumentSummary]  # newest first, then by title
    keys: list[str]  # each document's folded title and id, for the substring search
    read_at: float  # time.monotonic()


class Library:
    """The documents of ``store`` as a list (see the module docstring). Safe to share
    between threads."""

    def __init__(self, store: VectorStore, lexical: LexicalIndex):
        self.store, self.lexical = store, lexical
        self._lock = threading.Lock()  # one read of the store at a time; the others wait
        self._listing: _Listing | None = None

    def forget(self) -> None:
        """Read the list from the store again next time: this process changed the index."""
        with self._lock:
            self._listing = None

    def _current(self) -> _Listing:
        with self._lock:
            listing = self._listing
            if listing is None or time.monotonic() - listing.read_at >= LISTING_MAX_AGE_S:
                documents = sorted(self.store.summaries(), key=lambda d: (fold(d.title), d.doc_id))
                documents.sort(key=lambda d: d.date or "", reverse=True)  # undated last
                keys = [fold(f"{d.title}\n{d.doc_id}") for d in documents]
                listing = self._listing = _Listing(documents, keys, time.monotonic())
            return listing

    def page(self, query: str = "", offset: int = 0, limit: int = 50) -> LibraryPage:
        """The documents matching ``query`` from the ``offset``-th, at most ``limit``."""
        listing, query = self._current(), query.strip()
        documents = listing.documents
        if query:
            needle = fold(query)
            in_text = self.lexical.documents_containing(query, MAX_TEXT_MATCHES)
            documents = [
                document
                for document, key in zip(listing.documents, listing.keys, strict=True)
                if needle in key or document.doc_id in in_text
            ]
        return LibraryPage(documents[offset : offset + limit], len(documents), offset, limit, query)
