"""Admission control for answers, the server's one scarce resource (the model): how many
are generated at once, a bounded queue for the others, a cap per client, and rate limits
per client and per API key. Everything that asks the model (``/api/ask``,
``/v1/chat/completions``, the chat) goes through one ``Admission``.

The API waits in the event loop and the chat in Gradio's worker threads, so ``Admission``
is thread-safe and a ticket's slot is a ``threading.Event`` that either side polls."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from assistant.settings import ServerSettings

FIRST_GUESS_S = 10.0  # an answer's duration until one was measured
SMOOTHING = 0.3  # weight of the latest answer's duration in the running estimate
MAX_RETRY_AFTER_S = 600  # a client told to wait longer gives up: say at most ten minutes
MAX_BUCKETS = 10_000  # rate-limit buckets kept; full ones (idle clients) are dropped
POLL_S = 0.05  # how often an API request waiting for a slot looks again
API_KEY = "api-key"  # the API key's bucket: one key is configured (server.api_key)

BusyReason = Literal["queue_full", "client_cap", "rate_limited"]


def whole_seconds(seconds: float) -> int:
    """``seconds`` as a Retry-After: whole, at least 1, at most ``MAX_RETRY_AFTER_S``."""
    return min(MAX_RETRY_AFTER_S, max(1, math.ceil(seconds)))


class Busy(Exception):
    """A question not admitted: why (``reason``), what to tell the asker, and after how
    many seconds to try again."""

    def __init__(self, reason: BusyReason, message: str, retry_after_s: int):
        super().__init__(message)
        self.reason, self.message, self.retry_after_s = reason, message, retry_after_s


class TokenBucket:
    """``per_minute`` tokens, refilled evenly over a minute; a request takes one."""

    def __init__(self, per_minute: int, now: float):
        self.capacity, self.rate = float(per_minute), per_minute / 60.0
        self.tokens, self.at = self.capacity, now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now

    def wait_s(self, now: float) -> float:
        """Seconds until a token is there; 0 when one is."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        """Takes a token (``wait_s`` said there is one)."""
        self._refill(now)
        self.tokens -= 1

    def full(self, now: float) -> bool:
        """Whether the bucket is full: its client asked nothing for a while."""
        self._refill(now)
        return self.tokens >= self.capacity


class RateLimit:
    """A token bucket per key (client address, API key); ``per_minute`` 0 = no limit."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.buckets: dict[str, TokenBucket] = {}

    def _bucket(self, key: str, now: float) -> TokenBucket:
        if key not in self.buckets and len(self.buckets) >= MAX_BUCKETS:
            self.buckets = {k: b for k, b in self.buckets.items() if not b.full(now)}
        return self.buckets.setdefault(key, TokenBucket(self.per_minute, now))

    def wait_s(self, key: str, now: float) -> float:
        """Seconds until ``key`` may ask again; 0 when it may now."""
        return self._bucket(key, now).wait_s(now) if self.per_minute else 0.0

    def take(self, key: str, now: float) -> None:
        """Takes one of ``key``'s tokens."""
        if self.per_minute:
            self._bucket(key, now).take(now)


@dataclass(eq=False)
class Ticket:
    """One admitted question: waiting until ``granted`` is set, then running until
    released. ``client`` is who asked (an IP address)."""

    client: str
    arrived: float
    granted: threading.Event = field(default_factory=threading.Event)
    started: float = 0.0


