"""The ``openai`` embedder: any OpenAI-compatible ``/v1/embeddings`` server
(text-embeddings-inference, vLLM, Infinity, Ollama, OpenAI, or another `assistant serve`),
so that the model can run on other machines (a GPU server, a pool behind a load balancer)
while ingest and the app servers stay small.

e5 wants ``query: ``/``passage: `` before each text. Generic servers embed what they are
sent, so the prefixes (``embedding.query_prefix``/``passage_prefix``) are written into the
texts here; `assistant serve`'s own ``/v1/embeddings`` reads them back to tell queries from
passages, so it gives the same vectors as its in-process embedder.

The embedder's ``name`` is the model the server says it answered with (the ``model`` field
of its responses; the requested name when it gives none), learnt from one small request
when first needed. That name, with the dimension, prefixes every stored document's content
hash (``ingest.pipeline.content_hash``): an index built by another model, in process or
remote, is rebuilt or refused (``ForeignEmbedderError``), never mixed with this one's. A
server that changes model in the middle of a run is an error for the same reason."""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx
import numpy as np

from ingest.embedding import DEFAULT_BATCH_SIZES, l2_normalise
from ingest.errors import RemoteEmbeddingError
from ingest.settings import IngestSettings

# Sent once to learn the model's name and dimension.
PROBE_TEXT = "probe"
# Transient: worth the same request again after a pause.
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_WAIT_S = 30.0  # the longest pause between tries, whatever Retry-After says
BASE_URL_SETTING = "embedding.remote.base_url (ASSISTANT_EMBEDDING__REMOTE__BASE_URL)"
API_KEY_SETTING = "embedding.remote.api_key (ASSISTANT_EMBEDDING__REMOTE__API_KEY)"


def make_openai(settings: IngestSettings) -> OpenAIEmbedder:
    """The ``openai`` embedder over ``embedding.remote``'s server."""
    config = settings.embedding
    remote = config.remote
    if not remote.base_url:
        raise RemoteEmbeddingError(
            f"embedding.backend is 'openai' but {BASE_URL_SETTING} is not set: set it to the "
            "embeddings server's OpenAI base URL, e.g. http://tei.internal:8080/v1."
        )
    return OpenAIEmbedder(
        remote.base_url,
        remote.model or config.model,
        api_key=remote.api_key.get_secret_value() if remote.api_key else None,
        batch_size=config.batch_size or DEFAULT_BATCH_SIZES["openai"],
        timeout_s=remote.timeout_s,
        retries=remote.retries,
        query_prefix=config.query_prefix,
        passage_prefix=config.passage_prefix,
    )


