"""``POST /api/ask`` (JSON or Server-Sent Events) and ``GET /api/health``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from assistant.server.dependencies import (
    AssistantDep,
    SettingsDep,
    checked_question,
    require_api_key,
)
from assistant.server.schemas import AskRequest
from assistant.server.sse import events_in_threadpool, sse
from assistant.types import Answer, Event

router = APIRouter(dependencies=[Depends(require_api_key)])


async def ask_events(events: Iterator[Event]) -> AsyncIterator[dict]:
    """The answer stream as Server-Sent Events named by their type, data the event."""
    async for event in events_in_threadpool(events):
        yield sse(asdict(event), event.type)


@router.post(
    "/api/ask",
    response_model=Answer,
    responses={200: {"content": {"text/event-stream": {}}}},
    summary="Answer a question from the articles, with citations",
)
async def ask(body: AskRequest, assistant: AssistantDep, settings: SettingsDep):
    """The same JSON as `assistant ask --json`. With `stream: true`, Server-Sent Events
    instead, in this order: `sources`, `token`…, `citations`, `done` (whose `result` is
    that JSON); `error` replaces the tokens when the language model fails."""
    question = checked_question(body.question, "question", settings)
    history = [message.model_dump() for message in body.history]
    options = {"history": history, "language": body.language, "k": body.k}
    if body.stream:
        return EventSourceResponse(ask_events(assistant.stream(question, **options)))
    answer = await run_in_threadpool(assistant.ask, question, **options)
    return JSONResponse(answer.to_dict())


@router.get("/api/health", summary="Index size and whether the language model answers")
def health(assistant: AssistantDep) -> dict:
    """The index's size, and whether the language model answers now."""
    return {"status": "ok", **assistant.health()}
