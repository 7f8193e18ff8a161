"""Readiness without blocking: the index and the language model are checked in background
threads, each result kept a short while, so ``GET /api/ready`` never waits on Chroma or on
an LLM that is starting (the embedded model takes seconds to load) for longer than
``WAIT_S``. ``GET /api/health`` (liveness) checks nothing at all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.service import Assistant

logger = logging.getLogger(__name__)

WAIT_S = 0.2  # the longest a request waits for a check it started
MAX_AGE_S = 2.0  # a result younger than this is answered without checking again
STALE_S = 30.0  # a result older than this (its check hanging) counts as unknown


@dataclass(frozen=True)
class Result:
    """What one check found: ``value`` when it succeeded, else ``failed``; ``at`` is
    ``time.monotonic()`` when it finished."""

    value: Any
    failed: bool
    at: float

    def age_s(self) -> float:
        """Seconds since the check finished."""
        return time.monotonic() - self.at


class BackgroundCheck:
    """One probe, run in its own daemon thread, never twice at once, never in a request.
    A request starts it when the last result is older than ``max_age_s`` and waits for it
    at most ``wait_s``; a probe that hangs only keeps its thread."""

    def __init__(self, name: str, probe: Callable[[], Any], max_age_s: float = MAX_AGE_S):
        self.name, self.probe, self.max_age_s = name, probe, max_age_s
        self.runs = 0  # how many times the probe was started
        self._lock = threading.Lock()
        self._last: Result | None = None
        self._running: Future | None = None

    @property
    def last(self) -> Result | None:
        """The latest result, however old; None before the first check finished."""
        return self._last

    def start(self) -> Future | None:
        """Starts the probe unless the last result is fresh or a probe is running; returns
        the running probe's future (None when the result is fresh)."""
        with self._lock:
            if self._last is not None and self._last.age_s() < self.max_age_s:
                return None
            if self._running is None:
                self._running = Future()
                self.runs += 1
                thread = threading.Thread(
                    target=self._run, args=(self._running,), name=f"ready-{self.name}", daemon=True
                )
                thread.start()
            return self._running

    def _run(self, future: Future) -> None:
        try:
            result = Result(self.probe(), failed=False, at=time.monotonic())
        except Exception:
            logger.warning("Readiness check %r failed", self.name, exc_info=True)
            result = Result(None, failed=True, at=time.monotonic())
        with self._lock:
            self._last, self._running = result, None
        future.set_result(result)

    async def result(self, wait_s: float = WAIT_S) -> Result | None:
        """The latest result after waiting at most ``wait_s`` for a fresh one; None when no
        check has finished yet or the latest is older than ``STALE_S``."""
        running = self.start()
        if running is not None and not running.done():
            loop = asyncio.get_running_loop()
            waiter = loop.create_future()

            def wake(_: Future) -> None:
                with contextlib.suppress(RuntimeError):  # that request's loop is gone
                    loop.call_soon_threadsafe(lambda: waiter.done() or waiter.set_result(None))

            running.add_done_callback(wake)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, wait_s)
        last = self._last
        return last if last is not None and last.age_s() < STALE_S else None


class Readiness:
    """The two checks behind ``/api/ready``: the index (open, and how many documents and
    chunks it holds) and the language model (whether it answers now; the embedded one is
    not loaded by checking)."""

    def __init__(self, assistant: Assistant, max_age_s: float = MAX_AGE_S):
        self.assistant = assistant
        self.index = BackgroundCheck("index", self._index, max_age_s)
        self.llm = BackgroundCheck("llm", self._llm, max_age_s)

    def _index(self) -> dict:
        store = self.assistant.store
        return {"documents": len(store.document_ids()), "chunks": store.count()}

    def _llm(self) -> dict:
        llm = self.assistant.llm
        return {"model": llm.model, "loaded": bool(llm.health())}

    def start(self) -> None:
        """Starts both checks in the background (at application startup)."""
        self.index.start()
        self.llm.start()

    async def report(self, wait_s: float = WAIT_S) -> dict:
        """``ready`` (the index is open and holds documents), the index's and the model's
        state, and how many seconds ago each was checked; unknown values are None."""
        index, llm = await asyncio.gather(self.index.result(wait_s), self.llm.result(wait_s))
        index_ok = index is not None and not index.failed
        llm_ok = llm is not None and not llm.failed
        documents = index.value["documents"] if index_ok else None
        return {
            "ready": bool(documents),
            "index": {
                "open": None if index is None else index_ok,
                "documents": documents,
                "chunks": index.value["chunks"] if index_ok else None,
                "checked_s_ago": None if index is None else round(index.age_s(), 3),
            },
            "llm": {
                "model": llm.value["model"] if llm_ok else self.assistant.settings.llm.model,
                "loaded": None if llm is None else (llm_ok and llm.value["loaded"]),
                "checked_s_ago": None if llm is None else round(llm.age_s(), 3),
            },
        }
