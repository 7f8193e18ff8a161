"""A cited sentence as the chat's cards show it, on a source card (``sources``) and on the
key fact card (``view``): marked in its passage (``highlighted_passage``) and, when its
article is in another language than the asker's, with a "Show in <language>" button or the
machine translation asked for under it (``translation_view``). The translate handler
(``translation``) translates only a sentence that a card offers to translate."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.server.chat.turns import Turn, article_language, span_of
from assistant.server.ui_text import ui_languages, ui_text
from assistant.types import Citation, Passage


@dataclass
class Highlight:
    """A passage split around its cited sentence."""

    before: str
    cited: str
    after: str


def highlighted_passage(passage: Passage | None, citation: Citation) -> Highlight:
    """The passage with the cited sentence marked; offsets are the document's, so they are
    shifted into the passage, and the quote alone is shown if it lies outside."""
    quote_only = Highlight("", citation.quote, "")
    if passage is None:
        return quote_only
    start, end = citation.start - passage.start, citation.end - passage.start
    if not 0 <= start <= end <= len(passage.text):
        found = passage.text.find(citation.quote) if citation.quote else -1
        if found < 0:
            return quote_only
        start, end = found, found + len(citation.quote)
    text = passage.text
    return Highlight(text[:start], text[start:end], text[end:])


def asker_language(turn: Turn, chat: str) -> str:
    """The language a turn's cited sentences are translated into: its question's, when the
    chat has words for it (its "Show in …" button is labelled in it), else the chat's."""
    return turn.language if turn.language in ui_languages() else chat


def translation_view(
    turn: Turn, citation: Citation, language: str, text: dict[str, str]
) -> dict | None:
    """What a cited sentence's card shows of its translation into the asker's language: a
    "Show in …" button (in that language), "translating…", the translation, or why it
    failed with the button again; None when the article is in the asker's language, or
    its language is not known."""
    source = article_language(turn, citation.doc_id)
    target = asker_language(turn, language)
    if source in ("", "und") or source == target:
        return None
    shown = turn.translations.get(span_of(citation))
    if shown is not None and shown.language != target:
        shown = None  # translated into the chat's language before its question set another
    note = ""
    if shown is not None and shown.status == "failed":
        note = text[shown.problem].format(seconds=shown.wait_s)
    words = ui_text(target)
    return {
        "turn_id": turn.turn_id,
        "marker": citation.marker,
        "language": target,
        "dir": words["dir"],
        "label": words["show_in_language"],
        "shown": shown,
        "note": note,
    }
