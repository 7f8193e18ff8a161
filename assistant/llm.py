"""Access to a chat LLM through any OpenAI-compatible endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, Protocol

ErrorKind = Literal["unavailable", "timeout", "auth", "context", "broken_stream", "bad_output"]


class LLMError(Exception):
    """A failure the user should read about; ``kind`` lets callers choose what to show."""

    def __init__(self, kind: ErrorKind, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


class LLM(Protocol):
    model: str

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int | None = None, stop: list[str] | None = None
    ) -> Iterator[str]:
        """Yield text deltas. Raises LLMError."""
        ...

    def complete_chat(
        self, messages: list[dict], *, max_tokens: int | None = None, stop: list[str] | None = None
    ) -> str: ...

    def health(self) -> bool: ...
