"""The product's one typed configuration object.

Sources, highest priority first: constructor arguments, ``ASSISTANT_*`` environment
variables (nested fields with ``__``, e.g. ``ASSISTANT_LLM__BASE_URL``), the TOML file
named by ``ASSISTANT_CONFIG`` (default ``./assistant.toml``), then the defaults below.
``Settings`` is an ``ingest.settings.IngestSettings`` (index, embedding, chunking,
language detection) with the product's own sections added, so ingest functions take it
as it is. docs/configuration.md lists every field; it is generated from this module.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ingest.settings import IngestSettings, Section


def bundled_corpus() -> Path:
    """The sample articles shipped with the product."""
    return Path(str(resources.files("assistant") / "corpus"))


def bundled_prompts() -> Path:
    """The prompt templates shipped with the product."""
    return Path(str(resources.files("prompts")))


class RetrievalSettings(Section):
    mode: str = Field(
        "hybrid",
        description="hybrid (dense + BM25 + per-language best + names, RRF), dense, bm25, "
        "chroma-search (dense + BM25 fused by Chroma's Search API on distributed or hosted "
        "Chroma; needs index.sparse_key), or a retriever a plugin registers.",
    )
    k: int = Field(5, ge=1, description="Passages returned by `search`.")
    candidates: int = Field(50, ge=1, description="Candidates each retriever hands to fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(1.0, description="RRF weight of the dense list.")
    bm25_weight: float = Field(1.0, description="RRF weight of the BM25 list.")
    names_numbers_weight: float = Field(
        1.0,
        description="RRF weight of a BM25 list over the query's capitalised words and numbers "
        "only: what a question shares with a passage in another language.",
    )
    names_across_scripts_weight: float = Field(
        1.0,
        ge=0.0,
        description="RRF weight of the best chunk of each document that writes one of the "
        "query's names in another script (matched on phonetic keys: 'Хатинь' = 'ها تينه' = "
        "'Ha Tinh'); 0 turns the list off.",
    )
    language_mean_share: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of its language's mean vector taken off each dense candidate before "
        "fusion (language-bias removal); 0 turns it off. Off, chosen on the gold set's dev "
        "half alone: 0.5 ranks its documents best (MRR, benchmarks/results/retrieval.json), "
        "but answering the dev half with it verified no more answers, refused one it "
        "answered before, and dropped the flagship question's Arabic passage from the top "
        "five (benchmarks/RESULTS.md).",
    )


class LLMSettings(Section):
    backend: str | None = Field(
        None,
        description="embedded (the bundled local model), openai (any OpenAI-compatible "
        "endpoint at base_url), or a plugin's; None = openai when base_url is set, else "
        "embedded.",
    )
    base_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1. "
        "None = the embedded local model (Qwen2.5-Coder-1.5B-Instruct via xllamacpp).",
    )
    model: str = Field(
        "qwen2.5-coder-1.5b-instruct",
        description="Model name sent to the endpoint (the embedded server answers to it too).",
    )
    api_key: SecretStr = Field(SecretStr("not-needed"), description="Key for the endpoint.")
    temperature: float = Field(
        0.0, description="Sampling temperature; 0 = greedy, the same answer every time."
    )
    max_tokens: int = Field(200, ge=1, description="Longest answer, in tokens.")
    timeout: float = Field(120.0, description="Seconds per request.")
    retries: int = Field(2, ge=0, description="Retries of transient errors, with backoff.")
    context_tokens: int = Field(4096, description="Context size of the embedded server.")
    threads: int | None = Field(None, description="Embedded server threads; None = all cores.")
    continues_answer: bool | None = Field(
        None,
        description="Whether the endpoint continues a final assistant message (llama.cpp "
        "does; OpenAI does not), so answers can be started in the asker's language "
        "(prompts/answer_start). None = yes for the embedded model, no for an endpoint.",
    )


class EvidenceSettings(Section):
    """What the readers are given (``assistant.answering.evidence``)."""

    passage_rank_penalty: float = Field(
        0.01,
        description="Sentence ranking: how much more similar (cosine) a sentence of a lower-"
        "ranked passage must be per rank (the retriever's fused ranking knows more than one "
        "sentence's embedding). Chosen on the dev half by how often the sentences sent hold "
        "the answer.",
    )
    number_bonus: float = Field(
        0.02,
        description="Sentence ranking: cosine added to a sentence holding a figure (news "
        "questions ask for figures, and e5 does not see them). Chosen with "
        "passage_rank_penalty.",
    )
    sentence_max_chars: int = Field(
        250,
        ge=1,
        description="Longer sentences are cut at clause punctuation into pieces of about this "
        "many characters (about 75 tokens of German): a prompt pays for every token.",
    )
    header_max_chars: int = Field(
        1000,
        ge=1,
        description="An article's line in the prompt (its title and date) is cut to this "
        "many characters, at a word.",
    )
    quotes: int = Field(
        2,
        ge=1,
        description="Sentences a 'not verified' reply quotes: the closest evidence, not a "
        "reading list.",
    )
    reader_sentences: int = Field(
        2,
        ge=0,
        description="The extractive reader's best candidates whose sentences the model reads "
        "too, so that the two readers can agree on a sentence retrieval ranked lower.",
    )


class CheckSettings(Section):
    """How an answer is checked against the sentences it cites (``assistant.answering
    .citations`` and ``checks``). Chosen on the gold set's dev half."""

    dense_floor: float = Field(
        0.75,
        description="e5 cosines crowd into a narrow band: unrelated sentences of the same news "
        "topic score about this, which maps to 0 support.",
    )
    dense_ceil: float = Field(
        0.90,
        description="The cosine of two translations of one sentence, which maps to full support.",
    )
    support_threshold: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="An answer sentence is supported by a cited sentence scoring at least "
        "this (0..1: the better of word overlap and the mapped cosine, weighed by the "
        "figures found).",
    )
    numberless_weight: float = Field(
        0.25,
        ge=0.0,
        le=1.0,
        description="Share of the similarity that still counts when none of an answer "
        "sentence's figures is in the cited sentence: the right topic with the wrong number "
        "supports nothing.",
    )
    spelled_out_below: int = Field(
        13,
        ge=0,
        description="Figures below this may be written as words in the source ('drei'), so "
        "the digit checks do not require them; the extractive reader reads such words.",
    )
    min_leaked_letters: int = Field(
        5,
        ge=1,
        description="Shorter words copied from a source are not counted as words of the "
        "source's language left in an answer: they are as likely names, abbreviations or "
        "words of both languages ('Party').",
    )
    min_name_letters: int = Field(
        3,
        ge=1,
        description="Two names agree across scripts only on a run of words whose phonetic "
        "keys hold at least this many letters: 'Anh' alone keys 'n'.",
    )


