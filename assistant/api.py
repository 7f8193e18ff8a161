"""The product over HTTP, in one FastAPI application: the JSON/SSE API under /api, an
OpenAI-compatible endpoint under /v1 (so any OpenAI client can use the product as a model),
the article viewer, the embedding demo, and the chat UI mounted at the root."""

from __future__ import annotations

import base64
import binascii
import html
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Literal

import gradio
from fastapi import APIRouter, Depends, FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from assistant.questions import InvalidQuestion, check_question
from assistant.types import (
    Answer,
    CitationsEvent,
    ErrorEvent,
    Event,
    SourcesEvent,
    TokenEvent,
)
from assistant.ui import STATIC_DIR, mount_ui, public_root, render_document_page

if TYPE_CHECKING:
    from assistant.service import Assistant
    from assistant.settings import Settings

PRODUCT_MODEL = "news-assistant"  # the name OpenAI clients use for the product itself
API_PATHS = ("/api/", "/v1/", "/docs", "/openapi.json")
GRADIO_JS = Path(gradio.__file__).parent / "templates" / "frontend" / "gradio.js"
EMBED_DEMO = Template((STATIC_DIR / "embed-demo.html").read_text(encoding="utf-8"))
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class ApiError(Exception):
    def __init__(self, status: int, type_: str, message: str):
        super().__init__(message)
        self.status, self.type, self.message = status, type_, message


def error_response(status: int, type_: str, message: str, headers: dict | None = None):
    return JSONResponse(
        {"error": {"message": message, "type": type_}}, status_code=status, headers=headers
    )


class HistoryMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    history: list[HistoryMessage] = Field(
        default_factory=list, description="Earlier turns, oldest first, for follow-up questions."
    )
    language: str | None = Field(None, max_length=16, description="ISO 639-1 code.")
    k: int | None = Field(None, ge=1, le=50, description="Passages sent to the LLM.")
    stream: bool = Field(
        False, description="Answer with Server-Sent Events: sources, token…, citations, done."
    )


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str = ""


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[ContentPart] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content if part.type == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    # Sampling fields (temperature, max_tokens, ...) are accepted and ignored: the product's
    # settings decide how its model answers.
    model_config = ConfigDict(extra="allow")

    model: str = PRODUCT_MODEL
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


class RootPath:
    """Serves the application under ``root_path`` behind a reverse proxy, whether the proxy
    strips that prefix from request paths or passes it on (routing drops it if present)."""

    def __init__(self, app: ASGIApp, root_path: str):
        self.app, self.root_path = app, root_path.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "root_path": self.root_path}
        await self.app(scope, receive, send)


