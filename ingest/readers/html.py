"""HTML pages (``.html``, ``.htm``): the article's main text and metadata via trafilatura."""

from __future__ import annotations

from ingest.errors import ReadError
from ingest.readers.base import decode_text
from ingest.types import Document, ReadProblem


class HtmlReader:
    """An HTML page is one document: its main text without navigation, footers and
    comments, with the title, canonical URL and date the page declares."""

    suffixes = frozenset({".html", ".htm"})
    mime_types = frozenset({"text/html", "application/xhtml+xml"})

    def read(
        self, data: bytes, *, doc_id: str, source: str
    ) -> tuple[list[Document], list[ReadProblem]]:
        """The page's article, or ReadError when it has no article text."""
        html = decode_text(data)
        import trafilatura  # imported on demand: it is slow to import and only HTML needs it

        extracted = trafilatura.bare_extraction(
            html, with_metadata=True, include_comments=False, include_tables=False
        )
        if extracted is None or not (extracted.text or "").strip():
            raise ReadError("no article text found in the HTML")
        document = Document(
            doc_id=doc_id,
            text=extracted.text,
            title=extracted.title or "",
            url=extracted.url,
            date=extracted.date,
            source_path=source,
        )
        return [document], []

    def __repr__(self) -> str:
        return "HtmlReader()"
