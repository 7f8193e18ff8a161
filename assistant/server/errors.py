"""Errors as the API sends them: ``{"error": {"message", "type"}}``, the OpenAI shape, on
every path and status."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException


class ApiError(Exception):
    """An error answered with ``status`` and the OpenAI-style body; ``type_`` is the
    OpenAI error type (``invalid_request_error``, ``authentication_error``, ...);
    ``headers`` go with the response (``Retry-After`` of a 429)."""

    def __init__(self, status: int, type_: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.type, self.message = status, type_, message
        self.headers = headers


def error_response(
    status: int, type_: str, message: str, headers: dict | None = None
) -> JSONResponse:
    """The JSON response of an error."""
    return JSONResponse(
        {"error": {"message": message, "type": type_}}, status_code=status, headers=headers
    )


async def on_api_error(request: Request, error: ApiError) -> JSONResponse:
    """An ``ApiError`` as it was raised."""
    return error_response(error.status, error.type, error.message, error.headers)


async def on_http_error(request: Request, error: HTTPException) -> JSONResponse:
    """Starlette's and FastAPI's own HTTP errors (404, 405, ...) in the API's shape."""
    type_ = "not_found_error" if error.status_code == 404 else "invalid_request_error"
    return error_response(error.status_code, type_, str(error.detail), error.headers)


async def on_invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    """A request that does not fit its schema: 422, naming each field and its problem."""
    problems = [f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()]
    return error_response(422, "invalid_request_error", "; ".join(problems))


async def on_crash(request: Request, error: Exception) -> JSONResponse:
    """Anything else: 500, saying nothing of the server's inside."""
    return error_response(500, "server_error", "Internal server error.")


def add_error_handlers(app: FastAPI) -> None:
    """Answers every error of ``app`` in the API's JSON shape."""
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(Exception, on_crash)
