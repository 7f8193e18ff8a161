"""Finding input files and turning each into raw (uncleaned) documents.

Each format has its reader (``ingest.interfaces.Reader``), one a module here: text,
markdown, html, json_records (JSON and JSON Lines), pdf, docx. Every reader, the product's
own included, registers under the ``news_assistant.readers`` entry-point group, so a
package adds a format by declaring an entry point (``registry`` says which reader reads a
file). A reader gets the file's bytes: decoding text is the text readers' job (``decode``).

Problems are reported, never raised past the caller: a file-level problem raises
``ReadError`` for the pipeline to record, a bad record inside a file becomes a
``ReadProblem`` while the file's other records still come through."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ingest.errors import ReadError
from ingest.interfaces import Reader
from ingest.readers.base import decode
from ingest.readers.registry import (
    load_readers,
    reader_for,
    supported_suffixes,
    unsupported_message,
)
from ingest.types import Document, ReadProblem

__all__ = [
    "ReadError",
    "ReadProblem",
    "Reader",
    "decode",
    "find_files",
    "read_bytes",
    "read_file",
    "reader_for",
    "supported_suffixes",
]


def find_files(paths: Sequence[Path]) -> tuple[list[tuple[Path, str]], list[ReadProblem]]:
    """(file, doc_id) for every file under ``paths`` that some registered reader handles; a
    folder's files are named relative to that folder, a file given directly by its name.
    A reader plugin that cannot be loaded is a problem too."""
    readers, problems = load_readers()
    suffixes = tuple(sorted({s for registered in readers for s in registered.suffixes}))

    def supported(file: Path) -> bool:
        name = file.name.lower()
        return any(name.endswith(suffix) and len(name) > len(suffix) for suffix in suffixes)

    found: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                (file, file.relative_to(path).as_posix())
                for file in sorted(path.rglob("*"))
                if file.is_file()
                and supported(file)
                and not any(part.startswith(".") for part in file.relative_to(path).parts)
            )
        elif not path.exists():
            problems.append(ReadProblem(str(path), "no such file or folder"))
        elif not supported(path):
            problems.append(ReadProblem(str(path), unsupported_message(readers)))
        else:
            found.append((path, path.name))
    return found, problems


def read_file(
    path: Path, doc_id: str, max_bytes: int, mime_type: str | None = None
) -> tuple[list[Document], list[ReadProblem]]:
    """The raw documents in one file, read by the reader of its suffix (or of ``mime_type``,
    when given). A file over ``max_bytes`` is refused before it is read. Raises ReadError
    when the whole file is unusable."""
    registered = reader_for(path.name, mime_type)
    try:
        _check_size(path.stat().st_size, max_bytes)
        data = path.read_bytes()
    except OSError as error:
        raise ReadError(f"cannot read: {error.strerror or error}") from error
    return _read(registered.name, registered.reader, data, doc_id, str(path))


def read_bytes(
    data: bytes,
    *,
    name: str,
    doc_id: str | None = None,
    source: str | None = None,
    mime_type: str | None = None,
    max_bytes: int | None = None,
) -> tuple[list[Document], list[ReadProblem]]:
    """The raw documents in ``data``, a file called ``name`` (an upload, say), read by the
    reader of ``mime_type`` when given and handled, else of the name's suffix. ``doc_id``
    and ``source`` default to ``name``. Raises ReadError when the whole file is unusable."""
    registered = reader_for(name, mime_type)
    if max_bytes is not None:
        _check_size(len(data), max_bytes)
    return _read(registered.name, registered.reader, data, doc_id or name, source or name)


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ReadError(
            f"{size / 1e6:.1f} MB is over the {max_bytes / 1e6:.1f} MB limit (index.max_file_mb)"
        )


def _read(
    name: str, reader: Reader, data: bytes, doc_id: str, source: str
) -> tuple[list[Document], list[ReadProblem]]:
    """``reader.read``, with every failure a ReadError: a reader's bug, or a parsing
    library's unexpected exception, costs one file, never the batch."""
    if not data.strip():
        raise ReadError("empty file")
    try:
        return reader.read(data, doc_id=doc_id, source=source)
    except ReadError:
        raise
    except Exception as error:
        raise ReadError(f"the {name} reader failed: {type(error).__name__}: {error}") from error
