"""What the chat's tests share: turns as the answer stream leaves them (the lantern
poster's, a failed one, one whose key fact is read off the Vietnamese article, the
lantern festival's answered) and what they read off a rendered view (an export's file, the
key fact card, the translations shown)."""

from __future__ import annotations

import html
import re
from dataclasses import replace

from assistant.server.chat.turns import Turn, apply_event
from assistant.server.ui_text import ui_text
from assistant.types import (
    Citation,
    CitationsEvent,
    KeyFact,
    KeyFactEvent,
    Passage,
    SourcesEvent,
)
from tests.support.web import CORPUS, EN_ANSWER, EN_QUESTION, LANTERN_QUESTION, XSS_PAYLOAD

LANTERN = CORPUS["en/lantern.txt"]
POSTER = Passage(
    "en/lantern.txt", "l#0", "Lantern <b>poster</b>", "en", 0.5, 0, len(LANTERN), LANTERN
)
CITED = LANTERN.index("Organisers")
ANSWER = f"The poster read {XSS_PAYLOAD}; 5,000 visitors came [1]."


def lantern_turn(history: list | None = None) -> Turn:
    citation = Citation(1, POSTER.doc_id, POSTER.chunk_id, POSTER.title,
                        LANTERN[CITED:-1], CITED, len(LANTERN) - 1, True)  # fmt: skip
    turn = Turn(LANTERN_QUESTION, history=history or [], dates={POSTER.doc_id: "2024-02-10"})
    apply_event(turn, SourcesEvent([POSTER], "en"))
    apply_event(turn, CitationsEvent(ANSWER, [citation], False, [], verified=True))
    return turn


def failed_turn() -> Turn:
    return Turn("And then?", status="error", error="The model is down.")


def export_of(view: str, extension: str) -> str:
    """What the view's export button for ``extension`` saves (before chat.js puts the
    app's address in its links)."""
    found = re.search(rf'data-download="[^"]+\.{extension}"[^>]*data-content="([^"]*)"', view)
    assert found, view
    return html.unescape(found.group(1))


# The Vietnamese article, whose sentence gives the key fact of an English question.
ENGLISH = ui_text("en")
BAC_NINH = CORPUS["vi/bac-ninh.txt"]
VI_PASSAGE = Passage(
    "vi/bac-ninh.txt", "vi/bac-ninh.txt#0", "Tỉnh Bắc Ninh", "vi", 0.5, 0, len(BAC_NINH), BAC_NINH
)
START = BAC_NINH.index("Từ đầu nhiệm kỳ")
END = BAC_NINH.index("doanh nghiệp.") + len("doanh nghiệp.")
VI_CITATION = Citation(1, VI_PASSAGE.doc_id, VI_PASSAGE.chunk_id, VI_PASSAGE.title,
                       BAC_NINH[START:END], START, END, True)  # fmt: skip


def key_fact() -> KeyFact:
    """The extractive reader's key fact as the answerer yields it, still being checked."""
    return KeyFact("1.269", "count", 0.9, replace(VI_CITATION, marker=0, supported=False))


def asked(question: str = EN_QUESTION, language: str = "en") -> Turn:
    """A turn whose key fact has come and whose answer is being written."""
    turn = Turn(question)
    apply_event(turn, SourcesEvent([VI_PASSAGE], language))
    apply_event(turn, KeyFactEvent(key_fact()))
    return turn


def answered(turn: Turn, verified: bool = True) -> Turn:
    """``turn`` with its answer ended: its key fact, when one came, settled as the answer."""
    status = "verified" if verified else "not_verified"
    fact = replace(key_fact(), status=status) if turn.key_fact else None
    apply_event(
        turn,
        CitationsEvent(f"{EN_ANSWER} [1].", [VI_CITATION], False, [], verified, key_fact=fact),
    )
    return turn


def unread() -> Turn:
    """An answered turn whose key fact the extractive reader was not confident of."""
    turn = Turn(EN_QUESTION)
    apply_event(turn, SourcesEvent([VI_PASSAGE], "en"))
    return answered(turn)


def key_fact_card(view: str) -> str:
    [card] = re.findall(r'<section class="na-key-fact .*?</section>', view, re.S)
    return card


def translations(view: str) -> list[str]:
    """The machine translations the view shows under cited sentences."""
    return re.findall(r'<p class="na-translated" dir="auto">(.*?)</p>', view)


# The lantern festival's article as one passage, and a turn answered from it.
PASSAGE = Passage(
    doc_id="en/lantern.txt",
    chunk_id="en/lantern.txt#0",
    title="Lantern <b>festival</b>",
    language="en",
    score=0.5,
    start=0,
    end=len(CORPUS["en/lantern.txt"]),
    text=CORPUS["en/lantern.txt"],
)


def finished_turn(answer: str, verified: bool = True) -> Turn:
    text = PASSAGE.text
    start = text.index("Organisers")
    citation = Citation(
        1,
        PASSAGE.doc_id,
        PASSAGE.chunk_id,
        PASSAGE.title,
        text[start:-1],
        start,
        len(text) - 1,
        verified,
    )
    turn = Turn(LANTERN_QUESTION)
    apply_event(turn, SourcesEvent([PASSAGE], "en"))
    apply_event(turn, CitationsEvent(answer, [citation], False, [], verified=verified))
    return turn
