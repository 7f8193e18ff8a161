"""What the routers get through FastAPI's dependency injection: the ``Assistant``, the
``Settings`` and the ``FeedbackStore`` that ``create_app`` put on ``app.state``, the API key
check, and the question rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from assistant.feedback import FeedbackStore
from assistant.questions import InvalidQuestion, check_question
from assistant.server.errors import ApiError
from assistant.server.readiness import Readiness
from assistant.server.security import same_secret
from assistant.server.uploads import Uploads
from assistant.service import Assistant
from assistant.settings import Settings

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
bearer = HTTPBearer(auto_error=False)


# The dependencies are coroutines: FastAPI runs a plain function in its thread pool, where
# /api/health would queue behind busy answers.


async def get_assistant(request: Request) -> Assistant:
    """The application's ``Assistant``."""
    return request.app.state.assistant


async def get_settings(request: Request) -> Settings:
    """The application's ``Settings``."""
    return request.app.state.settings


async def get_readiness(request: Request) -> Readiness:
    """The application's background readiness checks."""
    return request.app.state.readiness


async def get_feedback(request: Request) -> FeedbackStore:
    """Where the application keeps the answers' ratings."""
    return request.app.state.feedback


async def get_uploads(request: Request) -> Uploads:
    """The application's uploads to the live index (the library page's)."""
    return request.app.state.uploads


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ReadinessDep = Annotated[Readiness, Depends(get_readiness)]
FeedbackDep = Annotated[FeedbackStore, Depends(get_feedback)]
UploadsDep = Annotated[Uploads, Depends(get_uploads)]


async def require_api_key(
    settings: SettingsDep,
    key: str | None = Security(api_key_header),
    credentials: HTTPAuthorizationCredentials | None = Security(bearer),
) -> None:
    """With ``server.api_key`` set, the request must carry it in ``X-API-Key`` or, as
    OpenAI clients send their key, as a Bearer token."""
    expected = settings.server.api_key
    if expected is None:
        return
    given = key or (credentials.credentials if credentials else "")
    if not same_secret(given, expected.get_secret_value()):
        raise ApiError(401, "authentication_error", "Send a valid API key in X-API-Key.")


def checked_question(question: str, field: str, settings: Settings) -> str:
    """``question`` as ``assistant.questions.check_question`` accepts it; 422 naming
    ``field`` otherwise."""
    try:
        return check_question(question, settings.server.max_question_chars, field)
    except InvalidQuestion as error:
        raise ApiError(422, "invalid_request_error", str(error)) from error