class Admission:
    """Admits questions (``admit``), hands the slots out (``concurrent_answers`` at once)
    client by client, the least recently served first, and takes them back (``release``).
    The queue holds at most ``max_pending`` tickets, a client at most
    ``max_answers_per_client`` running or waiting."""

    def __init__(self, settings: ServerSettings):
        self.slots = settings.concurrent_answers
        self.max_pending = settings.max_pending
        self.per_client = settings.max_answers_per_client
        self.client_rate = RateLimit(settings.client_requests_per_minute)
        self.api_key_rate = RateLimit(settings.api_key_requests_per_minute)
        self.duration_s = FIRST_GUESS_S  # smoothed duration of an answer
        self._lock = threading.Lock()
        self._waiting: list[Ticket] = []
        self._running: list[Ticket] = []
        self._held: Counter[str] = Counter()  # tickets per client, waiting or running
        self._last_served: dict[str, float] = {}  # clients holding tickets: last grant

    def admit(self, client: str, with_api_key: bool = False) -> Ticket:
        """A ticket for a question of ``client`` (asked with the API key, which has its own
        rate limit, when ``with_api_key``): granted at once when a slot is free, else
        waiting. Raises ``Busy`` when the client holds its share, the queue is full, or a
        rate limit is reached (checked in that order: a refused question uses no quota)."""
        now = time.monotonic()
        with self._lock:
            if self._held[client] >= self.per_client:
                raise Busy(
                    "client_cap",
                    f"You already have {self._held[client]} questions being answered or "
                    "waiting. Ask again when one of them is answered.",
                    whole_seconds(self.duration_s),
                )
            if len(self._running) >= self.slots and len(self._waiting) >= self.max_pending:
                retry_s = whole_seconds(self.duration_s * (len(self._waiting) + 1) / self.slots)
                raise Busy(
                    "queue_full",
                    "The assistant is busy answering other questions. "
                    f"Try again in about {retry_s} s.",
                    retry_s,
                )
            wait_s = self.client_rate.wait_s(client, now)
            if with_api_key:
                wait_s = max(wait_s, self.api_key_rate.wait_s(API_KEY, now))
            if wait_s:
                retry_s = whole_seconds(wait_s)
                raise Busy(
                    "rate_limited", f"Too many questions: try again in {retry_s} s.", retry_s
                )
            self.client_rate.take(client, now)
            if with_api_key:
                self.api_key_rate.take(API_KEY, now)
            ticket = Ticket(client, arrived=now)
            self._held[client] += 1
            self._waiting.append(ticket)
            self._grant(now)
        return ticket

    def _order(self, ticket: Ticket) -> tuple:
        # Clients with fewer answers running first, then the least recently served, then
        # the earliest question.
        running = sum(t.client == ticket.client for t in self._running)
        return running, self._last_served.get(ticket.client, -math.inf), ticket.arrived

    def _grant(self, now: float) -> None:
        while self._waiting and len(self._running) < self.slots:
            ticket = min(self._waiting, key=self._order)
            self._waiting.remove(ticket)
            self._running.append(ticket)
            ticket.started = self._last_served[ticket.client] = now
            ticket.granted.set()

    def release(self, ticket: Ticket) -> None:
        """The question is answered, stopped or abandoned: its slot or its place in the
        queue goes to the next. Releasing twice does nothing."""
        now = time.monotonic()
        with self._lock:
            if ticket in self._running:
                self._running.remove(ticket)
                took = now - ticket.started
                self.duration_s += SMOOTHING * (took - self.duration_s)
            elif ticket in self._waiting:
                self._waiting.remove(ticket)
            else:
                return
            self._held[ticket.client] -= 1
            if not self._held[ticket.client]:  # a client that comes back is new again
                del self._held[ticket.client]
                self._last_served.pop(ticket.client, None)  # none when it never ran
            self._grant(now)

    def position(self, ticket: Ticket) -> int:
        """Where ``ticket`` stands in the queue: 1 = next; 0 once it runs (or is gone)."""
        with self._lock:
            if ticket not in self._waiting:
                return 0
            return sorted(self._waiting, key=self._order).index(ticket) + 1

    def expected_wait_s(self, position: int) -> int:
        """About how many seconds a ticket at ``position`` waits for its slot."""
        return math.ceil(self.duration_s * position / self.slots)


async def wait_for_slot(
    admission: Admission, ticket: Ticket, gone: Callable[[], Awaitable[bool]]
) -> bool:
    """Waits in the event loop until ``ticket`` runs (True), or until ``gone()`` says the
    asker left (False: the ticket is released, its place goes to the next)."""
    while not ticket.granted.is_set():
        if await gone():
            admission.release(ticket)
            return False
        await asyncio.sleep(POLL_S)
    return True
