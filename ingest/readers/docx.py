"""Word documents (``.docx``) through python-docx: the body's paragraphs and tables in
document order, one paragraph a block; the title from the document's properties. Headers,
footers and comments are left out, as a web page's navigation is."""

from __future__ import annotations

import io
import zipfile

from ingest.errors import ReadError
from ingest.types import Document, ReadProblem

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a password-protected .docx, or a .doc
# python-docx holds every part of the package in memory: a file that unpacks to more is
# refused (a zip bomb would otherwise take the machine's memory).
MAX_UNPACKED_BYTES = 256 * 1024 * 1024


class DocxReader:
    """A Word document is one document: its body text, paragraphs apart, a table's row a
    line with its cells separated by `` | ``."""

    suffixes = frozenset({".docx"})
    mime_types = frozenset(
        {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    )

    def read(
        self, data: bytes, *, doc_id: str, source: str
    ) -> tuple[list[Document], list[ReadProblem]]:
        """The document's text and title; ReadError when it cannot be opened or is empty."""
        if data.startswith(OLE_SIGNATURE):
            raise ReadError(
                "password-protected, or an old binary Word file renamed .docx: "
                "save it as an unprotected .docx"
            )
        import docx  # imported on demand: only Word documents need it

        try:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                unpacked = sum(member.file_size for member in package.infolist())
            if unpacked > MAX_UNPACKED_BYTES:
                raise ReadError(
                    f"unpacks to {unpacked / 1e6:.0f} MB, over the "
                    f"{MAX_UNPACKED_BYTES / 1e6:.0f} MB a Word document may hold"
                )
            word = docx.Document(io.BytesIO(data))
            blocks = _blocks(word)
            title = word.core_properties.title or ""
        except ReadError:
            raise
        except Exception as error:  # a damaged file can fail anywhere in the parse
            raise ReadError(
                "not a readable Word document (damaged or not a .docx: "
                f"{type(error).__name__}: {error})"
            ) from error
        text = "\n\n".join(blocks)
        if not text.strip():
            raise ReadError("no text in the document")
        title = " ".join(title.split())
        return [Document(doc_id=doc_id, text=text, title=title, source_path=source)], []

    def __repr__(self) -> str:
        return "DocxReader()"


def _blocks(word) -> list[str]:
    """The body's paragraphs and tables in order, each as text, without empty ones."""
    from docx.table import Table

    blocks = []
    for item in word.iter_inner_content():
        text = _table_text(item) if isinstance(item, Table) else " ".join(item.text.split())
        if text:
            blocks.append(text)
    return blocks


def _table_text(table) -> str:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):  # a merged cell repeats
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)
