"""The ASGI layers around the application: serving under a sub-path, the request body
limit, who may use the chat and Gradio's API (basic auth, API key, UI session, who may
frame it), and the security headers of every response."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.server.errors import error_response
from assistant.server.security import SESSION_COOKIE, Access

if TYPE_CHECKING:
    from assistant.settings import Settings

API_PATHS = ("/api/", "/v1/", "/docs", "/openapi.json")
# Gradio's own API: what the chat page calls, and what gradio_client would.
GRADIO_API_PATHS = ("/gradio_api/", "/monitoring")
# The pages a browser loads first (the chat, Gradio's config for <gradio-app>, the demo):
# they hand out the UI session cookie.
SESSION_PAGES = frozenset({"/", "/config", "/config/", "/embed-demo"})


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
    """Rejects API request bodies over ``max_bytes`` (or the limit ``by_path`` gives the
    request's path) with 413, whether or not they declare a Content-Length, before anything
    parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int, by_path: dict[str, int] | None = None):
        self.app, self.max_bytes, self.by_path = app, max_bytes, by_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope):
            await self.app(scope, receive, send)
            return
        max_bytes = self.by_path.get(route_path(scope), self.max_bytes)
        too_large = error_response(
            413, "request_too_large", f"The request body is over {max_bytes} bytes."
        )
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            await too_large(scope, receive, send)
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > max_bytes:
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
    """For everything but the API: who may use the chat and Gradio's API behind it
    (``security.Access``), the UI session cookie the chat's pages hand out when an API key
    is set and the chat has no basic auth, and the Content-Security-Policy frame-ancestors
    that says which sites may embed the UI."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        server = settings.server
        self.frame_ancestors = "frame-ancestors " + (" ".join(server.frame_ancestors) or "'none'")
        self.access = Access(settings)
        self.https = (server.public_url or "").startswith("https://")

    def _refused(self, gradio_api: bool) -> Response:
        headers = (
            {"WWW-Authenticate": 'Basic realm="News assistant", charset="UTF-8"'}
            if self.access.basic
            else None
        )
        message = (
            "Send a valid API key in X-API-Key, or use the chat's page."
            if gradio_api
            else "Sign in to use the chat."
        )
        return error_response(401, "authentication_error", message, headers)

    def _session_cookie(self, scope: Scope) -> str:
        sessions = self.access.sessions
        assert sessions is not None
        attributes = f"Path={scope.get('root_path', '')}/; Max-Age={sessions.ttl_s}; HttpOnly"
        if self.https or scope.get("scheme") == "https":
            # Also sent from a frame on another site; partitioned by that site.
            attributes += "; Secure; SameSite=None; Partitioned"
        else:
            attributes += "; SameSite=Lax"
        return f"{SESSION_COOKIE}={sessions.issue()}; {attributes}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_api_path(scope):
            await self.app(scope, receive, send)
            return
        headers, path = Headers(scope=scope), route_path(scope) or "/"
        gradio_api = path.startswith(GRADIO_API_PATHS)
        allowed = (
            self.access.may_call_gradio_api(headers)
            if gradio_api
            else self.access.may_use_ui(headers)
        )
        if not allowed:
            await self._refused(gradio_api)(scope, receive, send)
            return
        cookie = None
        if (
            self.access.sessions is not None
            and path in SESSION_PAGES
            and self.access.session_remaining_s(headers) < self.access.sessions.ttl_s / 2
        ):
            cookie = self._session_cookie(scope)

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers.append("Content-Security-Policy", self.frame_ancestors)
                if cookie:
                    response_headers.append("Set-Cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_policy)


class SecurityHeaders:
    """Headers every response carries, errors and preflights included: no MIME sniffing,
    and no Referer sent to other sites (article pages link out to the news sites)."""

    HEADERS = (
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
    )

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in self.HEADERS:
                    response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
