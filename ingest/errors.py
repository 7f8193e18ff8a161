"""Every error ingest raises for a person to act on, in one place, so that no backend
imports another to raise or catch one."""

from __future__ import annotations


class PluginError(LookupError):
    """A configured backend is not registered, or its package cannot be loaded."""


class EmbeddingModelError(RuntimeError):
    """The configured embedding model cannot be found or loaded."""


class ReadError(Exception):
    """A file that yields nothing; the message says why, for a person to act on."""
