"""``POST /v1/embeddings``: the product's own embedder over OpenAI's embeddings API, so one
instance can embed for others (their ``embedding.backend = "openai"``,
``ingest.openai_embedding``) and any OpenAI client can use it."""

from __future__ import annotations

import base64

import numpy as np
from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from assistant.server.dependencies import AssistantDep, SettingsDep, require_api_key
from assistant.server.errors import ApiError
from assistant.server.routers.openai import approximate_tokens
from assistant.server.schemas import MAX_EMBEDDING_INPUTS, EmbeddingList, EmbeddingRequest
from assistant.service import Assistant
from assistant.settings import Settings

PATH = "/v1/embeddings"

router = APIRouter(dependencies=[Depends(require_api_key)])


def kinds(texts: list[str], settings: Settings, default: str) -> list[tuple[str, str]]:
    """(kind, text without its prefix) of each text: ``query`` or ``passage`` by the e5
    prefix it starts with, else ``default``. Reading the prefixes back is what makes a
    remote ``openai`` embedder, which writes them into the texts as any server needs, get
    the vectors of the in-process embedder, which adds them itself."""
    prefixes = (
        ("query", settings.embedding.query_prefix),
        ("passage", settings.embedding.passage_prefix),
    )
    found = []
    for text in texts:
        kind, bare = default, text
        for name, prefix in prefixes:
            if prefix and text.startswith(prefix):
                kind, bare = name, text[len(prefix) :]
                break
        found.append((kind, bare))
    return found


def identity(assistant: Assistant) -> tuple[str, int]:
    """The embedder's name and dimension. Run in a worker thread, as ``embed``: the
    embedder loads on first use (``Assistant.warm_up`` loads it before the server listens)."""
    embedder = assistant.embedder
    return embedder.name, embedder.dimension


def embed(assistant: Assistant, kinded: list[tuple[str, str]]) -> np.ndarray:
    """The vectors of ``kinded``, in its order. Run in a worker thread: the embedder holds
    a core while it works, and the event loop must go on answering (``/api/health``)."""
    embedder = assistant.embedder
    vectors = np.zeros((len(kinded), embedder.dimension), np.float32)
    for kind, method in (("query", embedder.embed_queries), ("passage", embedder.embed_passages)):
        rows = [row for row, (own, _) in enumerate(kinded) if own == kind]
        if rows:
            vectors[rows] = method([kinded[row][1] for row in rows])
    return vectors


@router.post(
    PATH,
    response_model=EmbeddingList,
    summary="OpenAI-compatible embeddings, by the index's own embedder",
)
async def embeddings(
    body: EmbeddingRequest, assistant: AssistantDep, settings: SettingsDep
) -> dict:
    """The vectors of the texts in `input`, by the embedder that built this server's index
    (multilingual-e5-small by default), L2-normalised, as OpenAI's API gives them.

    Query or passage: e5 embeds a question (`query: `) differently from a text that answers
    it (`passage: `). A text that starts with the server's prefix is embedded as that kind
    (the prefix is the model's own, as text-embeddings-inference or vLLM would embed it);
    a text without one as `input_type` says (extension field: `query` or `passage`),
    `passage` when absent. So `"query: How many proposals?"` and `{"input": "How many
    proposals?", "input_type": "query"}` give the same vector.

    `model` must be the server's `embedding.model` or the embedder's full name, which the
    response's `model` carries (model and backend: `multilingual-e5-small@onnx-int8-u8u8`):
    an index built with these vectors records it, and is rebuilt rather than mixed with
    another model's. `usage` is approximate (see `/v1/chat/completions`). The same API key
    as `/v1/chat/completions`; bodies up to `server.max_embedding_request_bytes`."""
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts or len(texts) > MAX_EMBEDDING_INPUTS:
        raise ApiError(
            422,
            "invalid_request_error",
            f"input: send 1 to {MAX_EMBEDDING_INPUTS} texts, not {len(texts)}.",
        )
    empty = next((number for number, text in enumerate(texts) if not text.strip()), None)
    if empty is not None:
        raise ApiError(422, "invalid_request_error", f"input.{empty}: the text is empty.")
    kinded = kinds(texts, settings, body.input_type or "passage")
    name, dimension = await run_in_threadpool(identity, assistant)
    if body.model not in (settings.embedding.model, name):
        raise ApiError(
            404,
            "model_not_found",
            f"This server embeds with {name}: send model {settings.embedding.model!r} "
            f"(or {name!r}), not {body.model!r}.",
        )
    if body.dimensions is not None and body.dimensions != dimension:
        raise ApiError(
            422,
            "invalid_request_error",
            f"dimensions: {name} gives {dimension} dimensions; send {dimension} or leave it out.",
        )
    vectors = await run_in_threadpool(embed, assistant, kinded)
    data = [
        {"object": "embedding", "index": index, "embedding": encoded(vector, body.encoding_format)}
        for index, vector in enumerate(vectors)
    ]
    tokens = sum(approximate_tokens(text) for text in texts)
    return {
        "object": "list",
        "data": data,
        "model": name,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def encoded(vector: np.ndarray, encoding_format: str) -> list[float] | str:
    """A vector as a list of floats, or as OpenAI's base64 of little-endian float32."""
    if encoding_format == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
    return vector.tolist()
