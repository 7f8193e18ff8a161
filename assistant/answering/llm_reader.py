"""The language-model reader: one draft answer, in the asker's language, from the few
evidence sentences it is given; nothing of it is shown before the checks.

An endpoint that continues a final assistant message (llama.cpp) gets the answer started
in the asker's language ("Theo các đoạn văn,"): a small model then stays in the language
and writes a sentence rather than a bare "13 [1]". The model abstains by writing
``NO_ANSWER``, by leaving a started answer as it was, or in words of its own
(``Prompts.is_refusal``).
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass

from assistant.answering.citations import without_markers
from assistant.answering.evidence import Evidence
from assistant.llms import LLM, LLMError
from assistant.prompts import NO_ANSWER_TOKEN, Prompts
from assistant.types import ProgressEvent, ProgressStage

QUESTION_END = re.compile(r"[?？؟]\s*$")


@dataclass
class Draft:
    """The model's answer as it wrote it (a started answer with its start), and whether
    it is an abstention; ``answers`` is False for text that answers nothing (bare markers,
    the question given back)."""

    text: str
    refused: bool

    @property
    def answers(self) -> bool:
        return not self.refused and answers_anything(self.text)


class LLMReader:
    def __init__(self, llm: LLM, prompts: Prompts):
        self.llm = llm
        self.prompts = prompts

    def run(
        self, question: str, evidence: Evidence, language: str, earlier: str = ""
    ) -> Generator[ProgressEvent, None, Draft]:
        """The draft; ``earlier`` is the question a follow-up follows. Generation stops at an
        abstention. Raises LLMError."""
        start = self.prompts.answer_start(language) if self.llm.continues_answer else ""
        messages = self.prompts.answer_messages(question, evidence, language, start, earlier)
        generated = ""
        deltas = self._stream(messages, started_answer=bool(start))
        for count, delta in enumerate(deltas, 1):
            generated += delta
            yield ProgressEvent("writing", passages=len(evidence.passages), tokens=count)
            if generated.lstrip().startswith(NO_ANSWER_TOKEN):
                break
        text = start + generated
        refused = (
            not generated.strip()  # a started answer left as it was: an abstention
            or NO_ANSWER_TOKEN in text
            or self.prompts.is_refusal(text, language)
        )
        return Draft(text, refused)

    def read(
        self, messages: list[dict], stage: ProgressStage, max_tokens: int
    ) -> Generator[ProgressEvent, None, str]:
        """A short reply of the model to ``messages``, with a progress event per delta."""
        reply = ""
        for count, delta in enumerate(self.llm.stream_chat(messages, max_tokens=max_tokens), 1):
            reply += delta
            yield ProgressEvent(stage, tokens=count)
        return reply

    def _stream(self, messages: list[dict], *, started_answer: bool) -> Iterator[str]:
        """The model's deltas. A model given the start of its answer that adds nothing to
        it has nothing to say: that is an abstention, not the error an empty reply is."""
        try:
            yield from self.llm.stream_chat(messages)
        except LLMError as error:
            if not (started_answer and error.kind == "bad_output" and error.empty):
                raise


def answers_anything(text: str) -> bool:
    """Whether the model's text is an answer at all: a small model sometimes gives back
    nothing but markers ("[2]"), or the question itself."""
    body = without_markers(text)
    return any(char.isalnum() for char in body) and not QUESTION_END.search(body)
