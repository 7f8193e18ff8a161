"""``POST /api/ask`` (JSON or Server-Sent Events), ``GET /api/health`` (liveness) and
``GET /api/ready`` (readiness)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from assistant.server.dependencies import (
    AssistantDep,
    ReadinessDep,
    SettingsDep,
    checked_question,
    require_api_key,
)
from assistant.server.generation import admitted, answer_events, final_answer
from assistant.server.public import public_answer, public_events
from assistant.server.schemas import BUSY_RESPONSE, AskRequest, Liveness, ReadinessReport
from assistant.server.sse import sse
from assistant.types import Answer, Event

router = APIRouter(dependencies=[Depends(require_api_key)])


async def ask_events(events: AsyncIterator[Event]) -> AsyncIterator[dict]:
    """The answer stream as Server-Sent Events named by their type, data the event."""
    async for event in events:
        yield sse(asdict(event), event.type)


@router.post(
    "/api/ask",
    response_model=Answer,
    responses={200: {"content": {"text/event-stream": {}}}, **BUSY_RESPONSE},
    summary="Answer a question from the articles, with citations",
)
async def ask(body: AskRequest, request: Request, assistant: AssistantDep, settings: SettingsDep):
    """The same JSON as `assistant ask --json`. With `stream: true`, Server-Sent Events
    instead, in this order: `sources`, `progress`…, `key_fact` (at most once: the answer's
    key fact read without the language model, status `checking`, seconds before the
    answer), `token`…, `citations` (with the key fact's final status), `done` (whose
    `result` is that JSON); `error` replaces the tokens when the language model fails. A question
    may wait for the model in a queue; 429 with `Retry-After` when the queue is full, the
    client has its share of questions running, or a rate limit is reached."""
    question = checked_question(body.question, "question", settings)
    history = [message.model_dump() for message in body.history]
    ticket = await admitted(request)
    events = public_events(
        assistant.stream(question, history=history, language=body.language, k=body.k)
    )
    if body.stream:
        return EventSourceResponse(ask_events(answer_events(request, ticket, events)))
    answer = await final_answer(request, ticket, events)
    return JSONResponse(public_answer(answer).to_dict())


@router.get("/api/health", response_model=Liveness, summary="Liveness: the server answers")
async def health() -> dict:
    """Always `{"status": "ok"}` while the process serves requests. It checks nothing, so
    it answers at once even while the language model loads; `/api/ready` says whether the
    index and the model are there."""
    return {"status": "ok"}


@router.get(
    "/api/ready",
    response_model=ReadinessReport,
    responses={503: {"model": ReadinessReport, "description": "Not ready"}},
    summary="Readiness: the index and the language model",
)
async def ready(readiness: ReadinessDep) -> JSONResponse:
    """200 when the index is open and holds documents, else 503; with the document and
    chunk counts and whether the language model answers (`assistant serve` loads the
    embedded model before it listens). The checks run in background threads, each result kept 2 s: a
    request waits at most 0.2 s, and otherwise gets the last result."""
    report = await readiness.report()
    return JSONResponse(report, status_code=200 if report["ready"] else 503)
