"""The shapes of the API's requests and responses (pydantic models, in /openapi.json)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PRODUCT_MODEL = "news-assistant"  # the name OpenAI clients use for the product itself


class HistoryMessage(BaseModel):
    """One earlier turn of the conversation."""

    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    """The body of ``POST /api/ask``."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    history: list[HistoryMessage] = Field(
        default_factory=list, description="Earlier turns, oldest first, for follow-up questions."
    )
    language: str | None = Field(None, max_length=16, description="ISO 639-1 code.")
    k: int | None = Field(None, ge=1, le=50, description="Passages sent to the LLM.")
    stream: bool = Field(
        False, description="Answer with Server-Sent Events: sources, token…, citations, done."
    )


class ContentPart(BaseModel):
    """A part of an OpenAI message's content; only ``text`` parts are read."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str = ""


class ChatMessage(BaseModel):
    """An OpenAI chat message, its content a string or a list of parts."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[ContentPart] | None = None

    @property
    def text(self) -> str:
        """The message's text, its text parts joined."""
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content if part.type == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """The body of ``POST /v1/chat/completions``. Sampling fields (temperature,
    max_tokens, ...) are accepted and ignored: the product's settings decide how its model
    answers."""

    model_config = ConfigDict(extra="allow")

    model: str = PRODUCT_MODEL
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
