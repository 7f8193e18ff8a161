"""The OpenAI-compatible endpoint: ``POST /v1/chat/completions`` and ``GET /v1/models``,
so any OpenAI client can use the product as a model."""

from __future__ import annotations

import contextlib
import re
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
from assistant.server.schemas import (
    BUSY_RESPONSE,
    PRODUCT_MODEL,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessage,
)
from assistant.server.sse import sse
from assistant.types import (
    Answer,
    CitationsEvent,
    ErrorEvent,
    Event,
    KeyFactEvent,
    SourcesEvent,
    TokenEvent,
)

router = APIRouter(dependencies=[Depends(require_api_key)])

# Chinese, Japanese and Korean script, written without spaces between words.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# The approximate tokens of ``schemas.Usage``: a CJK character, a word, a punctuation mark.
APPROXIMATE_TOKEN = re.compile(f"[{CJK}]|[^\\W{CJK}]+|[^\\w\\s]")


def approximate_tokens(text: str) -> int:
    """How many tokens ``text`` is, as ``schemas.Usage`` approximates them."""
    return len(APPROXIMATE_TOKEN.findall(text))


def usage(messages: list[ChatMessage], answer: str) -> dict:
    """The ``usage`` of an answer to ``messages`` (``schemas.Usage``)."""
    prompt = sum(approximate_tokens(message.text) for message in messages)
    completion = approximate_tokens(answer)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def completion_chunk(completion_id: str, choices: list[dict], **extra) -> dict:
    """One ``chat.completion.chunk`` event; ``extra`` adds ``usage`` or the product's own
    fields."""
    return sse(
        {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": PRODUCT_MODEL,
            "choices": choices,
            **extra,
        }
    )


def delta_choice(delta: dict, finish_reason: str | None = None) -> list[dict]:
    """A chunk's ``choices``: the one choice, with its ``delta``."""
    return [{"index": 0, "delta": delta, "finish_reason": finish_reason}]


async def chat_completion_events(
    events: AsyncIterator[Event], messages: list[ChatMessage], include_usage: bool
) -> AsyncIterator[dict]:
    """The answer stream as OpenAI chat.completion.chunk events; the passages ride on the
    first chunk and the verified citations on the last, as extra fields. The contents add
    up to the answer's text: the answer is checked before any of it is sent. With
    ``include_usage``, a chunk with ``usage`` and no choices follows, as OpenAI's does."""
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    content = ""
    async with contextlib.aclosing(events):  # closed at once when an error ends it early
        async for event in events:
            match event:
                case SourcesEvent(passages=passages):
                    sources = [p.to_dict() for p in passages]
                    yield completion_chunk(
                        completion_id,
                        delta_choice({"role": "assistant", "content": ""}),
                        sources=sources,
                    )
                case KeyFactEvent(key_fact=key_fact):
                    # An empty delta: the contents still add up to the answer alone.
                    yield completion_chunk(
                        completion_id, delta_choice({}), key_fact=asdict(key_fact)
                    )
                case TokenEvent(text=text):
                    content += text
                    yield completion_chunk(completion_id, delta_choice({"content": text}))
                case ErrorEvent(message=message, kind=kind):
                    # OpenAI clients raise on a chunk carrying "error".
                    yield sse({"error": {"message": message, "type": kind}})
                    return
                case CitationsEvent():
                    yield completion_chunk(
                        completion_id,
                        delta_choice({}, "stop"),
                        answer=event.answer,
                        citations=[asdict(c) for c in event.citations],
                        refused=event.refused,
                        verified=event.verified,
                        unsupported_numbers=event.unsupported_numbers,
                        key_fact=asdict(event.key_fact) if event.key_fact else None,
                    )
    if include_usage:
        yield completion_chunk(completion_id, [], usage=usage(messages, content))
    yield sse("[DONE]")


def chat_completion(answer: Answer, messages: list[ChatMessage]) -> dict:
    """A whole answer as an OpenAI ``chat.completion`` (``schemas.ChatCompletion``)."""
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
        "usage": usage(messages, answer.answer),
        "sources": [p.to_dict() for p in answer.passages],
        "citations": [asdict(c) for c in answer.citations],
        "refused": answer.refused,
        "verified": answer.verified,
        "unsupported_numbers": answer.unsupported_numbers,
        "key_fact": asdict(answer.key_fact) if answer.key_fact else None,
    }


@router.post(
    "/v1/chat/completions",
    summary="OpenAI-compatible chat completions",
    response_model=ChatCompletion,
    responses={200: {"content": {"text/event-stream": {}}}, **BUSY_RESPONSE},
)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, assistant: AssistantDep, settings: SettingsDep
):
    """The last message is the question, earlier user/assistant messages the history.
    Extension fields of the response: `sources`, `citations`, `refused`, `verified`,
    `unsupported_numbers`, `key_fact`. `usage` is approximated (see its schema). With
    `stream: true`, the chunks' contents add up to exactly the answer's text; `sources`
    ride on the first chunk, `key_fact` on a chunk with an empty delta as soon as the
    extractive reader has it (seconds before the answer), the other extension fields on
    the one with `finish_reason`, and
    `stream_options.include_usage` adds a last chunk with `usage`, as OpenAI's. 429 with
    `Retry-After` when the server is busy, as for `/api/ask`."""
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
        include_usage = body.stream_options is not None and body.stream_options.include_usage
        chunks = chat_completion_events(
            answer_events(request, ticket, events), body.messages, include_usage
        )
        return EventSourceResponse(chunks)
    answer = public_answer(await final_answer(request, ticket, events))
    if answer.error:
        raise ApiError(503, "service_unavailable", answer.error)
    return chat_completion(answer, body.messages)


@router.get("/v1/models", summary="The product, as the one model it serves")
def models() -> dict:
    """The one model this endpoint serves: the product."""
    model = {"id": PRODUCT_MODEL, "object": "model", "created": 0, "owned_by": "news-assistant"}
    return {"object": "list", "data": [model]}
