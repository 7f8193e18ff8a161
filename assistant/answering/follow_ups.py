"""A follow-up question ("And in 2023?") made searchable. By default (``answer.follow_ups
= "join"``) it is searched and read together with the asker's previous question, which
costs nothing; with "rewrite" the model first rewrites it as a standalone question, one
model call before anything else can run."""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass

from assistant.answering.llm_reader import LLMReader
from assistant.prompts import Prompts
from assistant.types import History, ProgressEvent

logger = logging.getLogger(__name__)

# A standalone question is one line; a short cap keeps a rambling rewrite from costing seconds.
CONDENSE_MAX_TOKENS = 64


@dataclass
class FollowUp:
    """What retrieval and the readers work on: ``query`` (searched, and compared with the
    evidence), ``question`` (what the model answers), ``earlier``, the previous question it
    follows (for the model, when it was not rewritten into ``question``), and ``known``:
    the question with the conversation's last exchange, whose facts are no answer to it
    ("And how many of them were resolved?" is not answered by the 18,087 received)."""

    query: str
    question: str
    earlier: str = ""
    known: str = ""

    def __post_init__(self) -> None:
        self.known = self.known or self.question


def previous_question(history: History) -> str:
    asked = [turn["content"] for turn in history if turn.get("role") == "user"]
    return asked[-1] if asked else ""


def last_exchange(history: History) -> str:
    """The last question and answer of the conversation, as one text."""
    return " ".join(str(turn.get("content", "")) for turn in history[-2:])


class FollowUps:
    def __init__(self, mode: str, reader: LLMReader, prompts: Prompts):
        self.mode = mode
        self.reader = reader
        self.prompts = prompts

    def run(
        self, question: str, history: History | None
    ) -> Generator[ProgressEvent, None, FollowUp]:
        """Raises LLMError when rewriting fails."""
        earlier = previous_question(history or [])
        if not earlier:
            return FollowUp(question, question)
        known = f"{last_exchange(history or [])} {question}"
        if self.mode == "join":
            return FollowUp(f"{earlier} {question}", question, earlier, known)
        messages = self.prompts.condense_messages(question, history or [])
        reply = yield from self.reader.read(messages, "condensing", CONDENSE_MAX_TOKENS)
        lines = [line.strip().strip("\"'“”«»") for line in reply.strip().splitlines()]
        standalone = next((line for line in lines if line), question)
        logger.info("Follow-up %r asked as %r", question, standalone)
        return FollowUp(standalone, standalone, known=known)
