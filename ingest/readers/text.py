"""Plain text files (``.txt``), UTF-8 or UTF-16 with a BOM."""

from __future__ import annotations

from ingest.readers.base import TextFormatReader


class TextReader(TextFormatReader):
    """A plain text file is one document, as it is."""

    suffixes = frozenset({".txt"})
    mime_types = frozenset({"text/plain"})
