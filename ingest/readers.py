"""Finding input files and turning each into raw (uncleaned) documents.

Problems are reported, never raised past the caller: a file-level problem raises
``ReadError`` for the pipeline to record, a bad record inside a JSON file becomes a
``ReadProblem`` while the file's other records still come through."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import ReadError
from ingest.types import Document

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES
RECORD_FIELDS = ("title", "url", "date", "language")


@dataclass
class ReadProblem:
    where: str  # the file, or "file:line" for one JSON record
    message: str


def find_files(paths: Sequence[Path]) -> tuple[list[tuple[Path, str]], list[ReadProblem]]:
    """(file, doc_id) for every supported file under ``paths``; a folder's files are named
    relative to that folder, a file given directly by its name."""
    found: list[tuple[Path, str]] = []
    problems: list[ReadProblem] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                (file, file.relative_to(path).as_posix())
                for file in sorted(path.rglob("*"))
                if file.is_file()
                and file.suffix.lower() in SUPPORTED_SUFFIXES
                and not any(part.startswith(".") for part in file.relative_to(path).parts)
            )
        elif not path.exists():
            problems.append(ReadProblem(str(path), "no such file or folder"))
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
            problems.append(ReadProblem(str(path), f"unsupported file type (reads {supported})"))
        else:
            found.append((path, path.name))
    return found, problems


def read_file(path: Path, doc_id: str, max_bytes: int) -> tuple[list[Document], list[ReadProblem]]:
    """The raw documents in one file. Raises ReadError when the whole file is unusable."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ReadError(
                f"{size / 1e6:.1f} MB is over the {max_bytes / 1e6:.1f} MB limit "
                "(index.max_file_mb)"
            )
        text = decode(path.read_bytes())
    except OSError as error:
        raise ReadError(f"cannot read: {error.strerror or error}") from error
    if not text.strip():
        raise ReadError("empty file")
    suffix = path.suffix.lower()
    source = str(path)
    if suffix in JSON_SUFFIXES:
        return _read_records(text, doc_id, source, lines=suffix == ".jsonl")
    if suffix in HTML_SUFFIXES:
        return [_read_html(text, doc_id, source)], []
    if suffix == ".md":
        text = re.sub(r"(?m)^#{1,6}\s+", "", text)
    return [Document(doc_id=doc_id, text=text, source_path=source)], []


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


def _read_html(html: str, doc_id: str, source: str) -> Document:
    import trafilatura  # imported on demand: it is slow to import and only HTML needs it

    extracted = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=False
    )
    if extracted is None or not (extracted.text or "").strip():
        raise ReadError("no article text found in the HTML")
    return Document(
        doc_id=doc_id,
        text=extracted.text,
        title=extracted.title or "",
        url=extracted.url,
        date=extracted.date,
        source_path=source,
    )


def _read_records(
    text: str, doc_id: str, source: str, lines: bool
) -> tuple[list[Document], list[ReadProblem]]:
    """JSON Lines (one record a line) or JSON (one record or a list of them). A record
    without ``id`` is named ``<file>#<n>``, n its line (JSON Lines) or position from 1."""
    documents, problems = [], []
    if lines:
        numbered = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                numbered.append((number, json.loads(line)))
            except json.JSONDecodeError as error:
                problems.append(ReadProblem(f"{source}:{number}", f"malformed JSON: {error.msg}"))
    else:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise ReadError(f"malformed JSON at line {error.lineno}: {error.msg}") from error
        numbered = list(enumerate(value if isinstance(value, list) else [value], start=1))
    for number, record in numbered:
        where = f"{source}:{number}" if lines else f"{source}#{number}"
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            problems.append(ReadProblem(where, 'record is not an object with a "text" string'))
        elif not record["text"].strip():
            problems.append(ReadProblem(where, "empty text"))
        else:
            documents.append(
                Document(
                    doc_id=str(record["id"]) if record.get("id") else f"{doc_id}#{number}",
                    text=record["text"],
                    source_path=source,
                    **{f: str(record[f]) for f in RECORD_FIELDS if record.get(f)},
                )
            )
    return documents, problems
