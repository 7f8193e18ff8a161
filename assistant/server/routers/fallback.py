"""Unknown paths under /api and /v1 get JSON errors: without this router, the chat
mounted at / would answer them with its HTML. Included after every API router; behind
the API key like them, so that without it nothing tells which endpoints exist."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.routing import Match

from assistant.server.dependencies import require_api_key
from assistant.server.errors import ApiError

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_api_key)])


@router.api_route("/api/{rest:path}", methods=ALL_METHODS)
@router.api_route("/v1/{rest:path}", methods=ALL_METHODS)
def unknown_api_path(request: Request) -> None:
    """405 when another method of the path exists, else 404."""
    if any(route.matches(request.scope)[0] == Match.PARTIAL for route in request.app.routes):
        raise ApiError(405, "invalid_request_error", f"{request.method} is not allowed here.")
    raise ApiError(404, "not_found_error", f"No such endpoint: {request.url.path}")
