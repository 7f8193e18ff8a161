"""What the readers share: decoding text, and the simple ``Reader`` most of them are."""

from __future__ import annotations

import codecs
from collections.abc import Collection

from ingest.errors import ReadError
from ingest.types import Document, ReadProblem


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with BOM; anything else is refused rather
    than guessed, since a wrong guess indexes mojibake."""
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\x00" in data:
        raise ReadError("binary file (contains NUL bytes), not text")
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ReadError(
            f"not {encoding} text (invalid byte 0x{data[error.start]:02x} at offset "
            f"{error.start}); save it as UTF-8, or UTF-16 with a BOM"
        ) from error


def decode_text(data: bytes) -> str:
    """``decode``, refusing a file of nothing but white space."""
    text = decode(data)
    if not text.strip():
        raise ReadError("empty file")
    return text


class TextFormatReader:
    """A reader of one text format: decodes the bytes (``decode``) and makes one document
    of the text ``convert`` returns. Subclasses set ``suffixes`` and ``mime_types`` and
    override ``convert``."""

    suffixes: Collection[str] = frozenset()
    mime_types: Collection[str] = frozenset()

    def convert(self, text: str) -> str:
        """The document text of the decoded file (here: the file as it is)."""
        return text

    def read(
        self, data: bytes, *, doc_id: str, source: str
    ) -> tuple[list[Document], list[ReadProblem]]:
        """One document: the file's converted text."""
        text = self.convert(decode_text(data))
        return [Document(doc_id=doc_id, text=text, source_path=source)], []

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
