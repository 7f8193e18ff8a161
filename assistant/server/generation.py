"""An answer the API generates for one request: admitted by ``admission.Admission`` (429
with Retry-After when it is not), its events read off the event loop, and its slot given
back when the answer ends, is stopped, or its client goes away (which stops the model
within a token, ``assistant.answering``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

from starlette.requests import Request

from assistant.server.admission import Admission, Busy, Ticket, wait_for_slot
from assistant.server.errors import ApiError
from assistant.server.sse import events_in_threadpool
from assistant.types import Answer, DoneEvent, Event

DISCONNECT_POLL_S = 0.25  # how often a JSON answer looks whether its client is still there


def client_of(request: Request) -> str:
    """Who asks, for the per-client limits: the client's address (uvicorn takes it from
    X-Forwarded-For only behind a trusted proxy, ``--forwarded-allow-ips``)."""
    return request.client.host if request.client else "unknown"


async def admitted(request: Request) -> Ticket:
    """A slot for this request's answer, after waiting in the queue; 429 with Retry-After
    when it is not admitted. A request whose client leaves while it waits gives its place
    up (and gets a 503 that nobody reads)."""
    admission: Admission = request.app.state.admission
    with_api_key = request.app.state.settings.server.api_key is not None  # checked before
    try:
        ticket = admission.admit(client_of(request), with_api_key=with_api_key)
    except Busy as busy:
        headers = {"Retry-After": str(busy.retry_after_s)}
        raise ApiError(429, "rate_limit_error", busy.message, headers) from busy
    if not await wait_for_slot(admission, ticket, request.is_disconnected):
        raise ApiError(503, "service_unavailable", "The client left while its question waited.")
    return ticket


async def answer_events(
    request: Request, ticket: Ticket, events: Iterator[Event]
) -> AsyncIterator[Event]:
    """``events`` advanced in worker threads; the slot is released when they end or are
    closed (a client gone closes them)."""
    try:
        async for event in events_in_threadpool(events):
            yield event
    finally:
        request.app.state.admission.release(ticket)


async def final_answer(request: Request, ticket: Ticket, events: Iterator[Event]) -> Answer:
    """The ``Answer`` at the end of ``events``. When the client goes away first, the stream
    is closed (the model stops) and a 503 nobody reads is raised."""

    async def answer() -> Answer:
        async with contextlib.aclosing(answer_events(request, ticket, events)) as stream:
            async for event in stream:
                if isinstance(event, DoneEvent):
                    return event.result
        raise RuntimeError("the answer stream ended without its DoneEvent")

    task = asyncio.ensure_future(answer())
    try:
        while not (await asyncio.wait({task}, timeout=DISCONNECT_POLL_S))[0]:
            if await request.is_disconnected():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                raise ApiError(503, "service_unavailable", "The client left before the answer.")
        return task.result()
    finally:
        # Also when the task was cancelled before its stream started (and could release).
        request.app.state.admission.release(ticket)
