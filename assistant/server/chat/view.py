"""The chat view: the conversation and its sources as one HTML fragment (``render_view``),
rendered by the autoescaped template ``prompts/html/chat_view.html`` (a news article is
data, never markup), and the conversation as the view exports it (``exported_conversation``,
and Markdown from ``prompts/markdown/conversation.md``).

Each answer shows its [n] markers as links to their citations (``answer_parts``), why it is
not a checked answer when it is not (``status_note``), and above it the key fact card
(``key_fact_view``): the figure or name the extractive reader read off a sentence before
the model wrote, "checking…" until the answer ends and says whether it is verified. The
view speaks the chat's language (``view_language``): the last question's."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from assistant.feedback import MAX_COMMENT_CHARS
from assistant.languages import DEFAULT_LANGUAGE
from assistant.server.chat.cited_sentences import Highlight, translation_view
from assistant.server.chat.sources import source_documents
from assistant.server.chat.turns import (
    ANSWERED,
    IN_PROGRESS,
    UNANSWERED,
    Turn,
    article_language,
    span_of,
)
from assistant.server.templates import render, render_markdown
from assistant.server.ui_text import chat_language, ui_text
from assistant.server.urls import document_url
from assistant.types import Citation, KeyFactStatus

# The catalogue's label of a model failure, by ErrorEvent kind; any other: unavailable.
ERROR_LABELS = {"context": "error_context", "bad_output": "error_bad_output"}
MARKER = re.compile(r"\[(\d+)\]")
# Where the links of an exported conversation start: chat.js puts the app's own address
# there when the file is saved, as the server does not know it (``urls``).
EXPORT_ROOT = "{app-root}/"


@dataclass
class AnswerPart:
    """A piece of an answer's text; ``cite`` (turn-marker) makes it a citation link."""

    text: str
    cite: str = ""


def answer_parts(turn: Turn, number: int) -> list[AnswerPart]:
    """The answer with its [n] markers as links to their citation cards (in a "not
    verified" reply, to the closest evidence); markers citing nothing stay text."""
    citations = {c.marker: c for c in turn.citations}
    parts, last = [], 0
    for match in MARKER.finditer(turn.answer):
        citation = citations.get(int(match.group(1)))
        if citation is None:
            continue
        parts.append(AnswerPart(turn.answer[last : match.start()]))
        parts.append(AnswerPart(f"[{citation.marker}]", f"{number}-{citation.marker}"))
        last = match.end()
    parts.append(AnswerPart(turn.answer[last:]))
    return parts


def key_fact_status(turn: Turn) -> KeyFactStatus:
    """What the key fact card says of the turn's key fact: "checking" only while the answer
    is written; a key fact whose answer was stopped before its end was never confirmed."""
    assert turn.key_fact is not None
    status = turn.key_fact.status
    return "not_verified" if status == "checking" and turn.status not in IN_PROGRESS else status


def key_fact_view(turn: Turn, root: str, language: str, text: dict[str, str]) -> dict | None:
    """The key fact card: the fact, its status, its sentence with the fact marked, the link
    that opens the article at that sentence and the sentence's translation."""
    if turn.key_fact is None:
        return None
    fact, citation = turn.key_fact, turn.key_fact.citation
    found = citation.quote.find(fact.text) if fact.text else -1
    quote = Highlight(citation.quote, "", "")
    if found >= 0:
        end = found + len(fact.text)
        quote = Highlight(citation.quote[:found], fact.text, citation.quote[end:])
    source = article_language(turn, citation.doc_id)
    return {
        "text": fact.text,
        "status": key_fact_status(turn),
        "quote": quote,
        "language": source if source not in ("", "und") else "",
        "title": citation.title,
        "link": document_url(root, citation.doc_id, citation.start, citation.end),
        "translation": translation_view(turn, citation, language, text),
    }


def view_language(turns: list[Turn], accepted: str) -> str:
    """The chat's language: the last question's (``ui_text.chat_language``)."""
    asked = next((turn.language for turn in reversed(turns) if turn.language), None)
    return chat_language(asked, accepted)


