"""What every LLM backend is: the ``LLM`` interface and the one error it raises.

Backends (``assistant.llms.openai_compatible``, ``assistant.llms.embedded``, or a plugin's)
register under the ``news_assistant.llms`` entry-point group and are chosen by
``llm.backend``; nothing outside a backend's module knows which one runs. Every failure
surfaces as an ``LLMError`` whose ``kind`` callers can branch on and whose message tells
the user what to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, Protocol

ErrorKind = Literal["unavailable", "timeout", "auth", "context", "broken_stream", "bad_output"]


class LLMError(Exception):
    """A failure the user should read about; ``kind`` lets callers choose what to show."""

    def __init__(self, kind: ErrorKind, message: str, *, empty: bool = False):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.empty = empty  # the model returned no text at all


class LLM(Protocol):
    """A chat model. ``model`` is the name it answers to; ``continues_answer`` tells
    whether a final assistant message in ``messages`` is continued rather than answered
    (llama.cpp's server does, OpenAI's does not)."""

    model: str
    continues_answer: bool

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int | None = None, stop: list[str] | None = None
    ) -> Iterator[str]:
        """Yield the reply's text deltas. Raises LLMError."""
        ...

    def complete_chat(
        self, messages: list[dict], *, max_tokens: int | None = None, stop: list[str] | None = None
    ) -> str:
        """The whole reply. Raises LLMError."""
        ...

    def health(self) -> bool:
        """Whether the model answers now; must not start or load anything."""
        ...
