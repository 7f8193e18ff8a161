"""The OpenAI-compatible endpoint: ``POST /v1/chat/completions`` and ``GET /v1/models``,
so any OpenAI client can use the product as a model."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict

from fastapi import APIRouter, Depends, Request
from sse_starlette import EventSourceResponse

from assistant.server.dependencies import (
    AssistantDep,
    SettingsDep,
    checked_question,
    require_api_key,
)
from assistant.server.errors import ApiError
from assistant.server.generation import admitted, answer_events, final_answer
from assistant.server.public import public_answer, public_events
from assistant.server.schemas import BUSY_RESPONSE, PRODUCT_MODEL, ChatCompletionRequest
from assistant.server.sse import sse
from assistant.types import Answer, CitationsEvent, ErrorEvent, Event, SourcesEvent, TokenEvent

router = APIRouter(dependencies=[Depends(require_api_key)])


def completion_chunk(completion_id: str, delta: dict, finish_reason: str | None, **extra) -> dict:
    """One ``chat.completion.chunk`` event; ``extra`` adds the product's own fields."""
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


async def chat_completion_events(events: AsyncIterator[Event]) -> AsyncIterator[dict]:
    """The answer stream as OpenAI chat.completion.chunk events; the passages ride on the
    first chunk and the verified citations on the last, as extra fields."""
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    async with contextlib.aclosing(events):  # closed at once when an error ends it early
        async for event in events:
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
    """A whole answer as an OpenAI ``chat.completion``, with the product's fields."""
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


@router.post(
    "/v1/chat/completions",
    summary="OpenAI-compatible chat completions",
    responses=BUSY_RESPONSE,
)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, assistant: AssistantDep, settings: SettingsDep
):
    """The last message is the question, earlier user/assistant messages the history.
    Extra response fields: `sources`, `citations`, `refused`, `verified`,
    `unsupported_numbers`. 429 with `Retry-After` when the server is busy, as for
    `/api/ask`."""
    *earlier, last = body.messages
    if last.role != "user":
        raise ApiError(422, "invalid_request_error", "The last message must be a question.")
    question = checked_question(last.text, f"messages.{len(earlier)}.content", settings)
    history = [
        {"role": m.role, "content": m.text}
        for m in earlier
        if m.role in ("user", "assistant") and m.text
    ]
    ticket = await admitted(request)
    events = public_events(assistant.stream(question, history=history))
    if body.stream:
        return EventSourceResponse(chat_completion_events(answer_events(request, ticket, events)))
    answer = public_answer(await final_answer(request, ticket, events))
    if answer.error:
        raise ApiError(503, "service_unavailable", answer.error)
    return chat_completion(answer)


@router.get("/v1/models", summary="The product, as the one model it serves")
def models() -> dict:
    """The one model this endpoint serves: the product."""
    model = {"id": PRODUCT_MODEL, "object": "model", "created": 0, "owned_by": "news-assistant"}
    return {"object": "list", "data": [model]}
