"""The users of the load benchmark (``benchmarks.load`` runs Locust on this file): each asks
the gold questions in turn through ``POST /api/ask`` with Server-Sent Events, as the chat's
embedders do, and waits a little between questions.

Besides Locust's own request row, each answer reports a "first token" row (the time to the
first ``token`` event: what a user waits for) and each deliberate refusal a "429 busy" row,
counted apart from failures. Settings come from the environment that ``benchmarks.load``
sets: ``LOAD_QUESTIONS`` (a JSON list) and ``LOAD_API_KEY``.
"""

from __future__ import annotations

import itertools
import json
import os
import time

from locust import HttpUser, between, events, task

QUESTIONS = json.loads(os.environ["LOAD_QUESTIONS"])
API_KEY = os.environ.get("LOAD_API_KEY", "")
USER_NUMBERS = itertools.count()  # staggers where each user starts in the questions


class Reader(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        start = next(USER_NUMBERS) % len(QUESTIONS)
        self.questions = itertools.cycle(QUESTIONS[start:] + QUESTIONS[:start])

    @task
    def ask(self) -> None:
        question = next(self.questions)
        headers = {"X-API-Key": API_KEY} if API_KEY else {}
        started = time.perf_counter()
        with self.client.post(
            "/api/ask", json={"question": question, "stream": True}, headers=headers,
            stream=True, catch_response=True, name="ask (whole answer)",
        ) as response:  # fmt: skip
            if response.status_code == 429:
                response.success()  # the admission control working, not an error
                report("429 busy", started, 0)
                return
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            first_token, error = None, None
            event = None
            for line in response.iter_lines():
                line = line.decode() if isinstance(line, bytes) else line
                if line.startswith("event:"):
                    event = line.partition(":")[2].strip()
                if event == "token" and first_token is None:
                    first_token = time.perf_counter()
                if event == "error" and line.startswith("data:"):
                    error = line.partition(":")[2].strip()
            if error:
                response.failure(f"error event: {error[:200]}")
            elif first_token is None:
                response.failure("no token event")
            else:
                report("first token", started, 0, at=first_token)


def report(name: str, started: float, length: int, at: float | None = None) -> None:
    events.request.fire(
        request_type="SSE", name=name, response_time=((at or time.perf_counter()) - started) * 1000,
        response_length=length, exception=None, context={},
    )  # fmt: skip