def route_path(scope: Scope) -> str:
    """The request path inside this application, without the proxy's or parent's prefix."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def is_api_path(scope: Scope) -> bool:
    return route_path(scope).startswith(API_PATHS)


class BodySizeLimit:
    """Rejects API request bodies over ``max_bytes`` with 413, whether or not they declare
    a Content-Length, before anything parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope):
            await self.app(scope, receive, send)
            return
        too_large = error_response(
            413, "request_too_large", f"The request body is over {self.max_bytes} bytes."
        )
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await too_large(scope, receive, send)
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await too_large(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # sse-starlette listens here for the disconnect
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


class UIGuard:
    """For everything but the API: optional HTTP basic auth, and the Content-Security-Policy
    frame-ancestors that says which sites may embed the UI."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        server = settings.server
        self.frame_ancestors = "frame-ancestors " + (" ".join(server.frame_ancestors) or "'none'")
        self.credentials = (
            f"{server.ui_username}:{server.ui_password.get_secret_value()}".encode()
            if server.ui_username and server.ui_password
            else None
        )

    def authorized(self, scope: Scope) -> bool:
        scheme, _, encoded = Headers(scope=scope).get("authorization", "").partition(" ")
        try:
            given = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            return False
        return scheme.lower() == "basic" and secrets.compare_digest(given, self.credentials)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_api_path(scope):
            await self.app(scope, receive, send)
            return
        if self.credentials and not self.authorized(scope):
            challenge = {"WWW-Authenticate": 'Basic realm="News assistant", charset="UTF-8"'}
            response = error_response(
                401, "authentication_error", "Sign in to use the chat.", challenge
            )
            await response(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(
                    "Content-Security-Policy", self.frame_ancestors
                )
            await send(message)

        await self.app(scope, receive, send_with_policy)


async def events_in_threadpool(events: Iterator[Event]) -> AsyncIterator[Event]:
    """The blocking answer stream, advanced in worker threads so the event loop stays free;
    closed when the client goes away so the LLM request ends too."""
    try:
        async for event in iterate_in_threadpool(events):
            yield event
    finally:
        # anyio lets a cancelled next() finish first, so the generator is idle here.
        await run_in_threadpool(events.close)


def sse(data: dict | str, event: str | None = None) -> dict:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return {"data": payload} if event is None else {"event": event, "data": payload}


async def ask_events(events: Iterator[Event]) -> AsyncIterator[dict]:
    async for event in events_in_threadpool(events):
        yield sse(asdict(event), event.type)


def completion_chunk(completion_id: str, delta: dict, finish_reason: str | None, **extra) -> dict:
    return sse(
        {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": PRODUCT_MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            **extra,
        }
    )


async def chat_completion_events(events: Iterator[Event]) -> AsyncIterator[dict]:
    """The answer stream as OpenAI chat.completion.chunk events; the passages ride on the
    first chunk and the verified citations on the last, as extra fields."""
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    async for event in events_in_threadpool(events):
        match event:
            case SourcesEvent(passages=passages):
                sources = [p.to_dict() for p in passages]
                yield completion_chunk(
                    completion_id, {"role": "assistant", "content": ""}, None, sources=sources
                )
            case TokenEvent(text=text):
                yield completion_chunk(completion_id, {"content": text}, None)
            case ErrorEvent(message=message, kind=kind):
                # OpenAI clients raise on a chunk carrying "error".
                yield sse({"error": {"message": message, "type": kind}})
                return
            case CitationsEvent():
                yield completion_chunk(
                    completion_id,
                    {},
                    "stop",
                    answer=event.answer,
                    citations=[asdict(c) for c in event.citations],
                    refused=event.refused,
                    verified=event.verified,
                    unsupported_numbers=event.unsupported_numbers,
                )
    yield sse("[DONE]")


def chat_completion(answer: Answer) -> dict:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": PRODUCT_MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.answer},
                "finish_reason": "stop",
            }
        ],
        "sources": [p.to_dict() for p in answer.passages],
        "citations": [asdict(c) for c in answer.citations],
        "refused": answer.refused,
        "verified": answer.verified,
        "unsupported_numbers": answer.unsupported_numbers,
    }


def add_error_handlers(app: FastAPI) -> None:
    async def on_api_error(request: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.type, error.message)

    async def on_http_error(request: Request, error: HTTPException) -> JSONResponse:
        type_ = "not_found_error" if error.status_code == 404 else "invalid_request_error"
        return error_response(error.status_code, type_, str(error.detail), error.headers)

    async def on_invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()
        ]
        return error_response(422, "invalid_request_error", "; ".join(problems))

    async def on_crash(request: Request, error: Exception) -> JSONResponse:
        return error_response(500, "server_error", "Internal server error.")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(Exception, on_crash)


def create_app(assistant: Assistant, settings: Settings) -> FastAPI:
    server = settings.server
    app = FastAPI(
        title="News assistant",
        version=version("news-assistant"),
        summary="Cross-lingual question answering over a news corpus, with verified citations.",
        redoc_url=None,
        docs_url=None,  # served below from local files: FastAPI's default page loads a CDN
    )
    add_error_handlers(app)

    api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
    bearer = HTTPBearer(auto_error=False)

    def require_api_key(
        key: str | None = Security(api_key_header),
        credentials: HTTPAuthorizationCredentials | None = Security(bearer),
    ) -> None:
        if server.api_key is None:
            return
        # OpenAI clients send their api_key as a Bearer token.
        given = key or (credentials.credentials if credentials else "")
        if not secrets.compare_digest(given.encode(), server.api_key.get_secret_value().encode()):
            raise ApiError(401, "authentication_error", "Send a valid API key in X-API-Key.")

    def valid_question(question: str, field: str) -> str:
        try:
            return check_question(question, server.max_question_chars, field)
        except InvalidQuestion as error:
            raise ApiError(422, "invalid_request_error", str(error)) from error

    api = APIRouter(dependencies=[Depends(require_api_key)])

    @api.post(
        "/api/ask",
        response_model=Answer,
        responses={200: {"content": {"text/event-stream": {}}}},
        summary="Answer a question from the articles, with citations",
    )
    async def ask(body: AskRequest):
        """The same JSON as `assistant ask --json`. With `stream: true`, Server-Sent Events
        instead, in this order: `sources`, `token`…, `citations`, `done` (whose `result` is
        that JSON); `error` replaces the tokens when the language model fails."""
        question = valid_question(body.question, "question")
        history = [message.model_dump() for message in body.history]
        options = {"history": history, "language": body.language, "k": body.k}
        if body.stream:
            return EventSourceResponse(ask_events(assistant.stream(question, **options)))
        answer = await run_in_threadpool(assistant.ask, question, **options)
        return JSONResponse(answer.to_dict())

    @api.post("/v1/chat/completions", summary="OpenAI-compatible chat completions")
    async def chat_completions(body: ChatCompletionRequest):
        """The last message is the question, earlier user/assistant messages the history.
        Extra response fields: `sources`, `citations`, `refused`, `verified`,
        `unsupported_numbers`."""
        *earlier, last = body.messages
        if last.role != "user":
            raise ApiError(422, "invalid_request_error", "The last message must be a question.")
        question = valid_question(last.text, f"messages.{len(earlier)}.content")
        history = [
            {"role": m.role, "content": m.text}
            for m in earlier
            if m.role in ("user", "assistant") and m.text
        ]
        if body.stream:
            events = assistant.stream(question, history=history)
            return EventSourceResponse(chat_completion_events(events))
        answer = await run_in_threadpool(assistant.ask, question, history=history)
        if answer.error:
            raise ApiError(503, "service_unavailable", answer.error)
        return chat_completion(answer)

    @api.get("/v1/models", summary="The product, as the one model it serves")
    def models() -> dict:
        model = {"id": PRODUCT_MODEL, "object": "model", "created": 0, "owned_by": "news-assistant"}
        return {"object": "list", "data": [model]}

    @api.get("/api/health", summary="Index size and whether the language model answers")
    def health() -> dict:
        return {"status": "ok", **assistant.health()}

    @api.get(
        "/api/documents/{doc_id:path}",
        summary="A cleaned article and its metadata",
        responses={404: {"description": "No such document"}},
    )
    def document(doc_id: str) -> dict:
        found = assistant.document(doc_id)
        if found is None:
            raise ApiError(404, "not_found_error", f"No document {doc_id!r}.")
        return asdict(found)

    app.include_router(api)

    @app.api_route("/api/{rest:path}", methods=ALL_METHODS, include_in_schema=False)
    @app.api_route("/v1/{rest:path}", methods=ALL_METHODS, include_in_schema=False)
    def unknown_api_path(request: Request) -> None:
        # Without this, the chat mounted at / would answer unknown API paths with its HTML.
        if any(route.matches(request.scope)[0] == Match.PARTIAL for route in app.routes):
            raise ApiError(405, "invalid_request_error", f"{request.method} is not allowed here.")
        raise ApiError(404, "not_found_error", f"No such endpoint: {request.url.path}")

    @app.get("/documents/{doc_id:path}", include_in_schema=False)
    def document_page(doc_id: str, start: int | None = None, end: int | None = None):
        found = assistant.document(doc_id)
        if found is None:
            raise ApiError(404, "not_found_error", f"No document {doc_id!r}.")
        # The page has no script of its own; forbid any that might slip into it.
        headers = {"Content-Security-Policy": "script-src 'none'"}
        return HTMLResponse(render_document_page(found, start, end), headers=headers)

    @app.get("/embed-demo", include_in_schema=False)
    def embed_demo(request: Request) -> HTMLResponse:
        return HTMLResponse(EMBED_DEMO.substitute(base=html.escape(public_root(request))))

    @app.get("/docs", include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        root = public_root(request)
        return get_swagger_ui_html(
            openapi_url=f"{root}openapi.json",
            title="News assistant API",
            swagger_js_url=f"{root}docs-assets/swagger-ui-bundle.js",
            swagger_css_url=f"{root}docs-assets/swagger-ui.css",
            swagger_favicon_url=f"{root}docs-assets/favicon-32x32.png",
        )

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/gradio.js", include_in_schema=False)
    def gradio_js() -> FileResponse:
        # Gradio's web-component loader; it imports ./assets/..., which Gradio serves.
        return FileResponse(GRADIO_JS, media_type="text/javascript")

    mount_ui(app, assistant, settings)

    # Added last = runs first: CORS must also answer preflights and decorate errors, and
    # every layer must see the paths without the proxy's prefix.
    app.add_middleware(UIGuard, settings=settings)
    app.add_middleware(BodySizeLimit, max_bytes=server.max_request_bytes)
    if server.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=server.allowed_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    if server.root_path:
        app.add_middleware(RootPath, root_path=server.root_path)
    return app
