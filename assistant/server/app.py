"""The application factory: assembles the routers, the chat, the error handlers and the
middleware into one FastAPI application. What each part does lives in its module."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib.metadata import version
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.staticfiles import StaticFiles

from assistant.feedback import FeedbackStore
from assistant.server.admission import Admission
from assistant.server.chat import mount_ui
from assistant.server.errors import add_error_handlers
from assistant.server.middleware import BodySizeLimit, RootPath, SecurityHeaders, UIGuard
from assistant.server.readiness import Readiness
from assistant.server.routers import (
    ask,
    documents,
    embeddings,
    fallback,
    feedback,
    library,
    openai,
    pages,
)
from assistant.server.templates import STATIC_DIR
from assistant.server.uploads import Uploads

if TYPE_CHECKING:
    from assistant.service import Assistant
    from assistant.settings import Settings


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Starts the readiness checks while the server starts, so /api/ready knows soon."""
    app.state.readiness.start()
    yield


def create_app(assistant: Assistant, settings: Settings) -> FastAPI:
    """The product over HTTP: the JSON/SSE API under /api (answers and their ratings), the
    OpenAI-compatible endpoints under /v1 (chat completions, embeddings), the article pages,
    the library, the embedding demo, the API docs at /docs, and the chat at the root. The
    routers reach ``assistant``, ``settings``, the ratings' store and the uploads through
    ``app.state``."""
    server = settings.server
    app = FastAPI(
        lifespan=lifespan,
        title="News assistant",
        version=version("news-assistant"),
        summary="Cross-lingual question answering over a news corpus, with verified citations.",
        redoc_url=None,
        docs_url=None,  # pages.api_docs serves it from local files: FastAPI's loads a CDN
    )
    app.state.assistant = assistant
    app.state.settings = settings
    app.state.readiness = Readiness(assistant)
    app.state.admission = Admission(server)  # the API's and the chat's questions
    app.state.feedback = FeedbackStore.of(settings)  # the API's and the chat's ratings
    app.state.uploads = Uploads(assistant)  # the library page's, into the live index
    add_error_handlers(app)

    # The fallback after the API's routers.
    for module in (ask, feedback, openai, embeddings, documents, fallback, pages, library):
        app.include_router(module.router)
    # Swagger UI 5 (vendored from npm, assistant/static/swagger-ui/VERSION.txt): it renders
    # the OpenAPI 3.1 that FastAPI writes.
    swagger_ui = StaticFiles(directory=STATIC_DIR / "swagger-ui")
    app.mount("/docs-assets", swagger_ui, name="docs-assets")
    mount_ui(app, assistant, settings, app.state.admission, app.state.feedback)

    # Added last = runs first: CORS must also answer preflights and decorate errors, and
    # every layer must see the paths without the proxy's prefix.
    app.add_middleware(UIGuard, settings=settings)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=server.max_request_bytes,
        by_path={embeddings.PATH: server.max_embedding_request_bytes},
    )
    if server.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=server.allowed_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    if server.root_path:
        app.add_middleware(RootPath, root_path=server.root_path)
    app.add_middleware(SecurityHeaders)  # outermost: on every response, errors included
    return app