class ReaderSettings(Section):
    """The extractive reader (``assistant.answering.extractive``). Its numbers were chosen
    on the gold set's dev half (benchmarks/RESULTS.md, "The extractive reader")."""

    scope: Literal["document", "evidence"] = Field(
        "document",
        description="document: candidates from every sentence of the documents the evidence "
        "comes from; evidence: only from the retrieved passages' sentences.",
    )
    figure_words_before: int = Field(
        2, ge=0, description="Words before a figure or date compared with the question."
    )
    figure_words_after: int = Field(
        4, ge=0, description="Words after a figure or date compared with the question."
    )
    figure_context: Literal["window", "clause"] = Field(
        "window",
        description="What around a figure or a date is compared with the question: a window "
        "of words, or its clause (cut at punctuation and at 'and' in the product's languages).",
    )
    name_context: Literal["window", "clause"] = Field(
        "clause",
        description="The same for a name: its clause holds its role ('Chairman of the "
        "Provincial People's Committee Vo Trong Hai'), which a window runs past.",
    )
    name_words: int = Field(
        6, ge=0, description="Words either side of a name compared with the question."
    )
    unit_weight: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="For a count, the weight of the words right after the figure (its unit: "
        "'18087 proposals') compared with the words right after the question's 'how many'.",
    )
    unit_words: int = Field(3, ge=1, description="Words of a figure's unit and of the asked one.")
    off_role_penalty: float = Field(
        0.03,
        ge=0.0,
        description="Cosine taken off a candidate of a neighbouring role: a year for a count "
        "('2015 dialogues' is one), a lone year for a date, a count for a document's number.",
    )
    part_penalty: float = Field(
        0.04,
        ge=0.0,
        description="For a count, cosine taken off a figure its sentence gives as a part of "
        "an earlier one ('29 models, including 13 economic ones': 13), unless the question "
        "breaks something down itself ('among them'): a question about the whole asks for "
        "the total.",
    )
    own_language_name_penalty: float = Field(
        0.1,
        ge=0.0,
        description="Cosine taken off a name candidate that the language detector takes for "
        "words of its article's language ('Ständige Parteiausschuss' in German): names of "
        "people and places are mostly foreign to any one language's words.",
    )
    calibration_slope: float = Field(
        6.37,
        description="The reader's confidence is P(right) = 1 / (1 + exp(-(slope * lead + "
        "intercept))), lead being the best candidate's score over the best one of another "
        "value (cosine). Fitted on the dev half by `python -m benchmarks.reader_calibration "
        "--fit` (logistic regression); the lead predicts little there, so confidences stay "
        "near one half (benchmarks/results/reader.json has the reliability tables).",
    )
    calibration_intercept: float = Field(
        0.01, description="The intercept of that curve, fitted with the slope."
    )
    lone_candidate_lead: float = Field(
        0.047,
        description="The lead a candidate without any of another value counts as having: the "
        "largest lead of the dev half, as the fit saw it.",
    )
    max_candidates: int = Field(
        48,
        ge=1,
        description="Candidates scored at most, the most relevant sentences' first: each costs "
        "an embedding the first time its words are read (an Arabic article's names are many).",
    )
    uncased_name_share: float = Field(
        0.2,
        gt=0.0,
        le=1.0,
        description="In a script without capitals (Arabic, Hangul), a word written in more "
        "than this share of its document's sentences is a word of the language, not a name.",
    )
    min_clause_words: int = Field(
        4,
        ge=1,
        description="A name's clause shorter than this many words takes its neighbour in.",
    )
    kind_margin: float = Field(
        0.02,
        ge=0.0,
        description="A question none of whose words the question-word lists know takes the "
        "kind of the nearest example question only when it is nearer by this (cosine) than "
        "the next.",
    )


