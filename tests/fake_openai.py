"""A scripted OpenAI-compatible chat server for tests: real HTTP on 127.0.0.1, no model.

Usage::

    with FakeOpenAIServer(reply="Paris is the capital [1].") as server:
        settings = Settings(llm={"base_url": server.base_url})
        ...
        assert server.requests[0]["messages"][-1]["role"] == "user"

``reply``: a string (every request), a list of strings (one per request, the last one
repeated), or ``callable(messages) -> str``. Streaming requests get the reply in word-sized
SSE chunks in the OpenAI format, then ``data: [DONE]``; ``token_delay_s`` spaces them out.

``api_key``: when set, requests without ``Authorization: Bearer <api_key>`` get HTTP 401.

``server.requests``: the JSON body of every POST /v1/chat/completions, failed ones included
(count them to check retries). GET /v1/models and GET /health answer 200.

Failures, per server with ``failure=...`` (or by setting ``server.failure`` later) or per
request with ``server.fail_next("500", "500")`` (consumed one per request, before
``failure`` applies):

- ``"down"``: nothing listens on ``base_url`` (connection refused); per server only.
- ``"timeout"``: the server waits ``hang_s`` seconds before answering.
- ``"401"``: authentication error; ``"429"``, ``"500"``: transient errors.
- ``"context_length"``: HTTP 400 with llama.cpp's context-size error.
- ``"broken_stream"``: half the reply's chunks are sent, then the connection is cut.
- ``"garbage"``: the reply is replaced by control characters and a repeated junk token.
- ``"500_then_ok"``: the first ``fail_count`` requests get HTTP 500, later ones succeed.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Reply = str | list[str] | Callable[[list[dict]], str]

GARBAGE = "\x00\x07\ufffd" + "<|endoftext|>" * 12
CONTEXT_ERROR = {
    "code": 400,
    "message": "the request exceeds the available context size, try increasing it",
    "type": "exceed_context_size_error",
    "n_prompt_tokens": 5000,
    "n_ctx": 4096,
}
HTTP_ERRORS = {
    "401": (401, {"code": 401, "message": "Invalid API Key", "type": "authentication_error"}),
    "429": (429, {"code": 429, "message": "Too many requests", "type": "rate_limit_error"}),
    "500": (500, {"code": 500, "message": "Internal server error", "type": "server_error"}),
    "context_length": (400, CONTEXT_ERROR),
}


class StreamCut(Exception):
    """Raised inside a response body so the server drops the connection mid-answer."""


class FakeOpenAIServer:
    def __init__(
        self,
        reply: Reply = "This is a fake answer [1].",
        *,
        failure: str | None = None,
        fail_count: int = 1,
        hang_s: float = 30.0,
        token_delay_s: float = 0.0,
        model: str = "fake-model",
        api_key: str | None = None,
    ):
        self.reply = reply
        self.failure = failure
        self.fail_count = fail_count
        self.hang_s = hang_s
        self.token_delay_s = token_delay_s
        self.model = model
        self.api_key = api_key
        self.requests: list[dict] = []
        self._next_failures: list[str] = []
        self._replies_used = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def fail_next(self, *failures: str) -> None:
        """Make the next requests fail in these ways, one each, in order."""
        self._next_failures.extend(failures)

    def start(self) -> FakeOpenAIServer:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        if self.failure == "down":
            sock.close()  # the port was free a moment ago and nothing listens on it now
            return self
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/health", self._health, methods=["GET"]),
            ]
        )
        # The cut connection of "broken_stream" is logged as an error: keep test output quiet.
        config = uvicorn.Config(app, log_level="critical", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("FakeOpenAIServer did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _take_failure(self) -> str | None:
        if self._next_failures:
            return self._next_failures.pop(0)
        if self.failure == "500_then_ok":
            return "500" if len(self.requests) <= self.fail_count else None
        return self.failure

    def _reply_text(self, messages: list[dict]) -> str:
        if callable(self.reply):
            return self.reply(messages)
        if isinstance(self.reply, str):
            return self.reply
        text = self.reply[min(self._replies_used, len(self.reply) - 1)]
        self._replies_used += 1
        return text

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        failure = self._take_failure() if self._authorized(request) else "401"
        if failure == "timeout":
            await self._hang()
        if failure in HTTP_ERRORS:
            status, error = HTTP_ERRORS[failure]
            return JSONResponse({"error": error}, status_code=status)
        text = GARBAGE if failure == "garbage" else self._reply_text(body["messages"])
        if body.get("stream"):
            return StreamingResponse(
                self._sse(text, cut=failure == "broken_stream"), media_type="text/event-stream"
            )
        if failure == "broken_stream":
            return StreamingResponse(self._cut_json(), media_type="application/json")
        return JSONResponse(self._completion(text))

    async def _hang(self) -> None:
        # Polls so that stopping the server does not wait for the whole hang.
        deadline = time.monotonic() + self.hang_s
        while time.monotonic() < deadline and self._server and not self._server.should_exit:
            await asyncio.sleep(0.05)

    async def _sse(self, text: str, cut: bool) -> AsyncIterator[str]:
        pieces = re.findall(r"\s*\S+\s*|\s+", text)
        yield self._event({"role": "assistant", "content": ""}, None)
        for number, piece in enumerate(pieces):
            if cut and number >= len(pieces) // 2:
                raise StreamCut
            if self.token_delay_s:
                await asyncio.sleep(self.token_delay_s)
            yield self._event({"content": piece}, None)
        yield self._event({}, "stop")
        yield "data: [DONE]\n\n"

    async def _cut_json(self) -> AsyncIterator[str]:
        yield '{"id": "chatcmpl-fake", "choices": [{"mess'
        raise StreamCut

    def _event(self, delta: dict, finish_reason: str | None) -> str:
        chunk = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
        return f"data: {json.dumps(chunk)}\n\n"

    def _completion(self, text: str) -> dict:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }

    def _authorized(self, request: Request) -> bool:
        return self.api_key is None or (
            request.headers.get("authorization") == f"Bearer {self.api_key}"
        )

    async def _models(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"error": HTTP_ERRORS["401"][1]}, status_code=401)
        return JSONResponse(
            {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "fake"}]}
        )

    async def _health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})