def exported_conversation(turns: list[Turn], root: str) -> dict:
    """The conversation as the chat exports it in JSON (docs/evaluation.md shows it):
    ``{"format": "news-assistant-conversation", "version": 1, "turns": [...]}``, a turn
    ``{"question", "language", "status", "answer", "key_fact", "sources"}`` where
    ``status`` is verified, not_verified, refused, error, stopped or busy, and ``sources``
    are the answer's citations, numbered as its [n] markers: ``{"marker", "doc_id",
    "title", "language", "date", "quote", "link", "translation"}``, the link opening the
    article at the cited sentence, ``translation`` null or the sentence's machine
    translation the asker asked for, ``{"text", "language", "machine_translation": true}``.
    ``key_fact`` is null or the card's ``{"text", "kind", "status", "doc_id", "title",
    "language", "quote", "link", "translation"}``, its status verified or not_verified.
    ``turns`` are finished ones (none in IN_PROGRESS)."""

    def translation(turn: Turn, citation: Citation) -> dict | None:
        shown = turn.translations.get(span_of(citation))
        if shown is None or shown.status != "done":
            return None
        return {"text": shown.text, "language": shown.language, "machine_translation": True}

    def source(turn: Turn, citation: Citation) -> dict:
        passage = next((p for p in turn.passages if p.chunk_id == citation.chunk_id), None)
        return {
            "marker": citation.marker,
            "doc_id": citation.doc_id,
            "title": citation.title,
            "language": passage.language if passage else "",
            "date": turn.dates.get(citation.doc_id, ""),
            "quote": citation.quote,
            "link": document_url(root, citation.doc_id, citation.start, citation.end),
            "translation": translation(turn, citation),
        }

    def key_fact(turn: Turn) -> dict | None:
        if turn.key_fact is None:
            return None
        citation = turn.key_fact.citation
        return {
            "text": turn.key_fact.text,
            "kind": turn.key_fact.kind,
            "status": key_fact_status(turn),
            "doc_id": citation.doc_id,
            "title": citation.title,
            "language": article_language(turn, citation.doc_id),
            "quote": citation.quote,
            "link": document_url(root, citation.doc_id, citation.start, citation.end),
            "translation": translation(turn, citation),
        }

    statuses = ANSWERED | UNANSWERED
    exported = [
        {
            "question": turn.question,
            "language": turn.language,
            "status": statuses[turn.status],
            "answer": turn.answer,
            "key_fact": key_fact(turn),
            "sources": [source(turn, c) for c in sorted(turn.citations, key=lambda c: c.marker)],
        }
        for turn in turns
    ]
    return {"format": "news-assistant-conversation", "version": 1, "turns": exported}


def status_note(turn: Turn, text: dict[str, str]) -> str:
    """What the chat says of a finished turn beside its answer, in the view and in the
    exported conversation: why it is not a checked answer."""
    match turn.status:
        case "not_verified" | "refused" | "stopped":
            return text[turn.status]
        case "error":
            return text[ERROR_LABELS.get(turn.error_kind, "error_unavailable")]
        case "busy":
            return text[f"busy_{turn.error_kind}"].format(seconds=turn.wait_s)
    return ""


def render_view(turns: list[Turn], root: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The whole chat view in ``language``: the conversation, and beside it each turn's
    sources grouped by article (the last turn's shown; a marker of another turn shows that
    turn's). ``root`` is what the links to the article pages and the library start with.
    Each answer can be rated; once nothing is being answered, the last turn can be asked
    again and the conversation exported (as Markdown and JSON, its links starting with
    EXPORT_ROOT)."""
    text = ui_text(language)
    idle = not any(turn.status in IN_PROGRESS for turn in turns)
    items = [
        {
            "turn": turn,
            "number": number,
            "parts": answer_parts(turn, number),
            "evidence": turn.status == "not_verified",
            "copyable": bool(turn.answer) and turn.status != "answering",
            "rateable": turn.status in ANSWERED,
            "regenerable": idle and number == len(turns) - 1,
            "note": status_note(turn, text),
            "key_fact": key_fact_view(turn, root, language, text),
            "sources": source_documents(turn, number, root, language),
        }
        for number, turn in enumerate(turns)
    ]
    export = None
    if idle and turns:
        conversation = exported_conversation(turns, EXPORT_ROOT)
        noted = zip(conversation["turns"], [status_note(t, text) for t in turns], strict=True)
        export = {
            "root": root,
            "root_mark": EXPORT_ROOT,
            "json": json.dumps(conversation, ensure_ascii=False, indent=2),
            "markdown": render_markdown("conversation.md", turns=list(noted), text=text),
        }
    return render(
        "chat_view.html",
        turns=items,
        text=text,
        language=language,
        export=export,
        root=root,
        max_comment_chars=MAX_COMMENT_CHARS,
    )
