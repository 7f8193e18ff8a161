"""The tie-break between the two readers: when the model's draft and the extractive
reader name different facts, the model is asked once to choose between the two, each
shown with the sentence it comes from. Choosing among two given candidates is a far
easier task for a small model than free reading, and it errs differently in each."""

from __future__ import annotations

import re
from collections.abc import Generator

from assistant.answering.extractive import ScoredCandidate
from assistant.answering.llm_reader import LLMReader
from assistant.llms import LLMError
from assistant.prompts import Prompts
from assistant.types import ProgressEvent

# "A", "B", "A.", "Answer: B"...
CHOICE = re.compile(r"\b([AB])\b")
CHOICE_TOKENS = 4  # "A", "B" or a few words around one


class TieBreak:
    def __init__(self, reader: LLMReader, prompts: Prompts):
        self.reader = reader
        self.prompts = prompts

    def run(
        self, question: str, draft_fact: ScoredCandidate, reader_fact: ScoredCandidate
    ) -> Generator[ProgressEvent, None, bool]:
        """Whether the model, choosing between the two facts, keeps its draft's. They are
        shown in the order their sentences come in the articles, so that neither reader's
        is always first."""
        shown = sorted(
            (draft_fact, reader_fact),
            key=lambda s: (s.passage.doc_id, s.span.start, s.candidate.start),
        )
        first, second = ((s.candidate.text, s.span.text) for s in shown)
        messages = self.prompts.choose_messages(question, first, second)
        try:
            reply = yield from self.reader.read(messages, "checking", max_tokens=CHOICE_TOKENS)
        except LLMError:
            return False
        found = CHOICE.search(reply.strip().upper())
        if found is None:
            return False
        return shown["AB".index(found[1])] is draft_fact
