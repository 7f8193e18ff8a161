"""The ASGI layers around the application: serving under a sub-path, the request body
limit, and the chat's access rules (basic auth, who may frame it)."""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import TYPE_CHECKING

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.server.errors import error_response

if TYPE_CHECKING:
    from assistant.settings import Settings

API_PATHS = ("/api/", "/v1/", "/docs", "/openapi.json")


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
    """Whether the request is for the JSON API (or its documentation), not the chat."""
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
        """Whether the request carries the configured basic-auth credentials."""
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
