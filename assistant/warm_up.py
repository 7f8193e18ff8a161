"""What `assistant serve` loads before it listens (``Assistant.warm_up``), so that no
request pays for it and, above all, none stalls the others.

A native library that loads something while holding Python's GIL stops every thread of
the process, the event loop that answers ``/api/health`` included. Measured on 2 cores
(AMD EPYC, load ~2), each of these happened on the first question after start:

* llama.cpp loading the embedded model: 10.6 s with the GIL held (``xllamacpp.Server``);
* lingua loading its models, per script, on the first text of that script: Latin 4.5 s,
  Cyrillic 0.7 s, Arabic 0.4 s;
* importing the OpenAI client (1,300 modules, 1,700 pydantic models built) and Babel's
  month names, the transliteration tables and the prompts: about 2 s in all, in pieces of
  up to 200 ms (pydantic-core builds each validator in one call).

So the warm-up detects a short and a long text of each script, answers one question with
a scripted model (the whole answering path but the model: evidence, the extractive reader,
the checks, the citations), builds the real answerer, and loads the model (the embedded one)
and its client (whose streaming path runs once on a canned reply).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any, Protocol

from assistant.llms.base import LLM, LLMError
from assistant.prompts import NO_ANSWER_TOKEN
from ingest.interfaces import LanguageDetector

logger = logging.getLogger(__name__)

# A short question in each script the product's languages are written in. lingua sends a
# text of 120 characters or more to a second detector with models of its own
# (``ingest.language.LONG_TEXT_CHARS``), so each is also detected repeated.
SCRIPT_SAMPLES = (
    "How many proposals were received through dialogue conferences?",
    "Hà Tĩnh nhận được bao nhiêu kiến nghị qua các hội nghị đối thoại?",
    "كم عدد المقترحات التي تلقتها ها تينه من خلال مؤتمرات الحوار؟",
    "Сколько предложений получила провинция через конференции диалога?",
    "河静省通过对话会议收到了多少条建议？",
    "対話会議を通じていくつの提案が寄せられましたか？",
    "대화 회의를 통해 몇 개의 제안을 받았습니까?",
)
FIRST_PASSAGE = re.compile(r"^\[1\] (.*)$", re.MULTILINE)
FIGURE = re.compile(r"\d[\d.,]*")


class ScriptedLLM:
    """A model that cites the first passage it is shown, or names the first figure of a
    sentence it is asked about: enough for the answering path to run every check once.
    Implements ``assistant.llms.LLM``."""

    model = "warm-up"
    continues_answer = False

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int | None = None, stop: list[str] | None = None
    ) -> Iterator[str]:
        prompt = messages[-1]["content"]
        first = FIRST_PASSAGE.search(prompt)
        figure = FIGURE.search(prompt)
        if first:
            yield f"{first.group(1)} [1]."
        else:
            yield figure.group(0) if figure else NO_ANSWER_TOKEN

    def complete_chat(
        self, messages: list[dict], *, max_tokens: int | None = None, stop: list[str] | None = None
    ) -> str:
        return "".join(self.stream_chat(messages, max_tokens=max_tokens, stop=stop))

    def health(self) -> bool:
        return True


class Warmed(Protocol):
    """What the warm-up uses of ``assistant.service.Assistant`` (which calls it)."""

    detector: LanguageDetector
    llm: LLM
    answerer: Any

    def answerer_with(self, llm: LLM) -> Any: ...


def warm_up(assistant: Warmed, question: str) -> None:
    """Load, before the server listens, what the first question would load (see the module
    docstring). A model that cannot start is logged, not raised: the server still starts,
    ``/api/ready`` says the model is not there, and the first question tries again."""
    for sample in SCRIPT_SAMPLES:
        assistant.detector.detect(sample)
        assistant.detector.detect(" ".join([sample] * 4))
    assistant.answerer_with(ScriptedLLM()).ask(question)  # retrieval included
    assistant.answerer  # noqa: B018 (built now: its prompts are read from disk)
    load = getattr(assistant.llm, "load", None)  # a plugin's LLM may have none
    if load is not None:
        try:
            load()
        except LLMError as error:
            logger.warning("The language model did not start: %s", error.message)
