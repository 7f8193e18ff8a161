"""What searching and answering return. ``Passage.to_dict`` is the public `search --json`
shape and ``Answer.to_dict`` the public `ask --json` shape, shared by the CLI, the HTTP
API, the chat and the evaluations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal


@dataclass
class Passage:
    """A retrieved chunk (``ingest.types.Chunk``) with its retrieval score. Its
    ``to_dict`` is the public `search --json` shape."""

    doc_id: str
    chunk_id: str
    title: str
    language: str
    score: float
    start: int
    end: int
    text: str

    def to_dict(self) -> dict:
        return asdict(self)


History = list[dict]  # [{"role": "user" | "assistant", "content": str}, ...]


@dataclass
class Citation:
    marker: int  # the n of "[n]" in the final answer text
    doc_id: str
    chunk_id: str
    title: str
    quote: str  # the sentence of the passage that supports the claim
    start: int  # character offsets of ``quote`` in the cleaned document text
    end: int
    supported: bool


@dataclass
class Timings:
    retrieve_s: float = 0.0
    ttft_s: float | None = None
    total_s: float = 0.0


@dataclass
class Answer:
    """An answer is one of three things. ``verified``: its every sentence was checked
    against the sentence it cites. ``refused``: the articles hold nothing on the question.
    Neither: a "not verified" reply, which says so in the asker's language and cites the
    closest evidence (citations with ``supported`` false) instead of giving an answer."""

    question: str
    language: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    model: str = ""
    timings: Timings = field(default_factory=Timings)
    unsupported_numbers: list[str] = field(default_factory=list)
    verified: bool = False
    problems: list[str] = field(default_factory=list)  # why the model's answer was not verified
    error: str | None = None  # set when the LLM failed; passages are still returned

    def to_dict(self) -> dict:
        return asdict(self)


# Events of ``stream()``, in this order: ProgressEvents while a follow-up is condensed, one
# SourcesEvent, ProgressEvents, the TokenEvent(s), one CitationsEvent (the final answer),
# then DoneEvent. An ErrorEvent may replace the tokens. Tokens come only once the answer is
# checked: what is shown is what stays.
@dataclass
class SourcesEvent:
    passages: list[Passage]
    language: str
    type: Literal["sources"] = "sources"


ProgressStage = Literal["condensing", "writing", "checking"]


@dataclass
class ProgressEvent:
    """What the answerer is doing while nothing can be shown yet: one per token the model
    writes, so a consumer that stops reading the stream stops the model within a token."""

    stage: ProgressStage
    passages: int = 0  # passages the model reads
    tokens: int = 0  # tokens the model has written at this stage
    type: Literal["progress"] = "progress"


@dataclass
class TokenEvent:
    text: str
    type: Literal["token"] = "token"


@dataclass
class ErrorEvent:
    message: str
    kind: str  # "unavailable" | "timeout" | "auth" | "context" | "broken_stream" | "bad_output"
    type: Literal["error"] = "error"


@dataclass
class CitationsEvent:
    answer: str  # the final answer text after marker repair
    citations: list[Citation]
    refused: bool
    unsupported_numbers: list[str]
    verified: bool = False
    type: Literal["citations"] = "citations"


@dataclass
class DoneEvent:
    result: Answer
    type: Literal["done"] = "done"


Event = SourcesEvent | ProgressEvent | TokenEvent | ErrorEvent | CitationsEvent | DoneEvent
