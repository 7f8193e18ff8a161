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
    """Seconds from the question: to the sources (``retrieve_s``), to the key fact card
    (``key_fact_s``, None when none was shown), to the first token of the answer shown
    (``ttft_s``: the answer is shown once checked), to the end; and each stage's own
    seconds (``stages``: follow_up, retrieve, evidence, extractive, llm_reader, language,
    checks, tie_break), in the order they ran."""

    retrieve_s: float = 0.0
    ttft_s: float | None = None
    total_s: float = 0.0
    key_fact_s: float | None = None
    stages: dict[str, float] = field(default_factory=dict)


KeyFactStatus = Literal["checking", "verified", "not_verified"]


@dataclass
class KeyFact:
    """The answer's key fact as the extractive reader read it off one sentence, without
    the language model: a figure, a date or a name, as the source writes it, with the
    sentence it stands in (``citation``, supported only once the answer agreeing with it
    is verified). ``kind`` is what the question asks for (count, number, person, date,
    year, period, place) and ``confidence`` (0..1) how far it leads the reader's other
    candidates. ``status`` is "checking" while the answer is written, then "verified"
    when the verified answer states it, else "not_verified"."""

    text: str
    kind: str
    confidence: float
    citation: Citation
    status: KeyFactStatus = "checking"


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
    key_fact: KeyFact | None = None  # the extractive reader's, when it was confident

    def to_dict(self) -> dict:
        return asdict(self)


# Events of ``stream()``, in this order: ProgressEvents while a follow-up is condensed, one
# SourcesEvent, ProgressEvents, at most one KeyFactEvent (as soon as the extractive reader
# is confident, before the model writes), more ProgressEvents, the TokenEvent(s), one
# CitationsEvent (the final answer, with the key fact's final status), then DoneEvent. An
# ErrorEvent may replace the tokens. Tokens come only once the answer is checked: what is
# shown is what stays.
@dataclass
class SourcesEvent:
    passages: list[Passage]
    language: str
    type: Literal["sources"] = "sources"


ProgressStage = Literal["condensing", "reading", "writing", "checking"]


@dataclass
class ProgressEvent:
    """What the answerer is doing while nothing can be shown yet: one per token the model
    writes, so a consumer that stops reading the stream stops the model within a token."""

    stage: ProgressStage
    passages: int = 0  # passages the model reads
    tokens: int = 0  # tokens the model has written at this stage
    type: Literal["progress"] = "progress"


@dataclass
class KeyFactEvent:
    """The key fact, shown before the answer is written (status "checking")."""

    key_fact: KeyFact
    type: Literal["key_fact"] = "key_fact"


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
    key_fact: KeyFact | None = None  # with its final status
    type: Literal["citations"] = "citations"


@dataclass
class DoneEvent:
    result: Answer
    type: Literal["done"] = "done"


Event = (
    SourcesEvent
    | ProgressEvent
    | KeyFactEvent
    | TokenEvent
    | ErrorEvent
    | CitationsEvent
    | DoneEvent
)
