"""Access to a chat LLM through any OpenAI-compatible endpoint.

``make_llm(settings)`` is the one entry point: a configured ``llm.base_url`` is used as is;
without one, the embedded local model (``assistant.local_llm``) is started on first use.
Every failure surfaces as an ``LLMError`` whose ``kind`` callers can branch on and whose
message tells the user what to do.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal, Protocol

import httpx
import openai

if TYPE_CHECKING:
    from assistant.local_llm import LocalLLMServer
    from ingest.settings import Settings

ErrorKind = Literal["unavailable", "timeout", "auth", "context", "broken_stream", "bad_output"]

HEALTH_TIMEOUT_S = 3.0
START_HINT = "Start it with `assistant llm serve` or set ASSISTANT_LLM__BASE_URL."
CONTEXT_ERROR_MARKERS = ("context", "n_ctx", "too many tokens", "maximum length")
# A short unit repeated this often, covering at least half the answer, is a generation loop.
JUNK_MIN_REPEATS = 8
JUNK_MIN_SHARE = 0.5
REPEATED_UNIT = re.compile(rf"(.{{1,16}}?)\1{{{JUNK_MIN_REPEATS - 1},}}", re.DOTALL)


class LLMError(Exception):
    """A failure the user should read about; ``kind`` lets callers choose what to show."""

    def __init__(self, kind: ErrorKind, message: str, *, empty: bool = False):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.empty = empty  # the model returned no text at all


class LLM(Protocol):
    model: str
    # Whether a final assistant message in ``messages`` is continued rather than answered.
    continues_answer: bool

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int | None = None, stop: list[str] | None = None
    ) -> Iterator[str]:
        """Yield text deltas. Raises LLMError."""
        ...

    def complete_chat(
        self, messages: list[dict], *, max_tokens: int | None = None, stop: list[str] | None = None
    ) -> str: ...

    def health(self) -> bool: ...


class _TransientError(Exception):
    """A failure worth retrying (nothing was yielded yet); carries the error to raise if the
    retries run out."""

    def __init__(self, error: LLMError):
        super().__init__(error.message)
        self.error = error


def bad_output_reason(text: str) -> str | None:
    """Why ``text`` cannot be an answer, or None when it looks like text."""
    if not text.strip():
        return "an empty answer"
    meaningful = sum(1 for char in text if unicodedata.category(char)[0] in "LN")
    if meaningful == 0:
        return "no letters or digits"
    junk = sum(
        1
        for char in text
        if char == "\ufffd" or (unicodedata.category(char)[0] == "C" and char not in "\n\r\t")
    )
    if junk / len(text) > 0.1:
        return "control or undecodable characters"
    longest_loop = max((len(m.group(0)) for m in REPEATED_UNIT.finditer(text)), default=0)
    if longest_loop >= JUNK_MIN_SHARE * len(text.strip()):
        return "the same few characters repeated"
    return None


def error_detail(error: Exception) -> str:
    """The server's own words for an error, without the client's wrapping."""
    body = getattr(error, "body", None)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return str(error.__cause__ or error).rstrip(".")


class OpenAICompatibleLLM:
    """Chat with a model behind an OpenAI-compatible ``/v1`` endpoint (llama.cpp, vLLM,
    Ollama, OpenAI, the embedded server). Implements ``LLM``.

    Transient failures (connection errors, HTTP 429 and 5xx) are retried ``retries`` times
    with exponential backoff, but only before the first token is yielded, so a stream never
    repeats text.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "not-needed",
        temperature: float = 0.0,
        max_tokens: int = 200,
        timeout: float = 120.0,
        retries: int = 2,
        backoff_s: float = 0.5,
        continues_answer: bool = False,
    ):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.continues_answer = continues_answer
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.retries = retries
        self.backoff_s = backoff_s
        # Retries are ours: the client's own would retry after tokens were already yielded.
        self.client = openai.OpenAI(
            base_url=self.base_url, api_key=api_key, timeout=timeout, max_retries=0
        )

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int | None = None, stop: list[str] | None = None
    ) -> Iterator[str]:
        """Yield text deltas. Raises LLMError; ``bad_output`` comes after the deltas, once the
        whole answer is known, so a caller showing tokens should replace them with the error."""
        for attempt in range(self.retries + 1):
            yielded = False
            parts: list[str] = []
            try:
                for delta in self._stream_once(messages, max_tokens, stop):
                    yielded = True
                    parts.append(delta)
                    yield delta
                break
            except _TransientError as transient:
                if yielded or attempt == self.retries:
                    raise transient.error from transient.__cause__
                time.sleep(self.backoff_s * 2**attempt)
        text = "".join(parts)
        reason = bad_output_reason(text)
        if reason:
            raise LLMError(
                "bad_output",
                f"The language model {self.model} at {self.base_url} returned unusable output "
                f"({reason}). Retry the question; if it keeps happening, check that the model "
                "is an instruction-tuned chat model.",
                empty=not text.strip(),
            )

    def complete_chat(
        self, messages: list[dict], *, max_tokens: int | None = None, stop: list[str] | None = None
    ) -> str:
        return "".join(self.stream_chat(messages, max_tokens=max_tokens, stop=stop))

    def health(self) -> bool:
        """Whether the endpoint answers ``GET /models`` within a few seconds."""
        try:
            response = httpx.get(
                f"{self.base_url}/models",
                headers={"Authorization": f"Bearer {self.client.api_key}"},
                timeout=HEALTH_TIMEOUT_S,
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def _stream_once(
        self, messages: list[dict], max_tokens: int | None, stop: list[str] | None
    ) -> Iterator[str]:
        finished = False
        try:
            stream = self.client.chat.completions.create(
                model=self.model,
                messages=messages,
                temperature=self.temperature,
                max_tokens=max_tokens or self.max_tokens,
                stop=stop or None,
                stream=True,
            )
            with stream:
                for chunk in stream:
                    if not chunk.choices:
                        continue  # a usage-only chunk
                    choice = chunk.choices[0]
                    if choice.delta.content:
                        yield choice.delta.content
                    finished = finished or choice.finish_reason is not None
        except Exception as error:
            raise self._map_error(error) from error
        if not finished:
            raise LLMError(
                "broken_stream",
                f"The language model at {self.base_url} ended its stream without finishing "
                "the answer. Retry the question.",
            )

    def _map_error(self, error: Exception) -> LLMError | _TransientError:
        """Translate a client error into what the user should read (and whether to retry)."""
        where = f"The language model at {self.base_url}"
        if isinstance(error, openai.APITimeoutError | httpx.TimeoutException):
            return LLMError(
                "timeout",
                f"{where} did not answer within {self.timeout:g} s. It may be busy or "
                "overloaded: retry, or raise ASSISTANT_LLM__TIMEOUT.",
            )
        if isinstance(error, openai.APIConnectionError):
            return _TransientError(
                LLMError(
                    "unavailable", f"{where} is not reachable: {error_detail(error)}. {START_HINT}"
                )
            )
        if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
            return LLMError(
                "auth",
                f"{where} refused the API key (HTTP {error.status_code}: {error_detail(error)}). "
                "Set the right key in ASSISTANT_LLM__API_KEY.",
            )
        if isinstance(error, openai.APIError) and any(
            marker in str(error.message).lower() or marker in str(error.body).lower()
            for marker in CONTEXT_ERROR_MARKERS
        ):
            return LLMError(
                "context",
                f"The question and its passages do not fit the context of {self.model} "
                f"({error_detail(error)}). Send fewer passages (ASSISTANT_ANSWER__K) or raise "
                "ASSISTANT_LLM__CONTEXT_TOKENS.",
            )
        if isinstance(error, openai.RateLimitError | openai.InternalServerError):
            return _TransientError(
                LLMError(
                    "unavailable",
                    f"{where} kept failing (HTTP {error.status_code}: {error_detail(error)}) after "
                    f"{self.retries + 1} attempts. Check the server's log.",
                )
            )
        if isinstance(error, openai.APIStatusError):
            return LLMError(
                "unavailable",
                f"{where} rejected the request (HTTP {error.status_code}: {error_detail(error)}). "
                f"Check ASSISTANT_LLM__MODEL ({self.model}) and ASSISTANT_LLM__BASE_URL.",
            )
        if isinstance(error, openai.APIError | httpx.TransportError):
            return LLMError(
                "broken_stream",
                f"{where} broke off its answer mid-way ({error_detail(error)}). "
                "Retry the question.",
            )
        if isinstance(error, ValueError):  # undecodable JSON in the stream
            return LLMError(
                "bad_output",
                f"{where} sent a response that is not OpenAI-compatible ({error}). "
                "Check that ASSISTANT_LLM__BASE_URL ends in /v1.",
            )
        raise error


class EmbeddedLLM:
    """The embedded local model, reached through ``OpenAICompatibleLLM``. Loading it takes
    about 1 GB and a few seconds, so it starts on the first request (or on reading
    ``base_url``), never at construction. Implements ``LLM``."""

    def __init__(self, settings: Settings, server: LocalLLMServer):
        self.settings = settings
        self.server = server
        self.model = settings.llm.model
        # llama.cpp's server continues a final assistant message.
        self.continues_answer = settings.llm.continues_answer is not False
        self._client: OpenAICompatibleLLM | None = None

    @property
    def client(self) -> OpenAICompatibleLLM:
        """The client of the running server, starting it if needed; a restarted server may
        listen on another port."""
        base_url = self.server.base_url
        if self._client is None or self._client.base_url != base_url:
            self._client = llm_at(base_url, self.settings)
        return self._client

    @property
    def base_url(self) -> str:
        """The server's ``/v1`` URL, starting it if needed (for clients such as LlamaIndex)."""
        return self.client.base_url

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int | None = None, stop: list[str] | None = None
    ) -> Iterator[str]:
        # A generator, so a failing start surfaces while iterating, like any other error.
        yield from self.client.stream_chat(messages, max_tokens=max_tokens, stop=stop)

    def complete_chat(
        self, messages: list[dict], *, max_tokens: int | None = None, stop: list[str] | None = None
    ) -> str:
        return self.client.complete_chat(messages, max_tokens=max_tokens, stop=stop)

    def health(self) -> bool:
        """False while the server is not started: checking must not load the model."""
        return self.server.running and self.client.health()


def llm_at(base_url: str, settings: Settings) -> OpenAICompatibleLLM:
    llm = settings.llm
    return OpenAICompatibleLLM(
        base_url,
        llm.model,
        api_key=llm.api_key.get_secret_value(),
        temperature=llm.temperature,
        max_tokens=llm.max_tokens,
        timeout=llm.timeout,
        retries=llm.retries,
        continues_answer=bool(llm.continues_answer),
    )


def make_llm(settings: Settings) -> OpenAICompatibleLLM | EmbeddedLLM:
    if settings.llm.base_url:
        return llm_at(settings.llm.base_url, settings)
    from assistant.local_llm import LocalLLMServer  # xllamacpp loads only when needed

    return EmbeddedLLM(settings, LocalLLMServer(settings))