class AnswerSettings(Section):
    k: int = Field(5, ge=1, description="Passages retrieved; their best sentences are sent.")
    passage_max_sentences: int = Field(
        3, ge=1, description="Each passage is trimmed to its most relevant sentences."
    )
    max_sentences: int = Field(
        5, ge=1, description="Sentences sent in all: the most relevant of all the passages'."
    )
    evidence_scope: Literal["document", "mixed"] = Field(
        "document",
        description="document: the model reads sentences of the best-ranked document only, "
        "or of each document the question names when it names several (comparisons); "
        "mixed: the best sentences of all retrieved passages.",
    )
    second_document_margin: float = Field(
        0.05,
        description="With evidence_scope=document, another document's sentences are read "
        "too when its best sentence beats the best document's by this much (cosine).",
    )
    evidence: EvidenceSettings = EvidenceSettings()
    checks: CheckSettings = CheckSettings()
    reader: ReaderSettings = ReaderSettings()
    key_fact_confidence: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="The extractive reader's confidence (a probability, calibrated on the dev "
        "half) from which its key fact is shown before the answer (the key fact card, "
        "labelled 'checking…'), and from which a refusal of the model gives way to a 'not "
        "verified' reply quoting that sentence: more likely right than not.",
    )
    tie_break: bool = Field(
        False,
        description="When the model's answer and the extractive reader name different "
        "facts, the model chooses once between the two, each shown with its sentence; the "
        "answer is verified when it keeps its own. Off: such an answer is not verified. Off "
        "by default: on the gold set's dev half the model kept its own wrong fact as often "
        "as its right one (benchmarks/RESULTS.md).",
    )
    verify_unread: bool = Field(
        False,
        description="Whether an answer to a question the extractive reader does not read (no "
        "figure, date or name asked: a term, a list, a reason), or without an embedder, may "
        "be verified by the other checks alone. Off: only an answer two readers agree on is "
        "shown as verified (on the dev half no such answer was verified either way).",
    )
    follow_ups: Literal["join", "rewrite"] = Field(
        "join",
        description="join: a follow-up is searched and read together with the asker's "
        "previous question, without a model call; rewrite: the model first rewrites it as "
        "a standalone question.",
    )
    best_last: bool = Field(
        True,
        description="Send the passage with the best sentence last, nearest the question.",
    )
    min_evidence: float = Field(
        0.15,
        ge=0.0,
        le=1.0,
        description="Below this best question-to-sentence evidence (0..1) the passages are "
        "taken to be about something else: refused without asking the model. Every answer "
        "is checked anyway, so it only keeps off-topic questions from the model; chosen on "
        "the gold set's dev half as the highest that refuses no answerable question.",
    )
    prompts_dir: Path | None = Field(
        None, description="Directory overriding the bundled prompt templates."
    )


