"""Article records in JSON (``.json``: one object or a list of them) and JSON Lines
(``.jsonl``: one object a line). A record is ``{"text": ..., "id"?, "title"?, "url"?,
"date"?, "language"?}``; a bad record is a ``ReadProblem`` while the others come through."""

from __future__ import annotations

import json

from ingest.errors import ReadError
from ingest.readers.base import decode_text
from ingest.types import Document, ReadProblem

RECORD_FIELDS = ("title", "url", "date", "language")


class JsonReader:
    """A JSON file of one record or a list of records. A record without ``id`` is named
    ``<file>#<n>``, n its position from 1."""

    suffixes = frozenset({".json"})
    mime_types = frozenset({"application/json"})

    def read(
        self, data: bytes, *, doc_id: str, source: str
    ) -> tuple[list[Document], list[ReadProblem]]:
        """Every good record's document, and a problem for each bad one."""
        text = decode_text(data)
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise ReadError(f"malformed JSON at line {error.lineno}: {error.msg}") from error
        numbered = list(enumerate(value if isinstance(value, list) else [value], start=1))
        return _documents(numbered, [], doc_id, source, lines=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class JsonLinesReader(JsonReader):
    """A JSON Lines file, one record a line. A record without ``id`` is named
    ``<file>#<n>``, n its line; a malformed line is a problem naming ``file:line``."""

    suffixes = frozenset({".jsonl"})
    # application/json too: a .jsonl upload often comes as that, and the JSON reader, first
    # by name, still takes an application/json upload whose name does not end in .jsonl.
    mime_types = frozenset(
        {"application/jsonl", "application/x-jsonlines", "application/x-ndjson", "application/json"}
    )

    def read(
        self, data: bytes, *, doc_id: str, source: str
    ) -> tuple[list[Document], list[ReadProblem]]:
        """Every good line's document, and a problem for each bad line."""
        numbered, problems = [], []
        for number, line in enumerate(decode_text(data).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                numbered.append((number, json.loads(line)))
            except json.JSONDecodeError as error:
                problems.append(ReadProblem(f"{source}:{number}", f"malformed JSON: {error.msg}"))
        return _documents(numbered, problems, doc_id, source, lines=True)


def _documents(
    numbered: list[tuple[int, object]],
    problems: list[ReadProblem],
    doc_id: str,
    source: str,
    lines: bool,
) -> tuple[list[Document], list[ReadProblem]]:
    documents = []
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
