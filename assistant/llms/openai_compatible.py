"""Chat with any model behind an OpenAI-compatible ``/v1`` endpoint: llama.cpp, vLLM,
Ollama, OpenAI, or the embedded server (``assistant.llms.embedded``). Registered as the
``openai`` LLM backend."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import openai

from assistant.llms.base import LLMError

if TYPE_CHECKING:
    from assistant.settings import Settings

HEALTH_TIMEOUT_S = 3.0  # a readiness probe must answer quickly even when the server does not
START_HINT = "Start it with `assistant llm serve` or set ASSISTANT_LLM__BASE_URL."
CONTEXT_ERROR_MARKERS = ("context", "n_ctx", "too many tokens", "maximum length")
# A short unit repeated this often, covering at least half the answer, is a generation loop.
JUNK_MIN_REPEATS = 8
JUNK_MIN_SHARE = 0.5
REPEATED_UNIT = re.compile(rf"(.{{1,16}}?)\1{{{JUNK_MIN_REPEATS - 1},}}", re.DOTALL)
# One streamed chunk and the end, as the warm-up's canned reply (``OpenAICompatibleLLM.load``).
WARM_UP_STREAM = (
    b'data: {"id": "warm-up", "object": "chat.completion.chunk", "created": 0, '
    b'"model": "warm-up", "choices": [{"index": 0, "delta": {"content": "ok"}, '
    b'"finish_reason": "stop"}]}\n\ndata: [DONE]\n\n'
)


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

    def load(self) -> None:
        """Run the client's streaming path once against a canned reply in this process
        (``Assistant.warm_up``); nothing is sent to the endpoint. Its first use imports 500
        modules of the OpenAI client and builds their pydantic models, in pieces that held
        the GIL for up to 200 ms, on the first question otherwise."""
        canned = httpx.MockTransport(
            lambda request: httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=WARM_UP_STREAM
            )
        )
        with httpx.Client(transport=canned) as http:
            client = openai.OpenAI(
                base_url=self.base_url, api_key="warm-up", http_client=http, max_retries=0
            )
            messages = [{"role": "user", "content": "warm-up"}]
            with client.chat.completions.create(
                model=self.model, messages=messages, stream=True
            ) as stream:
                for _ in stream:
                    pass

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


def llm_at(base_url: str, settings: Settings) -> OpenAICompatibleLLM:
    """A client of ``base_url`` with the settings' model, key, sampling and timeouts."""
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


def make_openai_compatible(settings: Settings) -> OpenAICompatibleLLM:
    """The ``openai`` backend: the endpoint at ``llm.base_url``."""
    if not settings.llm.base_url:
        raise LLMError(
            "unavailable",
            "llm.backend = 'openai' needs llm.base_url (ASSISTANT_LLM__BASE_URL), the "
            "endpoint's /v1 URL.",
        )
    return llm_at(settings.llm.base_url, settings)
