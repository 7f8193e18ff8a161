"""The chat's state: one ``Turn`` per question, updated by the answer stream's events
(``apply_event``); the answered ones are the ``history`` a follow-up is asked with
(``history_of``). A turn also keeps what its asker did with it (the rating, the comment, a
cited sentence's translation), so that the view, rendered again on every update, shows
it; and ``turn_id`` and the citations' markers are how the view's controls name it and
its cited sentences."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from typing import Literal

from assistant.feedback import answer_id
from assistant.types import (
    Citation,
    CitationsEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    History,
    KeyFact,
    KeyFactEvent,
    Passage,
    ProgressEvent,
    SourcesEvent,
    TokenEvent,
)

Status = Literal[
    "busy",
    "queued",
    "searching",
    "answering",
    "done",
    "not_verified",
    "refused",
    "error",
    "stopped",
]
IN_PROGRESS: tuple[Status, ...] = ("queued", "searching", "answering")
# An answer the asker can rate and a follow-up builds on, by its public name.
ANSWERED: dict[Status, str] = {
    "done": "verified",
    "not_verified": "not_verified",
    "refused": "refused",
}
# How every other turn ends, by its public name; the last one can be asked again.
UNANSWERED: dict[Status, str] = {"error": "error", "stopped": "stopped", "busy": "busy"}
FACT_CARD_MARKER = 0  # the key fact card's citation's marker (the answer's start at 1)

TranslationStatus = Literal["translating", "done", "failed"]
Span = tuple[str, int, int]  # a cited sentence: its document's id and offsets


@dataclass
class ShownTranslation:
    """A cited sentence machine translated for the asker (``language``), as the turn
    shows it under the sentence; when it ``failed``, ``problem`` is the catalogue's word
    for why (a busy queue: ``wait_s`` seconds to wait)."""

    language: str
    status: TranslationStatus = "translating"
    text: str = ""
    problem: str = ""
    wait_s: int = 0


@dataclass
class Turn:
    """One question and what the stream has said about it so far; ``turn_id`` names it
    to the view's controls for as long as it is in the conversation (the answer's id
    changes as the answer is written)."""

    question: str
    status: Status = "searching"
    answer: str = ""
    passages: list[Passage] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    error_kind: str = ""  # the ErrorEvent's kind; when busy, the Busy reason
    error: str = ""
    stage: str = ""  # what the answerer is doing (ProgressEvent)
    reading: int = 0  # passages the model reads
    queue_position: int = 0  # while queued: 1 = next
    wait_s: int = 0  # while queued: about how long until it is answered; busy: to retry
    dates: dict[str, str] = field(default_factory=dict)  # the sources' dates, by doc_id
    language: str = ""  # the question's, once known
    history: History = field(default_factory=list)  # the conversation it is asked in
    rating: str = ""  # the asker's: "up" or "down" once rated
    comment: str = ""  # the asker's comment on the answer, once sent
    key_fact: KeyFact | None = None  # the extractive reader's, once it was confident
    translations: dict[Span, ShownTranslation] = field(default_factory=dict)
    turn_id: str = field(default_factory=lambda: secrets.token_hex(8))

    @property
    def answer_id(self) -> str:
        """What names this answer in the feedback store (``assistant.feedback``)."""
        return answer_id(self.question, self.history, self.answer)


def apply_event(turn: Turn, event: Event) -> None:
    """Updates ``turn`` with one event of the answer stream."""
    match event:
        case SourcesEvent(passages=passages, language=language):
            turn.passages, turn.language = passages, language
            turn.status = "answering"
        case ProgressEvent(stage=stage, passages=passages):
            # A token's event of a short reading (the figure check) counts no passages.
            turn.stage, turn.reading = stage, passages or turn.reading
        case KeyFactEvent(key_fact=key_fact):
            # A copy: the answerer settles its own key fact's status as it checks the answer,
            # and the card says so only when the answer ends (CitationsEvent).
            turn.key_fact = replace(key_fact)
        case TokenEvent(text=text):
            turn.answer += text
        case ErrorEvent(message=message, kind=kind):
            turn.status, turn.error, turn.error_kind = "error", message, kind
        case CitationsEvent():
            turn.answer = event.answer
            turn.citations = event.citations
            if event.key_fact is not None:
                turn.key_fact = replace(event.key_fact)
            if turn.status != "error":
                if event.refused:
                    turn.status = "refused"
                else:
                    turn.status = "done" if event.verified else "not_verified"
        case DoneEvent(result=result) if result.error and turn.status != "error":
            turn.status, turn.error = "error", result.error


def history_of(turns: list[Turn]) -> list[dict]:
    """The finished exchanges, as the ``history`` a follow-up question is asked with."""
    history: list[dict] = []
    for turn in turns:
        if turn.status in ANSWERED:
            history.append({"role": "user", "content": turn.question})
            history.append({"role": "assistant", "content": turn.answer})
    return history


def article_language(turn: Turn, doc_id: str) -> str:
    """The language of a turn's source article (its passages'), "" when none was found."""
    return next((p.language for p in turn.passages if p.doc_id == doc_id), "")


def span_of(citation: Citation) -> Span:
    """What names a cited sentence's translation on its turn: the key fact card and a source
    card citing the same sentence show the same one."""
    return citation.doc_id, citation.start, citation.end


def cited_sentence(turn: Turn, marker: object) -> Citation | None:
    """The citation of ``turn`` with ``marker`` (as a page sends it: FACT_CARD_MARKER for
    the key fact's sentence), None when the turn shows none."""
    if turn.key_fact is not None and str(marker) == str(FACT_CARD_MARKER):
        return turn.key_fact.citation
    return next((c for c in turn.citations if str(c.marker) == str(marker)), None)
