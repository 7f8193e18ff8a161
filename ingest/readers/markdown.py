"""Markdown files (``.md``): the text without the heading marks."""

from __future__ import annotations

import re

from ingest.readers.base import TextFormatReader

HEADING_MARK = re.compile(r"(?m)^#{1,6}\s+")


class MarkdownReader(TextFormatReader):
    """A Markdown file is one document; ``# `` heading marks are dropped, the rest kept."""

    suffixes = frozenset({".md"})
    mime_types = frozenset({"text/markdown", "text/x-markdown"})

    def convert(self, text: str) -> str:
        """The text without heading marks."""
        return HEADING_MARK.sub("", text)
