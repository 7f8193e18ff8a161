"""Server-Sent Events from the blocking answer stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from assistant.types import Event


async def events_in_threadpool(events: Iterator[Event]) -> AsyncIterator[Event]:
    """The blocking answer stream, advanced in worker threads so the event loop stays free;
    closed when the client goes away so the LLM request ends too."""
    try:
        async for event in iterate_in_threadpool(events):
            yield event
    finally:
        # anyio lets a cancelled next() finish first, so the generator is idle here.
        await run_in_threadpool(events.close)


def sse(data: dict | str, event: str | None = None) -> dict:
    """One event for ``EventSourceResponse``: ``data`` as JSON (a string as it is), named
    ``event`` when given."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return {"data": payload} if event is None else {"event": event, "data": payload}
