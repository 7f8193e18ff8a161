"""The sources panel: a turn's passages grouped by article (``source_documents``), the
cited articles first with their citations numbered as the answer's [n] markers, each
article with its date (``article_dates``) and how well it matches the question, in words a
reader understands (``relevance_levels``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from assistant.languages import DEFAULT_LANGUAGE
from assistant.server.chat.cited_sentences import highlighted_passage, translation_view
from assistant.server.chat.turns import Turn
from assistant.server.ui_text import ui_text
from assistant.server.urls import document_url
from assistant.types import Passage

if TYPE_CHECKING:
    from assistant.service import Assistant

RelevanceLevel = Literal["high", "medium", "low"]
RELEVANCE_ORDER: dict[RelevanceLevel, int] = {"low": 0, "medium": 1, "high": 2}


def relevance_levels(passages: list[Passage]) -> dict[str, RelevanceLevel]:
    """Each passage's relevance (by chunk id) as a word a reader understands, for the raw
    fusion scores mean nothing on their own: where a score lies between the turn's
    weakest (low) and strongest (high) passage."""
    if not passages:
        return {}
    best, worst = max(p.score for p in passages), min(p.score for p in passages)
    spread = best - worst
    levels: dict[str, RelevanceLevel] = {}
    for passage in passages:
        position = (passage.score - worst) / spread if spread else 1.0
        levels[passage.chunk_id] = (
            "high" if position >= 2 / 3 else "medium" if position >= 1 / 3 else "low"
        )
    return levels


@dataclass
class SourceDocument:
    """An article of a turn's sources: its citations, numbered as the answer's markers,
    then the other passages found in it; ``relevance`` is its best passage's."""

    title: str
    language: str
    date: str
    link: str
    relevance: RelevanceLevel
    citations: list[dict] = field(default_factory=list)
    passages: list[dict] = field(default_factory=list)


def source_documents(
    turn: Turn, number: int, root: str, language: str = DEFAULT_LANGUAGE
) -> list[SourceDocument]:
    """The turn's sources grouped by article: the cited articles first, in the order of
    their first marker, then the others in the order retrieval ranked them; a citation in
    another language than the asker's can be translated (in the chat's ``language``)."""
    text = ui_text(language)
    levels = relevance_levels(turn.passages)
    passages = {p.chunk_id: p for p in turn.passages}
    documents: dict[str, SourceDocument] = {}

    def document_of(doc_id: str, title: str, language: str) -> SourceDocument:
        if doc_id not in documents:
            documents[doc_id] = SourceDocument(
                title=title,
                language=language,
                date=turn.dates.get(doc_id, ""),
                link=document_url(root, doc_id),
                relevance="low",
            )
        return documents[doc_id]

    def rate(document: SourceDocument, chunk_id: str) -> None:
        level = levels.get(chunk_id, "low")
        if RELEVANCE_ORDER[level] > RELEVANCE_ORDER[document.relevance]:
            document.relevance = level

    for citation in sorted(turn.citations, key=lambda c: c.marker):
        passage = passages.get(citation.chunk_id)
        source_language = passage.language if passage else ""
        document = document_of(citation.doc_id, citation.title, source_language)
        rate(document, citation.chunk_id)
        document.citations.append(
            {
                "key": f"{number}-{citation.marker}",
                "marker": citation.marker,
                "highlight": highlighted_passage(passage, citation),
                "link": document_url(root, citation.doc_id, citation.start, citation.end),
                "translation": translation_view(turn, citation, language, text),
            }
        )
    cited = {c.chunk_id for c in turn.citations}
    for passage in turn.passages:
        document = document_of(passage.doc_id, passage.title, passage.language)
        rate(document, passage.chunk_id)
        if passage.chunk_id not in cited:
            link = document_url(root, passage.doc_id, passage.start, passage.end)
            document.passages.append({"passage": passage, "link": link})
    return list(documents.values())


def article_dates(assistant: Assistant, passages: list[Passage]) -> dict[str, str]:
    """The dates of the passages' articles, by doc_id, where the articles give one."""
    dates = {}
    for doc_id in dict.fromkeys(p.doc_id for p in passages):
        document = assistant.document(doc_id)
        if document is not None and document.date:
            dates[doc_id] = document.date
    return dates
