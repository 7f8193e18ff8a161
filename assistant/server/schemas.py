"""The shapes of the API's requests and responses (pydantic models, in /openapi.json)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.feedback import MAX_COMMENT_CHARS, AnswerStatus, Rating
from assistant.types import Citation, KeyFact, Passage

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
        False,
        description="Answer with Server-Sent Events: sources, key_fact (when the extractive "
        "reader is confident), token…, citations, done.",
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


class StreamOptions(BaseModel):
    """OpenAI's ``stream_options``."""

    model_config = ConfigDict(extra="allow")

    include_usage: bool = Field(
        False,
        description="Send a last chunk, before `[DONE]`, with `usage` and no `choices`.",
    )


class ChatCompletionRequest(BaseModel):
    """The body of ``POST /v1/chat/completions``. Sampling fields (temperature,
    max_tokens, ...) are accepted and ignored: the product's settings decide how its model
    answers."""

    model_config = ConfigDict(extra="allow")

    model: str = PRODUCT_MODEL
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None


class Usage(BaseModel):
    """Token counts, approximated: the product does not send the client's text to its
    model as it is (it adds the passages and its instructions) and its model exposes no
    tokenizer, so the counts are of the client's text alone, one token per word, per
    punctuation mark and per Chinese, Japanese or Korean character. They track the
    length of what was asked and answered, not the model's work."""

    prompt_tokens: int = Field(description="Approximate tokens of the request's messages.")
    completion_tokens: int = Field(description="Approximate tokens of the answer's text.")
    total_tokens: int


class AssistantMessage(BaseModel):
    """The answer, as an OpenAI assistant message."""

    role: Literal["assistant"] = "assistant"
    content: str = Field(
        description="The answer, its `[n]` markers those of `citations`; the same text "
        "whether streamed or not."
    )


class CompletionChoice(BaseModel):
    """The one choice of a ``chat.completion``."""

    index: int
    message: AssistantMessage
    finish_reason: Literal["stop"]


class ChatCompletion(BaseModel):
    """An OpenAI ``chat.completion``, with the product's own fields after ``usage``; a
    stream carries ``sources`` on its first chunk, ``key_fact`` on a chunk of its own with
    an empty delta as soon as it is read (before the answer), and the fields from
    ``citations`` (``key_fact`` with its final status too) on its last chunk with a
    ``finish_reason``."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage
    sources: list[Passage] = Field(description="Extension: the passages retrieved.")
    citations: list[Citation] = Field(
        description="Extension: what each `[n]` marker of the answer cites; in a reply that "
        "is not verified, the closest evidence (`supported` false)."
    )
    refused: bool = Field(description="Extension: the articles hold nothing on the question.")
    verified: bool = Field(description="Extension: every sentence was checked against its source.")
    unsupported_numbers: list[str] = Field(description="Extension: figures no source supports.")
    key_fact: KeyFact | None = Field(
        None,
        description="Extension: the answer's key fact (a figure, date or name) as the "
        "extractive reader read it off one source sentence, without the language model; "
        "`status` verified when the verified answer states it. None when the reader was not "
        "confident.",
    )


MAX_EMBEDDING_INPUTS = 2048  # texts per request, as OpenAI's own limit


class EmbeddingRequest(BaseModel):
    """The body of ``POST /v1/embeddings``, OpenAI's, with one extension field
    (``input_type``); ``user`` and other OpenAI fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    input: str | list[str] = Field(
        description="A text or a list of texts (token arrays are not taken). A text that "
        "starts with the server's `embedding.query_prefix` (`query: `) is embedded as a "
        "query, one with its `embedding.passage_prefix` (`passage: `) as a passage."
    )
    model: str = Field(
        description="The server's `embedding.model` (multilingual-e5-small by default) or "
        "the embedder's full name that responses carry in `model`."
    )
    encoding_format: Literal["float", "base64"] = Field(
        "float", description="base64: each vector as little-endian float32 bytes, base64."
    )
    dimensions: int | None = Field(
        None, description="Only the model's own dimension is accepted (384 for e5-small)."
    )
    input_type: Literal["query", "passage"] | None = Field(
        None,
        description="Extension: how to embed the texts that carry no prefix; none = passage.",
    )


class Embedding(BaseModel):
    """One vector of ``POST /v1/embeddings``, L2-normalised."""

    object: Literal["embedding"] = "embedding"
    index: int = Field(description="The position of its text in `input`.")
    embedding: list[float] | str = Field(description="The vector, or base64 (encoding_format).")


class EmbeddingUsage(BaseModel):
    """Approximate tokens of the input texts (as ``Usage``)."""

    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    """The response of ``POST /v1/embeddings``. ``model`` names the embedder that made the
    vectors (model and backend, ``multilingual-e5-small@onnx-int8-u8u8``): an index
    records it, so that vectors of two models are never mixed."""

    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