class ServerSettings(Section):
    host: str = Field("127.0.0.1", description="Address `assistant serve` listens on.")
    port: int = Field(7860, description="Port `assistant serve` listens on.")
    root_path: str = Field("", description="Sub-path when served behind a reverse proxy.")
    public_url: str | None = Field(
        None,
        description="The URL users reach the app at, sub-path included (https://news.example"
        "/assistant), written into the embed demo, the API docs and the chat's links; set it "
        "when the chat is embedded as a web component on another site. None = links relative "
        "to root_path: never built from the request's Host header.",
    )
    allowed_origins: list[str] = Field(default_factory=list, description="CORS origins.")
    frame_ancestors: list[str] = Field(
        default_factory=lambda: ["'self'"], description="Who may embed the UI in a frame."
    )
    api_key: SecretStr | None = Field(
        None,
        description="Required (X-API-Key, or a Bearer token) on /api, /v1 and Gradio's "
        "/gradio_api, where the chat's users pass with their basic auth or, without it, the "
        "session cookie the chat's page sets.",
    )
    ui_username: str | None = Field(
        None, description="With ui_password: HTTP basic auth on the chat."
    )
    ui_password: SecretStr | None = Field(
        None, description="With ui_username: HTTP basic auth on the chat."
    )
    max_upload_mb: float = Field(
        10.0,
        gt=0,
        description="Largest file the library page (/library) takes for the index; a larger "
        "one is reported and left out. Uploads need ui_username and ui_password.",
    )
    max_upload_files: int = Field(20, ge=1, description="Files one upload may hold.")
    max_question_chars: int = Field(2000, description="Longer questions get 422.")
    example_questions: list[str] = Field(
        default_factory=list,
        description="The chat's example questions, shown as they are. Empty: questions "
        "about the newest documents of the index, from their titles, in the chat's language "
        "(none while the index is empty).",
    )
    max_request_bytes: int = Field(64_000, description="Larger request bodies get 413.")
    max_embedding_request_bytes: int = Field(
        4_000_000,
        description="The same for POST /v1/embeddings, whose batches of passages are larger "
        "than questions (32 chunks of 900 characters of CJK text are about 90 kB).",
    )
    concurrent_answers: int = Field(
        1,
        ge=1,
        description="Answers generated at once (/api/ask, /v1/chat/completions and the chat "
        "together); the others wait in a queue. The embedded model has one slot: raise it "
        "for an LLM server that serves several requests at once.",
    )
    max_pending: int = Field(
        8,
        ge=0,
        description="Answers that may wait for a free slot. Beyond it the API answers 429 "
        "with Retry-After and the chat says it is busy.",
    )
    max_answers_per_client: int = Field(
        2,
        ge=1,
        description="Answers one client (one IP address) may have running or waiting at "
        "once; more get 429, so one greedy client cannot fill the queue. Waiting answers "
        "get a slot client by client, the least recently served first.",
    )
    client_requests_per_minute: int = Field(
        30,
        ge=0,
        description="Questions one client (one IP address) may ask per minute, in bursts of "
        "up to as many (a token bucket); more get 429 with Retry-After. 0 = no limit.",
    )
    api_key_requests_per_minute: int = Field(
        600,
        ge=0,
        description="Questions asked with the API key per minute, all clients together, in "
        "bursts of up to as many; more get 429 with Retry-After. 0 = no limit.",
    )

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an http(s) URL such as https://news.example/, not {url!r}")
        if parts.query or parts.fragment:
            raise ValueError(f"must have no query or fragment: {url!r}")
        return url.rstrip("/")

    @property
    def ui_auth_configured(self) -> bool:
        """Whether the chat has a sign-in (basic auth): both ui_username and ui_password."""
        return bool(self.ui_username and self.ui_password)

    @property
    def max_upload_bytes(self) -> int:
        """``max_upload_mb`` in bytes."""
        return int(self.max_upload_mb * 1_000_000)


class Settings(BaseSettings, IngestSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    corpus_dir: Path = Field(
        default_factory=bundled_corpus, description="What `assistant ingest` reads by default."
    )
    retrieval: RetrievalSettings = RetrievalSettings()
    llm: LLMSettings = LLMSettings()
    answer: AnswerSettings = AnswerSettings()
    server: ServerSettings = ServerSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("ASSISTANT_CONFIG", "assistant.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )


def settings_table() -> str:
    """Every setting as a Markdown table row (name, default, environment variable,
    meaning), for docs/configuration.md (generated by cog, checked in CI)."""
    rows = ["| setting | default | environment variable | meaning |", "|---|---|---|---|"]
    for path, field in _fields(Settings):
        default = field.get_default(call_default_factory=False)
        if field.default_factory is bundled_corpus:
            default = "(the bundled corpus)"
        elif field.default_factory is not None:  # a list: as TOML and the variable write it
            default = json.dumps(field.default_factory())
        elif isinstance(default, Section):
            continue
        elif default is None:
            default = "none"
        elif isinstance(default, bool):
            default = str(default).lower()
        env = "ASSISTANT_" + path.upper().replace(".", "__")
        meaning = " ".join((field.description or "").split())
        rows.append(f"| `{path}` | `{default}` | `{env}` | {meaning} |")
    return "\n".join(rows)


def _fields(model: type, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, Section):
            found += _fields(annotation, f"{prefix}{name}.")
        else:
            found.append((prefix + name, field))
    return found
