"""Every error ingest raises for a person to act on, in one place, so that no backend
imports another to raise or catch one."""

from __future__ import annotations


class PluginError(LookupError):
    """A configured backend is not registered, or its package cannot be loaded."""


class EmbeddingModelError(RuntimeError):
    """The configured embedding model cannot be found or loaded."""


class RemoteEmbeddingError(EmbeddingModelError):
    """An embeddings server (``embedding.remote``) cannot be reached, refuses the requests,
    or answers something that is not embeddings; the message names its URL and what to do."""


class ReadError(Exception):
    """A file that yields nothing; the message says why, for a person to act on."""


class DiskFullError(OSError):
    """The disk holding the index filled up while a document was written. Nothing after it
    is attempted: every further write would fail too, and a changed document's old version
    would be deleted first."""

    def __init__(self, writing: str):
        super().__init__(
            f"the disk holding the index is full (while writing {writing}). Free space there, "
            "then run ingest again: the documents written so far are kept, the rest are redone."
        )


class IndexBusyError(RuntimeError):
    """Another process is ingesting into the same index."""


class ForeignEmbedderError(RuntimeError):
    """The index holds vectors of another embedding model, and this ingest may not rebuild
    it (the library's uploads)."""