class Liveness(BaseModel):
    """``GET /api/health``: the server process answers. Nothing is checked."""

    status: Literal["ok"] = "ok"


class IndexState(BaseModel):
    """The index as its last background check found it; None = not known yet."""

    open: bool | None = Field(description="Whether the index could be read.")
    documents: int | None = Field(description="Documents indexed.")
    chunks: int | None = Field(description="Chunks (passages) indexed.")
    checked_s_ago: float | None = Field(description="Seconds since that check.")


class LLMState(BaseModel):
    """The language model as its last background check found it; None = not known yet."""

    model: str
    loaded: bool | None = Field(
        description="Whether the model answers now. `assistant serve` loads the embedded "
        "model before it listens; an app made otherwise loads it on the first question, so "
        "false before it is no fault."
    )
    checked_s_ago: float | None = Field(description="Seconds since that check.")


class ReadinessReport(BaseModel):
    """``GET /api/ready``: 200 when ``ready`` (the index is open and holds documents),
    503 otherwise. The checks run in the background; a request never waits on them."""

    ready: bool
    index: IndexState
    llm: LLMState


class PublicDocument(BaseModel):
    """``GET /api/documents/{doc_id}``: a cleaned article as the API shows it. Where the
    server read it from (``source_path``) and what ingest derived from it stay inside."""

    doc_id: str = Field(description="The file name relative to the ingested folder.")
    title: str
    url: str | None = Field(description="The article's own URL, when the source names one.")
    date: str | None
    language: str = Field(description="ISO 639-1 code, 'und' when not detected.")
    aliases: list[str] = Field(description="Other doc_ids holding the identical text.")
    text: str = Field(description="The cleaned text; citations' start/end index into it.")


class SentenceTranslation(BaseModel):
    """``GET /api/documents/{doc_id}/translation``: a cited sentence in the asker's
    language, to read beside the original. It is never evidence: the answers and their
    checks read the article's own words."""

    text: str = Field(description="The sentence in `language`.")
    language: str = Field(description="ISO 639-1 code of `text`.")
    source_language: str = Field(
        description="The article's language, ISO 639-1 ('und' when not detected)."
    )
    machine_translation: bool = Field(
        description="true: translated by the language model, to be shown labelled as a "
        "machine translation; false: the sentence is in `language` already and `text` is "
        "its own words."
    )


class FeedbackCitation(BaseModel):
    """A citation of a rated answer: its marker, the article and the cited sentence."""

    marker: int
    doc_id: str = Field(min_length=1)
    quote: str


class FeedbackRequest(BaseModel):
    """The body of ``POST /api/feedback``: a rating of an answer ``/api/ask`` gave, with
    what it answered (the answer's own fields)."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    history: list[HistoryMessage] = Field(
        default_factory=list, description="The earlier turns the question was asked with."
    )
    answer: str = Field(description="The answer's text, with its `[n]` markers.")
    status: AnswerStatus = Field(
        description="verified (the answer's `verified`), refused (its `refused`), or "
        "not_verified (neither)."
    )
    citations: list[FeedbackCitation] = Field(default_factory=list)
    language: str = Field(min_length=1, max_length=16, description="The answer's `language`.")
    rating: Rating = Field(description="up (👍) or down (👎).")
    comment: str = Field("", max_length=MAX_COMMENT_CHARS)


class FeedbackReceipt(BaseModel):
    """The stored rating: ``answer_id`` names the answer; rating it again replaces it."""

    answer_id: str
    time: str = Field(description="When it was stored, UTC, ISO 8601.")


class DocumentListing(BaseModel):
    """One document of ``GET /api/documents``: its metadata, without its text."""

    doc_id: str = Field(description="The file name relative to the ingested folder.")
    title: str
    language: str = Field(description="ISO 639-1 code, 'und' when not detected.")
    date: str | None
    url: str | None = Field(description="The article's own URL, when the source names one.")
    chunks: int = Field(description="Passages the document was cut into for retrieval.")


class DocumentList(BaseModel):
    """``GET /api/documents``: a page of the indexed documents, newest first."""

    documents: list[DocumentListing]
    total: int = Field(description="Documents matching the query, on all pages.")
    offset: int
    limit: int


BUSY_RESPONSE: dict = {
    429: {
        "description": "Not admitted: the queue of questions waiting for the model is full "
        "(server.max_pending), the client has its share running or waiting "
        "(server.max_answers_per_client), or a rate limit is reached "
        "(server.client_requests_per_minute, server.api_key_requests_per_minute).",
        "headers": {
            "Retry-After": {
                "description": "Seconds after which to ask again.",
                "schema": {"type": "integer"},
            }
        },
    }
}