class OpenAIEmbedder:
    """Texts embedded by an OpenAI-compatible server, ``batch_size`` per request, with
    ``retries`` retries of connection errors, timeouts, 429 and 5xx (exponential backoff
    from ``backoff_s``, or the server's ``Retry-After``). Implements ``Embedder``."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZES["openai"],
        timeout_s: float = 60.0,
        retries: int = 4,
        query_prefix: str = "query: ",
        passage_prefix: str = "passage: ",
        backoff_s: float = 0.5,
    ):
        self.url = base_url.rstrip("/") + "/embeddings"
        self.model = model
        self.batch_size = batch_size
        self.retries = retries
        self.backoff_s = backoff_s
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout_s, headers=headers)
        self._identity: tuple[str, int] | None = None  # (model answered, dimension)

    @property
    def name(self) -> str:
        """The model that embeds, as the server names it."""
        return self._learn()[0]

    @property
    def dimension(self) -> int:
        return self._learn()[1]

    def _learn(self) -> tuple[str, int]:
        if self._identity is None:
            self._request([self.passage_prefix + PROBE_TEXT])
        assert self._identity is not None
        return self._identity

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self.passage_prefix)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self.query_prefix)

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        prefixed = [prefix + text for text in texts]
        parts = [
            self._request(prefixed[first : first + self.batch_size])
            for first in range(0, len(prefixed), self.batch_size)
        ]
        return l2_normalise(np.concatenate(parts))

    def _request(self, texts: list[str]) -> np.ndarray:
        """One request's vectors, in the order of ``texts``, after retries if need be."""
        body = {"input": texts, "model": self.model, "encoding_format": "float"}
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._client.post(self.url, json=body)
            except httpx.TransportError as error:  # refused, reset, timed out
                if last:
                    raise RemoteEmbeddingError(
                        f"cannot reach the embeddings server at {self.url} after "
                        f"{attempt + 1} tries ({type(error).__name__}: {error}). Start it, or "
                        f"set {BASE_URL_SETTING} to a running one."
                    ) from error
                self._pause(attempt, None)
                continue
            if response.status_code in RETRY_STATUSES and not last:
                self._pause(attempt, response.headers.get("retry-after"))
                continue
            if response.status_code != 200:
                raise RemoteEmbeddingError(self._refusal(response, attempt + 1))
            return self._vectors(response, len(texts))
        raise AssertionError("unreachable: the last try returns or raises")

    def _pause(self, attempt: int, retry_after: str | None) -> None:
        wait = self.backoff_s * 2**attempt
        if retry_after and retry_after.strip().isdigit():
            wait = float(retry_after)
        time.sleep(min(wait, MAX_WAIT_S))

    def _refusal(self, response: httpx.Response, tries: int) -> str:
        """What went wrong, in the server's words, and which setting to change."""
        status, detail = response.status_code, _detail(response)
        said = f"the embeddings server at {self.url} answered HTTP {status} ({detail})"
        if status in (401, 403):
            return f"{said}. Set {API_KEY_SETTING} to a key it accepts."
        if status == 404:
            return (
                f"{said}. {BASE_URL_SETTING} must be the server's OpenAI base URL, ending in "
                f"/v1 (http://host:8080/v1), and the model ({self.model!r}, "
                "embedding.remote.model) one it serves."
            )
        if status in RETRY_STATUSES:
            return f"{said} {tries} times. Check the server's logs, or lower embedding.batch_size."
        return (
            f"{said}. Check embedding.remote.model ({self.model!r}) and embedding.batch_size "
            f"({self.batch_size} texts per request: servers limit it)."
        )

    def _vectors(self, response: httpx.Response, expected: int) -> np.ndarray:
        """The vectors of an OpenAI embeddings response, checked, by their ``index``."""
        try:
            payload = response.json()
            rows = sorted(payload["data"], key=lambda item: item["index"])
            vectors = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as error:
            raise RemoteEmbeddingError(
                f"the server at {self.url} did not answer with OpenAI embeddings ({error!r}); "
                f"is {BASE_URL_SETTING} an embeddings server's /v1?"
            ) from error
        if vectors.ndim != 2 or len(vectors) != expected:
            raise RemoteEmbeddingError(
                f"the server at {self.url} sent {len(vectors)} vectors for {expected} texts"
            )
        identity = (str(payload.get("model") or self.model), vectors.shape[1])
        if self._identity is None:
            self._identity = identity
        elif identity != self._identity:
            # Vectors of two models must never share an index.
            raise RemoteEmbeddingError(
                f"the embeddings server at {self.url} now answers with {identity[0]} "
                f"({identity[1]} dimensions), not {self._identity[0]} ({self._identity[1]}) as "
                "before: it changed model. Run ingest again: an index is rebuilt for a new model."
            )
        return vectors

    def close(self) -> None:
        self._client.close()


def _detail(response: httpx.Response) -> str:
    """The error message of an OpenAI-shaped body (``{"error": {"message"}}``), of
    text-embeddings-inference's (``{"error": "..."}``), or the start of the text."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    if isinstance(error, str):
        return error
    return response.text[:300].strip() or response.reason_phrase
