"""What leaves the server about its own inside: nothing. Documents are shown without the
path they were read from, and the language model's error messages (which may name the
model file or the data directory) without absolute file paths."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from assistant.types import Answer, DoneEvent, ErrorEvent, Event
from ingest.types import Document

# An absolute POSIX path of two or more parts, not inside a URL ("http://host/v1/x"); a
# part does not end in the punctuation that follows a path in a sentence ("x.gguf: bad").
ABSOLUTE_PATH = re.compile(
    r"(?<![\w.:/~%-])(?:/[^\s/'\"`<>()\[\]{},;:]*[^\s/'\"`<>()\[\]{},;:.!?]){2,}/?"
)
HIDDEN_PATH = "[server path]"


def hide_paths(message: str) -> str:
    """``message`` with every absolute file path replaced by ``[server path]``."""
    return ABSOLUTE_PATH.sub(HIDDEN_PATH, message)


def public_document(document: Document) -> dict:
    """The API's shape of an article (``schemas.PublicDocument``): its id, title, URL,
    date, language, aliases and cleaned text."""
    return {
        "doc_id": document.doc_id,
        "title": document.title,
        "url": document.url,
        "date": document.date,
        "language": document.language,
        "aliases": list(document.aliases),
        "text": document.text,
    }


def public_answer(answer: Answer) -> Answer:
    """``answer`` with no server path in its error or problems."""
    if not answer.error and not answer.problems:
        return answer
    return replace(
        answer,
        error=hide_paths(answer.error) if answer.error else answer.error,
        problems=[hide_paths(problem) for problem in answer.problems],
    )


def public_event(event: Event) -> Event:
    """``event`` with no server path in an error message or the final answer."""
    match event:
        case ErrorEvent(message=message):
            return replace(event, message=hide_paths(message))
        case DoneEvent(result=result):
            return replace(event, result=public_answer(result))
    return event


def public_events(events: Iterator[Event]) -> Iterator[Event]:
    """The answer stream through ``public_event``; closing it closes ``events``."""
    try:
        for event in events:
            yield public_event(event)
    finally:
        events.close()
